//! Benchmark: measures durable evaluation submissions per second over HTTP on loopback, with p50/p99
//! latency, and in the same run an endpoint that only parses the same JSON. The ratio of the two is the
//! figure that matters (issue 2 §12). The server under test is the real `hcp serve`, in its own process.
//!
//! `cargo bench -p hcp --bench submit -- [--database-url URL] [--seconds S] [--concurrency C]`
//! (the parse-only server is this same executable, started again with `parse-server`).
#![forbid(unsafe_code)]

#[path = "support/seed.rs"]
mod seed;

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use clap::{Parser, Subcommand};
use hcp_store::Store;
use hcp_web::controllers::evaluations::CreateBody;
use hcp_web::extract::ApiJson;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    #[command(flatten)]
    submit: SubmitArgs,
}

/// Run the benchmark: seed, start both servers, load each, print the figures.
#[derive(clap::Args)]
struct SubmitArgs {
    /// Where to put the data (default: a new SQLite file in a temp dir). Must be empty.
    #[arg(long)]
    database_url: Option<String>,
    /// Concurrent requests in flight.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Seconds of load per endpoint.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Records to seed (each takes one evaluation; must cover seconds × rate).
    #[arg(long, default_value_t = 300_000)]
    records: usize,
    /// Serve with `--no-metrics`, to measure what counting requests costs (docs/performance.md).
    #[arg(long)]
    no_metrics: bool,
}

#[derive(Subcommand)]
enum Cmd {
    /// (internal) A server that only parses the evaluation JSON and answers 201.
    ParseServer,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `cargo bench` adds `--bench`; it means nothing here.
    let cli = Cli::parse_from(std::env::args().filter(|a| a != "--bench"));
    match cli.command {
        Some(Cmd::ParseServer) => parse_server().await,
        None => {
            let SubmitArgs { database_url, concurrency, seconds, records, no_metrics } = cli.submit;
            let dir = std::env::temp_dir().join(format!("hcp-bench-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let url = database_url.unwrap_or_else(|| format!("sqlite://{}", dir.join("bench.db").display()));
            let keys = dir.join("bench.keys");
            std::fs::write(&keys, hcp_crypto::Keyring::generate_text())?;
            let result = submit(&url, &keys, concurrency, Duration::from_secs(seconds), records, no_metrics).await;
            let _ = std::fs::remove_dir_all(&dir);
            result
        }
    }
}

async fn parse_server() -> anyhow::Result<()> {
    let router = Router::new().route(
        "/api/v1/evaluations",
        post(|ApiJson(body): ApiJson<CreateBody>| async move {
            (StatusCode::CREATED, serde_json::json!({ "id": 1, "level": body.level }).to_string())
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router).await?;
    Ok(())
}

async fn spawn(program: &std::path::Path, args: &[&str]) -> anyhow::Result<(Child, String)> {
    let mut child = Command::new(program)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("start {}", program.display()))?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    while let Some(line) = lines.next_line().await? {
        if let Some(addr) = line.strip_prefix("listening on ") {
            return Ok((child, addr.to_string()));
        }
    }
    bail!("{} did not start", program.display())
}

struct Figures {
    requests: usize,
    errors: usize,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
}

impl Figures {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

/// About one in 33 is a bad review (the demo county's share), which also opens a case and queues the staff
/// member's notice in the same transaction.
fn body(token: &str, i: usize) -> String {
    if i.is_multiple_of(33) {
        return serde_json::json!({
            "token": token,
            "level": "very_dissatisfied",
            "indicator_ids": ["S511"],
            "staff_indicator_ids": ["P51"],
            "comment": "来回跑了三次,材料要求前后不一致。",
            "channel": "hall_device",
        })
        .to_string();
    }
    serde_json::json!({
        "token": token,
        "level": "satisfied",
        "indicator_ids": ["S211", "S212"],
        "staff_indicator_ids": ["P21", "P22"],
        "comment": "窗口工作人员服务热情,办理速度快,材料一次告知清楚,等候时间短,环境整洁,非常感谢!",
        "channel": "hall_device",
    })
    .to_string()
}

/// Sends one submission per token with `concurrency` in flight, for at most `duration`.
async fn load(base: &str, tokens: Arc<Vec<String>>, concurrency: usize, duration: Duration) -> anyhow::Result<Figures> {
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, tokens, next) = (http.clone(), tokens.clone(), next.clone());
        let url = format!("{base}/api/v1/evaluations");
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= tokens.len() || start.elapsed() >= duration {
                    break;
                }
                let t0 = Instant::now();
                let res =
                    http.post(&url).header("content-type", "application/json").body(body(&tokens[i], i)).send().await;
                match res {
                    Ok(r) if r.status() == 201 => {
                        let _ = r.bytes().await;
                        lat.push(t0.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await?;
        all.extend(lat);
        errors += e;
    }
    let elapsed = start.elapsed();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1))).copied().unwrap_or_default()
    };
    Ok(Figures { requests: all.len(), errors, elapsed, p50: pct(0.50), p99: pct(0.99) })
}

async fn submit(
    url: &str,
    keys: &std::path::Path,
    concurrency: usize,
    duration: Duration,
    records: usize,
    no_metrics: bool,
) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let hcp = std::path::PathBuf::from(env!("CARGO_BIN_EXE_hcp"));
    eprintln!("seeding {records} records into {} …", hcp_store::redact_url(url));
    let tokens = Arc::new(seed::seed(url, keys, records).await?);

    let (parse_child, parse_base) = spawn(&exe, &["parse-server"]).await?;
    let warm: Vec<String> = tokens.iter().take(2000).cloned().collect();
    load(&parse_base, Arc::new(warm), concurrency, Duration::from_secs(1)).await?;
    let parse = load(&parse_base, tokens.clone(), concurrency, duration).await?;
    drop(parse_child);

    let keys = keys.to_str().context("key path")?;
    let mut args =
        vec!["serve", "--listen", "127.0.0.1:0", "--no-jobs", "--database-url", url, "--data-keys-file", keys];
    if no_metrics {
        args.push("--no-metrics");
    }
    let (server, base) = spawn(&hcp, &args).await?;
    let durable = load(&base, tokens.clone(), concurrency, duration).await?;
    drop(server);

    let store = Store::connect(url, 2).await?;
    let stored = store.count_evaluations().await?;
    anyhow::ensure!(stored as usize == durable.requests, "{stored} stored but {} acknowledged", durable.requests);

    println!("| endpoint | requests | errors | req/s | p50 | p99 |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (name, f) in [("parse only (baseline)", &parse), ("durable evaluation (201 after commit)", &durable)] {
        println!(
            "| {name} | {} | {} | {:.0} | {:.2} ms | {:.2} ms |",
            f.requests,
            f.errors,
            f.rate(),
            f.p50.as_secs_f64() * 1e3,
            f.p99.as_secs_f64() * 1e3
        );
    }
    println!(
        "\nbackend {}, concurrency {concurrency}: durable / parse-only = {:.0}%",
        store.backend().name(),
        100.0 * durable.rate() / parse.rate()
    );
    Ok(())
}
