//! Benchmark (issue 6): what the consoles and the hall devices ask of a loaded database — the evaluations
//! list with each filter and 200 pages deep, the dashboard's cuts, and how soon a hall device hears of a
//! record its window completed.
//!
//! `cargo bench -p hcp --bench pages -- --database-url URL [--org 510899] [--year 2026]` on a database loaded
//! with `hcp demo --records N` (the demo registers a device at window W-510899-C01).
#![forbid(unsafe_code)]

#[macro_use]
mod support;

use std::time::{Duration, Instant};

use clap::Parser;
use hcp_app::App;
use hcp_app::browse::EvaluationQuery;
use hcp_app::policy::Role;
use hcp_app::stats::By;
use hcp_domain::period::Period;
use support::{median, principal};

#[derive(Parser)]
struct Cli {
    #[arg(long)]
    database_url: String,
    #[arg(long, default_value = "510899")]
    org: String,
    #[arg(long, default_value = "2026")]
    year: String,
    /// The data key file of the database (the device part registers records, which seals applicant data).
    #[arg(long)]
    data_keys_file: Option<std::path::PathBuf>,
    #[arg(long, default_value_t = 10)]
    runs: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse_from(std::env::args().filter(|a| a != "--bench"));
    let store = hcp_store::Store::connect(&cli.database_url, 4).await?;
    store.migrate().await?;
    let keys = match &cli.data_keys_file {
        Some(p) => hcp_app::keys::Keys::load(hcp_app::keys::KeySource::File(p.clone()), false)?,
        None => hcp_app::keys::Keys::generate(),
    };
    let app = App::new(store.clone(), "http://localhost", keys);
    let org = store.org_by_code(&cli.org).await?.ok_or_else(|| anyhow::anyhow!("no org {}", cli.org))?;
    let who = principal(Role::CenterAdmin, &org);
    let n = cli.runs;
    println!("{} first evaluations in {}", store.count_evaluations().await?, hcp_store::redact_url(&cli.database_url));
    println!("| request | median |");
    println!("| --- | ---: |");
    let year = Some(cli.year.clone());
    let q = |f: &dyn Fn(&mut EvaluationQuery)| {
        let mut q = EvaluationQuery { period: year.clone(), ..EvaluationQuery::default() };
        f(&mut q);
        q
    };
    let cases: Vec<(&str, EvaluationQuery)> = vec![
        ("evaluations, this month (the default page)", EvaluationQuery::default()),
        ("evaluations, the year", q(&|_| {})),
        ("… very dissatisfied", q(&|q| q.level = Some("very_dissatisfied".into()))),
        ("… one staff member", q(&|q| q.staff = Some("QS0001".into()))),
        ("… one township", q(&|q| q.org = Some("510899101".into()))),
        ("… hotline channel", q(&|q| q.channel = Some("hotline".into()))),
        ("… defaults", q(&|q| q.default = Some("yes".into()))),
        ("… invalidated", q(&|q| q.invalidated = Some("yes".into()))),
    ];
    for (name, query) in &cases {
        let ms = time!(n, app.browse_evaluations(&who, query).await?);
        println!("| {name} | {ms:.1} ms |");
    }
    let mut query = q(&|_| {});
    let mut pages = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let page = app.browse_evaluations(&who, &query).await?;
        pages.push(t.elapsed().as_secs_f64() * 1000.0);
        match page.next_before {
            Some(b) => query.before = Some(b),
            None => break,
        }
    }
    println!("| evaluations, the year, each of {} pages in turn | {:.1} ms |", pages.len(), median(pages));
    let ms = time!(n, app.public_bad_reviews(None).await?);
    println!("| public portal, handled bad reviews, first page | {ms:.1} ms |");
    let mut before = None;
    let mut pages = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let (_, next) = app.public_bad_reviews(before).await?;
        pages.push(t.elapsed().as_secs_f64() * 1000.0);
        match next {
            Some(b) => before = Some(b),
            None => break,
        }
    }
    println!("| public portal, each of {} pages in turn | {:.1} ms |", pages.len(), median(pages));
    let p = Period::parse(&cli.year).ok_or_else(|| anyhow::anyhow!("bad year"))?;
    let month = Period::month_of(p.to.min(hcp_domain::calendar::business_date(app.now())));
    let dashboard = |p: Period| {
        let app = &app;
        let who = &who;
        let org = cli.org.clone();
        async move {
            app.cut(who, &org, p, None).await?;
            app.cut(who, &org, p, Some(By::Unit)).await?;
            app.cut(who, &org, p, Some(By::Channel)).await?;
            let mut m = Period::month_of(p.to);
            for _ in 0..12 {
                app.cut(who, &org, m, None).await?;
                m = m.previous();
            }
            Ok::<_, hcp_app::AppError>(())
        }
    };
    let ms = time!(n, dashboard(month).await?);
    println!("| dashboard, a month (15 cuts) | {ms:.1} ms |");
    let ms = time!(n, dashboard(p).await?);
    println!("| dashboard, the year (15 cuts) | {ms:.1} ms |");

    // A hall device: a record completed at its window reaches the waiting poll.
    if cli.data_keys_file.is_some() {
        let actor = hcp_app::audit::Actor::operator();
        let code = format!("BENCH-{}", std::process::id());
        let (_, secret) = app.register_device(&actor, &code, "bench", "W-510899-C01").await?;
        let key = app.create_api_key(&format!("bench-{}", std::process::id()), None).await?;
        let client = app.authenticate(&key).await?;
        let mut after = i64::MAX;
        let mut lat = Vec::new();
        for i in 0..20 {
            let now = chrono::Utc::now();
            let input = hcp_app::records::RecordInput {
                record_number: format!("{code}-{i}"),
                item_code: "QS010001".into(),
                org_code: "510899D01".into(),
                window_code: Some("W-510899-C01".into()),
                staff_number: Some("QS0001".into()),
                applicant_kind: "person".into(),
                applicant_name: "张三".into(),
                applicant_id_number: "11010519491231002X".into(),
                applicant_mobile: "13812345678".into(),
                received_at: (now - chrono::Duration::minutes(30)).to_rfc3339(),
                completed_at: Some(now.to_rfc3339()),
                platform_code: None,
            };
            let poll = {
                let app = app.clone();
                let secret = secret.clone();
                let start_after = if after == i64::MAX { 0 } else { after };
                tokio::spawn(async move {
                    let r = app.device_next(&secret, start_after, Duration::from_secs(10)).await;
                    (Instant::now(), r)
                })
            };
            tokio::time::sleep(Duration::from_millis(200)).await;
            let t = Instant::now();
            let id = match app.register_record(&client, &input).await? {
                hcp_app::records::Registration::Created(r) | hcp_app::records::Registration::Repeated(r) => r.id,
            };
            let (heard, r) = poll.await?;
            if r?.is_some_and(|w| w.record.id == id) {
                lat.push(heard.duration_since(t).as_secs_f64() * 1000.0);
            }
            after = id;
        }
        println!(
            "| hall device: registration with completion → the device's poll answers ({} of 20) | {:.1} ms |",
            lat.len(),
            median(lat)
        );
    }
    Ok(())
}
