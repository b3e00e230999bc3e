//! Issue 3: the working-day calendar through the real program — CLI, import, health warnings.

use std::process::{Command, Output};

use chrono::NaiveDate;
use hcp_app::calendar::CalendarSource;

use crate::both_backends;
use crate::helpers::{Backend, TestApp, fresh_database};

fn hcp(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hcp"))
        .args(args)
        .env("HCP_DATABASE_URL", url)
        .env_remove("HCP_WORKING_DAY_ENDS")
        .output()
        .expect("run hcp")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

const NOTICE_2027: &str = "# 2027 (an example notice for the test)\n\
2027-01-01,holiday,New Year's Day\n2027-01-02,holiday,New Year's Day\n2027-01-03,holiday,New Year's Day\n\
2027-02-06,holiday,Spring Festival\n2027-02-07,holiday,Spring Festival\n2027-02-08,holiday,Spring Festival\n\
2027-02-09,holiday,Spring Festival\n2027-02-10,holiday,Spring Festival\n2027-02-11,holiday,Spring Festival\n\
2027-02-12,holiday,Spring Festival\n2027-02-13,holiday,Spring Festival\n2027-02-14,workday,Spring Festival\n";

#[tokio::test]
async fn operators_cli() {
    let (url, dir) = fresh_database(Backend::Sqlite).await.unwrap();
    let dir = dir.unwrap();

    assert_eq!(out(&hcp(&url, &["calendar", "is-working-day", "2026-02-14"])), "yes", "a Saturday worked");
    assert_eq!(out(&hcp(&url, &["calendar", "is-working-day", "2026-10-05"])), "no", "National Day");
    assert_eq!(out(&hcp(&url, &["calendar", "add-working-days", "2026-09-30", "1"])), "2026-10-08");
    assert_eq!(out(&hcp(&url, &["calendar", "add-working-days", "2024-09-30", "5"])), "2024-10-12");
    let o = hcp(&url, &["calendar", "add-working-days", "2026-12-30", "5"]);
    assert_eq!(out(&o), "2027-01-06");
    assert!(err(&o).contains("暂定"), "a year not loaded is flagged: {}", err(&o));
    let show = out(&hcp(&url, &["calendar", "show", "2026"]));
    assert!(show.contains("2026-02-14 周六 调休上班 春节"), "{show}");
    assert!(show.contains("2026-10-01 周四 放假 国庆节"));
    assert!(out(&hcp(&url, &["calendar", "show", "2027"])).contains("尚未导入"));
    let o = hcp(&url, &["calendar", "is-working-day", "2026-13-01"]);
    assert!(!o.status.success());
    assert!(err(&o).contains("YYYY-MM-DD"));

    // A bad file is refused whole, naming the line, and nothing changes.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, format!("{NOTICE_2027}2027-03-03,workday,Not a weekend\n")).unwrap();
    let o = hcp(&url, &["calendar", "import", bad.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(err(&o).contains("第 14 行") && err(&o).contains("不是周六或周日"), "{}", err(&o));
    assert!(out(&hcp(&url, &["calendar", "show", "2027"])).contains("尚未导入"));

    let good = dir.path().join("2027.csv");
    std::fs::write(&good, NOTICE_2027).unwrap();
    let o = hcp(&url, &["calendar", "import", good.to_str().unwrap()]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("2027 年:放假 11 天,调休上班 1 天"), "{}", out(&o));
    let o = hcp(&url, &["calendar", "add-working-days", "2026-12-30", "5"]);
    assert_eq!(out(&o), "2027-01-07", "recomputed with the notice: 1 January is a holiday now");
    assert!(!err(&o).contains("暂定"));
    assert_eq!(out(&hcp(&url, &["calendar", "is-working-day", "2027-02-14"])), "yes");

    // The county's own closure.
    let local = dir.path().join("local.csv");
    std::fs::write(&local, "2026-12-10,holiday,防汛应急停止办公\n").unwrap();
    assert!(hcp(&url, &["calendar", "import", "--local", local.to_str().unwrap()]).status.success());
    assert_eq!(out(&hcp(&url, &["calendar", "is-working-day", "2026-12-10"])), "no");
    assert!(out(&hcp(&url, &["calendar", "show", "2026"])).contains("2026-12-10 周四 放假 防汛应急停止办公(本县)"));

    // The office closing time moves every deadline's end, in one place.
    let o = Command::new(env!("CARGO_BIN_EXE_hcp"))
        .args(["calendar", "add-working-days", "2026-09-30", "1", "--working-day-ends", "25:99"])
        .env("HCP_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(!o.status.success(), "a bad closing time is refused");
}

both_backends!(imports_are_atomic_and_reach_health);

async fn imports_are_atomic_and_reach_health(app: TestApp) {
    let (_, health) = app.get_json("/healthz", None).await;
    assert_eq!(health["calendar_years"], serde_json::json!([2020, 2021, 2022, 2023, 2024, 2025, 2026]));
    let dec1 = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let nov30 = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    assert!(app.app.warnings_on(nov30).is_empty());
    let w = app.app.warnings_on(dec1);
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].code, "calendar_next_year_missing");
    assert!(w[0].message.contains("2027"));

    let bad = format!("{NOTICE_2027}2027-02-14,holiday,twice\n");
    let e = app.app.import_calendar(&bad, CalendarSource::National).await.unwrap_err();
    assert_eq!(e.code(), "invalid_calendar");
    assert!(app.app.store.calendar_days().await.unwrap().is_empty(), "nothing changed");

    app.app.import_calendar(NOTICE_2027, CalendarSource::National).await.unwrap();
    assert!(app.app.warnings_on(dec1).is_empty());
    let (_, health) = app.get_json("/healthz", None).await;
    assert_eq!(health["calendar_years"].as_array().unwrap().last().unwrap(), 2027);

    // A corrected notice replaces the year whole.
    app.app.import_calendar("2027-01-01,holiday,New Year's Day\n", CalendarSource::National).await.unwrap();
    let days = app.app.store.calendar_days().await.unwrap();
    assert_eq!(days.len(), 1);
    assert!(app.app.calendar().is_working_day(NaiveDate::from_ymd_opt(2027, 2, 8).unwrap()));
}
