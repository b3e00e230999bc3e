//! Benchmark of the exchange with the upper level (issue 13): the evaluation writer's rate with the upstream
//! queue on and off, in one run, and the items per second pushed to a local mock upper level that opens
//! every SM2 envelope (real HTTP on loopback, on the same two cores).
//!
//! `cargo bench -p hcp --bench exchange -- [--records N] [--seconds S] [--postgres postgres://…/test]`
//! (SQLite temp files by default; with `--postgres`, fresh databases are created on that server).
#![forbid(unsafe_code)]

#[path = "support/seed.rs"]
mod seed;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use hcp_app::App;
use sqlx::{Connection, Executor};

#[derive(Parser)]
struct Cli {
    /// Records seeded per writer run (each takes one evaluation).
    #[arg(long, default_value_t = 120_000)]
    records: usize,
    /// Seconds of load per writer run.
    #[arg(long, default_value_t = 8)]
    seconds: u64,
    /// Evaluations in flight.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// A PostgreSQL URL whose server gets fresh databases (default: SQLite files).
    #[arg(long)]
    postgres: Option<String>,
}

struct Db {
    url: String,
    keys: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

async fn fresh(cli: &Cli) -> anyhow::Result<Db> {
    let dir = tempfile::tempdir()?;
    let keys = dir.path().join("bench.keys");
    std::fs::write(&keys, hcp_crypto::Keyring::generate_text())?;
    let url = match &cli.postgres {
        None => format!("sqlite://{}", dir.path().join("bench.db").display()),
        Some(base) => {
            let name = format!("hcp_bench_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::PgConnection::connect(base).await?;
            conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await?;
            let (prefix, _) = base.rsplit_once('/').ok_or_else(|| anyhow::anyhow!("a URL with a database"))?;
            format!("{prefix}/{name}")
        }
    };
    Ok(Db { url, keys, _dir: dir })
}

async fn open(db: &Db) -> anyhow::Result<App> {
    let store = hcp_store::Store::connect(&db.url, 16).await?;
    store.migrate().await?;
    let keys = hcp_app::keys::Keys::load(hcp_app::keys::KeySource::File(db.keys.clone()), false)?;
    Ok(App::new(store, "http://bench", keys))
}

/// Evaluations per second through the writer (the use case, in process), `concurrency` in flight.
async fn writer_rate(cli: &Cli, queue: bool) -> anyhow::Result<(f64, Db)> {
    let db = fresh(cli).await?;
    let tokens = Arc::new(seed::seed(&db.url, &db.keys, cli.records).await?);
    let app = open(&db).await?;
    hcp_store::upstream::measure_writer_without_queue(!queue);
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let until = Instant::now() + Duration::from_secs(cli.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..cli.concurrency {
        let (app, tokens, next, done) = (app.clone(), tokens.clone(), next.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < until {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(token) = tokens.get(i) else { break };
                let input = hcp_app::evaluations::EvaluationInput {
                    token: token.clone(),
                    level: if i % 33 == 0 { "very_dissatisfied".into() } else { "very_satisfied".into() },
                    indicator_ids: if i % 33 == 0 { vec!["S511".into()] } else { vec!["S111".into()] },
                    staff_indicator_ids: vec![],
                    comment: Some("办事很方便,工作人员态度好".into()),
                    channel: "hall_device".into(),
                };
                if app.submit_evaluation(&input).await.is_ok() {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let rate = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    hcp_store::upstream::measure_writer_without_queue(false);
    app.store.close().await;
    Ok((rate, db))
}

/// A mock upper level that opens each envelope with its SM2 key and accepts every item.
async fn mock() -> anyhow::Result<(String, String, Arc<AtomicUsize>)> {
    let secret = hcp_crypto::Sm2SecretKey::generate();
    let public = secret.public_key().to_hex();
    let received = Arc::new(AtomicUsize::new(0));
    let count = received.clone();
    let router = axum::Router::new().route(
        "/hcp/{kind}",
        axum::routing::post(move |axum::extract::Path(kind): axum::extract::Path<String>, body: String| {
            let (secret, count) = (secret.clone(), count.clone());
            async move {
                let env: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                let params = env["params"].as_str().unwrap_or_default().to_string();
                let items = tokio::task::spawn_blocking(move || {
                    let _ = secret.decrypt_hex(env["sign"].as_str().unwrap_or_default());
                    secret
                        .decrypt_hex(&params)
                        .ok()
                        .and_then(|p| serde_json::from_slice::<Vec<serde_json::Value>>(&p).ok())
                })
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
                count.fetch_add(items.len(), Ordering::Relaxed);
                let number = if kind == "service" { "serviceNumber" } else { "assessNumber" };
                let results: Vec<serde_json::Value> = items
                    .iter()
                    .map(|i| {
                        serde_json::json!({ "projectNo": i["projectNo"], number: i[number],
                            "updateNumber": i.get("updateNumber"), "code": "200" })
                    })
                    .collect();
                axum::Json(serde_json::json!({ "code": "200", "results": results }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hcp", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok((url, public, received))
}

/// Items per second pushed from a database whose queue holds its records and their evaluations.
async fn push_rate(db: &Db) -> anyhow::Result<(usize, f64)> {
    let (url, public, received) = mock().await?;
    let config = hcp_app::exchange::UpstreamConfig {
        url,
        app_mark: "BENCH".into(),
        app_word: "bench-word".into(),
        public_key: hcp_crypto::Sm2PublicKey::from_hex(&public)?,
        data_source: "165".into(),
        area_code: Some("510899000000".into()),
        timeout: Duration::from_secs(30),
        retry_max: Duration::from_secs(5),
        pull_every: Duration::from_secs(300),
        county_key: None,
        reply_key: None,
    };
    let app = open(db).await?.with_upstream(Some(config), hcp_domain::upstream::Codes::builtin());
    let later = app.now() + chrono::Duration::days(30);
    let started = Instant::now();
    loop {
        let r = app.push_upstream(later).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        if r.accepted == 0 && r.retried == 0 {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let n = received.load(Ordering::Relaxed);
    Ok((n, n as f64 / secs))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse_from(std::env::args().filter(|a| a != "--bench"));
    let backend = if cli.postgres.is_some() { "PostgreSQL" } else { "SQLite" };
    let mut on = Vec::new();
    let mut off = Vec::new();
    let mut last = None;
    // Alternating, so a drift of the machine touches both alike.
    for round in 0..2 {
        let (rate, _) = writer_rate(&cli, false).await?;
        off.push(rate);
        let (rate, db) = writer_rate(&cli, true).await?;
        on.push(rate);
        eprintln!("round {round}: queue off {:.0}/s, on {:.0}/s", off[round], on[round]);
        last = Some(db);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!("| {backend} | writer, queue off | {:.0} evaluations/s |", mean(&off));
    println!(
        "| {backend} | writer, queue on | {:.0} evaluations/s ({:+.1}%) |",
        mean(&on),
        (mean(&on) / mean(&off) - 1.0) * 100.0
    );
    let db = last.expect("two rounds ran");
    let (n, rate) = push_rate(&db).await?;
    println!("| {backend} | push to a local mock, SM2 envelopes, 100 items each | {rate:.0} items/s ({n} items) |");
    Ok(())
}
