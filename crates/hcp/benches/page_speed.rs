//! Benchmark (issue 17 §5): every kind of console and public page over HTTP, as a browser asks for it, on a
//! loaded database — the median of repeated requests per page, the slowest named at the end.
//!
//! `cargo bench -p hcp --bench page_speed -- --database-url URL [--data-keys-file F] [--runs 7]` on a database
//! loaded with `hcp demo --records N`. The server is the real one (`Application::build`, jobs off), on a
//! loopback port; the bench logs in as a center administrator, a county-office supervisor and an auditor
//! (accounts it creates once, `bench-…`).
#![forbid(unsafe_code)]

use std::time::Instant;

use clap::Parser;
use hcp::{Application, ServeConfig};
use hcp_app::keys::KeySource;

#[derive(Parser)]
struct Cli {
    #[arg(long)]
    database_url: String,
    #[arg(long)]
    data_keys_file: Option<std::path::PathBuf>,
    #[arg(long, default_value_t = 7)]
    runs: usize,
    /// Only the pages whose name or path contains this.
    #[arg(long)]
    only: Option<String>,
}

const PASSWORD: &str = "bench-password-1";

/// A logged-in browser: its session cookie.
struct Browser {
    base: String,
    cookie: String,
    http: reqwest::Client,
}

impl Browser {
    async fn login(base: &str, username: &str) -> anyhow::Result<Browser> {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
        let form = http.get(format!("{base}/login")).send().await?;
        let login_cookie = form
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.strip_prefix("hcp_login_csrf="))
            .and_then(|c| c.split(';').next())
            .ok_or_else(|| anyhow::anyhow!("no login cookie"))?
            .to_string();
        let html = form.text().await?;
        let at = html.find(r#"name="csrf" value=""#).ok_or_else(|| anyhow::anyhow!("no csrf"))? + 19;
        let token = &html[at..at + html[at..].find('"').unwrap_or(0)];
        let res = http
            .post(format!("{base}/login"))
            .header("cookie", format!("hcp_login_csrf={login_cookie}"))
            .form(&[("csrf", token), ("username", username), ("password", PASSWORD)])
            .send()
            .await?;
        let cookie = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("hcp_session="))
            .and_then(|c| c.split(';').next())
            .ok_or_else(|| anyhow::anyhow!("login of {username} failed: {}", res.status()))?
            .to_string();
        Ok(Browser { base: base.to_string(), cookie, http })
    }

    /// The page's status, body and milliseconds.
    async fn get(&self, path: &str) -> anyhow::Result<(u16, String, f64)> {
        let t = Instant::now();
        let res = self.http.get(format!("{}{path}", self.base)).header("cookie", &self.cookie).send().await?;
        let status = res.status().as_u16();
        let body = res.text().await?;
        Ok((status, body, t.elapsed().as_secs_f64() * 1000.0))
    }
}

/// The first id a page links to under `prefix` (`/console/cases/` → a case).
fn first_link(html: &str, prefix: &str) -> Option<String> {
    let at = html.find(&format!("href=\"{prefix}"))? + 6 + prefix.len();
    let id: String = html[at..].chars().take_while(char::is_ascii_digit).collect();
    (!id.is_empty()).then_some(id)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse_from(std::env::args().filter(|a| a != "--bench"));
    let mut cfg = ServeConfig::new(&cli.database_url, "127.0.0.1:0".parse()?);
    cfg.jobs = false;
    cfg.metrics = false;
    if let Some(f) = &cli.data_keys_file {
        cfg.keys = KeySource::File(f.clone());
    }
    let server = Application::build(&cfg).await?;
    let app = server.app().clone();
    let base = format!("http://{}", server.local_addr());
    tokio::spawn(server.run_until_stopped());
    for (user, role) in
        [("bench-center", "center_admin"), ("bench-office", "county_office"), ("bench-auditor", "auditor")]
    {
        // Already there from an earlier run: fine.
        let _ = app.create_user(user, user, PASSWORD, role, "510899", None).await;
    }
    let center = Browser::login(&base, "bench-center").await?;
    let office = Browser::login(&base, "bench-office").await?;
    let auditor = Browser::login(&base, "bench-auditor").await?;
    println!(
        "{} first evaluations in {}",
        app.store.count_evaluations().await?,
        hcp_store::redact_url(&cli.database_url)
    );

    // Ids for the detail pages, from the lists that link to them.
    let year = hcp_domain::calendar::business_date(app.now()).format("%Y").to_string();
    let (_, evaluations, _) = center.get("/console/evaluations?level=very_dissatisfied").await?;
    let (_, cases, _) = center.get("/console/cases?inbox=all").await?;
    let (_, appeals, _) = center.get("/console/appeals?all=1").await?;
    let (_, reports, _) = center.get("/console/reports").await?;
    let (_, flags, _) = office.get(&format!("/console/integrity?from={year}-01-01")).await?;
    let (_, visits, _) = office.get(&format!("/console/inspections?from={year}-01-01")).await?;
    let (_, public, _) = center.get("/public").await?;
    let (_, record_page, _) =
        center.get(&format!("/console/cases/{}", first_link(&cases, "/console/cases/").unwrap_or_default())).await?;
    let id = |html: &str, prefix: &str| first_link(html, prefix).map(|i| format!("{prefix}{i}"));

    let month = hcp_domain::period::Period::month_of(hcp_domain::calendar::business_date(app.now())).code();
    let mut pages: Vec<(&str, &Browser, String)> = vec![
        ("home (public)", &center, "/".into()),
        ("login", &center, "/login".into()),
        ("public reports", &center, "/public".into()),
        ("public bad reviews", &center, "/public/bad-reviews".into()),
        ("kiosk", &center, "/kiosk".into()),
        ("console home", &center, "/console".into()),
        ("find records (form)", &center, "/console/records".into()),
        ("evaluations, this month", &center, "/console/evaluations".into()),
        ("evaluations, the year", &center, format!("/console/evaluations?period={year}")),
        ("evaluations, comment contains", &center, format!("/console/evaluations?period={month}&comment=排队")),
        ("cases, mine", &center, "/console/cases".into()),
        ("cases, all", &center, "/console/cases?inbox=all".into()),
        ("cases, overdue", &center, "/console/cases?inbox=overdue".into()),
        ("appeals", &center, "/console/appeals?all=1".into()),
        ("filing register", &center, "/console/filing-register".into()),
        ("outbox", &center, "/console/outbox".into()),
        ("exchange", &center, "/console/exchange".into()),
        ("dashboard, month", &center, "/console/dashboard".into()),
        ("dashboard, year", &center, format!("/console/dashboard?period={year}")),
        ("statistics, month", &center, "/console/stats".into()),
        ("statistics, year by unit", &center, format!("/console/stats?period={year}&by=unit")),
        ("statistics, year by item (county-wide)", &center, format!("/console/stats?period={year}&by=item")),
        ("statistics, year by channel (county-wide)", &center, format!("/console/stats?period={year}&by=channel")),
        ("statistics, year by staff", &center, format!("/console/stats?period={year}&by=staff")),
        ("rankings, month", &center, "/console/rankings".into()),
        ("rankings, year", &center, format!("/console/rankings?period={year}")),
        ("reports", &center, "/console/reports".into()),
        ("orders", &office, "/console/orders".into()),
        ("assessment, year", &office, "/console/assessment".into()),
        ("catalog", &center, "/console/catalog".into()),
        ("calendar", &center, "/console/calendar".into()),
        ("password", &center, "/console/password".into()),
        ("integrity flags", &office, "/console/integrity".into()),
        ("inspections", &office, "/console/inspections".into()),
        ("audit log", &auditor, "/console/audit".into()),
    ];
    let details = [
        ("an evaluation", &center, id(&evaluations, "/console/evaluations/")),
        ("a case", &center, id(&cases, "/console/cases/")),
        ("an appeal", &center, id(&appeals, "/console/appeals/")),
        ("a report", &center, id(&reports, "/console/reports/")),
        ("a public report", &center, id(&public, "/public/reports/")),
        ("an integrity flag", &office, id(&flags, "/console/integrity/")),
        ("an inspection", &office, id(&visits, "/console/inspections/")),
        ("a record", &center, id(&record_page, "/console/records/")),
    ];
    for (name, who, path) in details {
        match path {
            Some(p) => pages.push((name, who, p)),
            None => println!("({name}: none in this database)"),
        }
    }
    if let Some(only) = &cli.only {
        pages.retain(|(name, _, path)| name.contains(only.as_str()) || path.contains(only.as_str()));
    }
    println!("| page | path | first | median | KB |");
    println!("| --- | --- | ---: | ---: | ---: |");
    let mut slowest = (0.0, "");
    for (name, who, path) in &pages {
        // The first request (cold: nothing cached yet, by us or the database), then the repeated ones.
        let (status, body, first) = who.get(path).await?;
        anyhow::ensure!(status == 200, "{path}: {status}\n{}", &body[..body.len().min(400)]);
        let mut times = Vec::new();
        for _ in 0..cli.runs {
            times.push(who.get(path).await?.2);
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        if median > slowest.0 {
            slowest = (median, name);
        }
        println!("| {name} | `{path}` | {first:.1} ms | {median:.1} ms | {:.0} |", body.len() as f64 / 1024.0);
    }
    println!("\nslowest: {} ({:.1} ms)", slowest.1, slowest.0);
    Ok(())
}
