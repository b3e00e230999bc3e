//! Benchmark (issue 7 §7): statistics on a loaded database — a county's monthly ranking of all units, a
//! year's report, a year broken down by staff and by item — read from the rollups, with the same counts
//! computed by scanning the evaluations beside them.
//!
//! `cargo bench -p hcp --bench results -- --database-url URL [--org 510899] [--month 2026-10] [--year 2026]`
//! on a database loaded with `hcp demo --records N`.
#![forbid(unsafe_code)]

#[macro_use]
mod support;

use clap::Parser;
use hcp_app::App;
use hcp_app::policy::Role;
use hcp_app::stats::By;
use hcp_domain::period::Period;
use hcp_domain::ranking::Metric;
use support::principal;

#[derive(Parser)]
struct Cli {
    #[arg(long)]
    database_url: String,
    #[arg(long, default_value = "510899")]
    org: String,
    #[arg(long, default_value = "2026-10")]
    month: String,
    #[arg(long, default_value = "2026")]
    year: String,
    /// Timed runs per figure (after one warm-up).
    #[arg(long, default_value_t = 10)]
    runs: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `cargo bench` adds `--bench`; it means nothing here.
    let cli = Cli::parse_from(std::env::args().filter(|a| a != "--bench"));
    let store = hcp_store::Store::connect(&cli.database_url, 4).await?;
    store.migrate().await?;
    let evaluations = store.count_evaluations().await?;
    let app = App::new(store.clone(), "http://localhost", hcp_app::keys::Keys::generate());
    let org = store.org_by_code(&cli.org).await?.ok_or_else(|| anyhow::anyhow!("no org {}", cli.org))?;
    let who = principal(Role::CountyOffice, &org);
    let month = Period::parse(&cli.month).ok_or_else(|| anyhow::anyhow!("bad month"))?;
    let year = Period::parse(&cli.year).ok_or_else(|| anyhow::anyhow!("bad year"))?;
    let start = |p: &Period| hcp_domain::calendar::start_of_day(p.from);
    let end = |p: &Period| hcp_domain::calendar::start_of_day(p.to + chrono::Duration::days(1));
    let n = cli.runs;

    println!("{} first evaluations in {}", evaluations, hcp_store::redact_url(&cli.database_url));
    println!("| figure | from the rollups | scanning the evaluations |");
    println!("| --- | ---: | ---: |");
    let ranking = time!(n, app.ranking(&who, &cli.org, month, By::Unit, Metric::Satisfaction, None).await?);
    let scan_month = time!(3, store.raw_scan_counts(start(&month), end(&month)).await?);
    println!("| monthly ranking of all units ({}) | {ranking:.1} ms | {scan_month:.0} ms |", month.code());
    let year_units = time!(n, app.cut(&who, &cli.org, year, Some(By::Unit)).await?);
    println!("| year by unit, computed (the report's figures) ({}) | {year_units:.1} ms | |", year.code());
    let report = time!(n, app.generate_report(&who, &cli.org, &year.code(), "").await?);
    let scan_year = time!(3, store.raw_scan_counts(start(&year), end(&year)).await?);
    println!("| year's report, drafted and saved ({}) | {report:.1} ms | {scan_year:.0} ms |", year.code());
    let staff = time!(n, app.ranking(&who, &cli.org, year, By::Staff, Metric::Satisfaction, None).await?);
    println!("| year's staff ranking | {staff:.1} ms | |");
    let items = time!(n, app.cut(&who, &cli.org, year, Some(By::Item)).await?);
    println!("| year by service item | {items:.1} ms | |");
    let range = Period::range(month.from + chrono::Duration::days(9), year.to - chrono::Duration::days(40));
    let loose = time!(n, app.cut(&who, &cli.org, range, Some(By::Unit)).await?);
    println!("| {} by unit (loose days at both ends) | {loose:.1} ms | |", range.code());
    Ok(())
}
