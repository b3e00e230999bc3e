//! Issue 7: rankings, reports published and frozen, the public portal, assessment, and rectification orders
//! for those in the bottom group two months running — through the API, on both backends.

use chrono::{Datelike, Duration, Utc};
use serde_json::{Value, json};

use crate::cases::Api;
use crate::helpers::{Backend, TestApp, record_body, spawn_app_with};

/// Ranked from two evaluations; the last one is the bottom group; two months running bring an order.
fn configure(cfg: &mut hcp::server::ServeConfig) {
    cfg.result_rules = hcp_app::ResultRules {
        min_evaluations: 2,
        bottom: hcp_domain::ranking::BottomRule::Last(1),
        consecutive_months: 2,
        scheme: hcp_domain::assessment::Scheme { min_evaluations: 3, ..Default::default() },
        report_issuer: Some("青山县人民政府办公室".into()),
        report_number_prefix: Some("青府办通".into()),
        ..hcp_app::ResultRules::default()
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_sqlite() {
    let app = spawn_app_with(Backend::Sqlite, configure).await.expect("sqlite");
    reports_rankings_assessment_and_orders(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_postgres() {
    if let Some(app) = spawn_app_with(Backend::Postgres, configure).await {
        reports_rankings_assessment_and_orders(app).await;
    }
}

/// Three records per unit: the county department 510899D01 (staff QS0001) very satisfied, township 510899101
/// dissatisfied, township 510899102 satisfied.
async fn rate_units(app: &TestApp, tag: &str) {
    for (org, level, criterion) in [
        ("510899D01", "very_satisfied", "S111"),
        ("510899101", "dissatisfied", "S411"),
        ("510899102", "satisfied", "S211"),
    ] {
        for i in 0..3 {
            let mut body = record_body(&format!("{tag}-{org}-{i}"));
            if org != "510899D01" {
                body["org_code"] = json!(org);
                body["window_code"] = json!(format!("W-{org}-01"));
                body["staff_number"] = Value::Null;
            }
            let (_, token) = app.register(&body).await;
            let (status, v) = app.evaluate(&token, level, &[criterion], Some("测试")).await;
            assert_eq!(status, 201, "{v}");
        }
    }
}

async fn sql(app: &TestApp, statement: &str) {
    sqlx::any::install_default_drivers();
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.db_url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(statement.to_string())).execute(&mut db).await.unwrap();
}

async fn reports_rankings_assessment_and_orders(app: TestApp) {
    let api = Api::new(&app).await;
    let today = hcp_domain::calendar::business_date(Utc::now());
    let this_month = hcp_domain::period::Period::month_of(today);
    let last_month = this_month.previous();

    // Last month's evaluations: made now, then dated the 15th of last month, and the rollups rebuilt from the
    // rows (what `hcp stats rebuild` does after such a repair).
    rate_units(&app, "A").await;
    let mid_last =
        hcp_domain::calendar::start_of_day(last_month.from + Duration::days(14)).timestamp_millis() + 36_000_000;
    // Evaluations are immutable by a trigger; the test lifts it for this one backdating, then restores it.
    let postgres = app.db_url.starts_with("postgres");
    if postgres {
        sql(&app, "DROP TRIGGER evaluation_no_change ON evaluation").await;
    } else {
        sql(&app, "DROP TRIGGER evaluation_no_update").await;
    }
    sql(&app, &format!("UPDATE evaluation SET created_at = {mid_last}")).await;
    if postgres {
        sql(&app, "CREATE TRIGGER evaluation_no_change BEFORE UPDATE OR DELETE ON evaluation FOR EACH ROW EXECUTE FUNCTION evaluation_immutable()").await;
    } else {
        sql(&app, "CREATE TRIGGER evaluation_no_update BEFORE UPDATE ON evaluation BEGIN SELECT RAISE(ABORT, 'evaluations are immutable'); END").await;
    }
    sql(&app, &format!("UPDATE service_record SET completed_at = {mid_last}, received_at = {mid_last}")).await;
    app.app.store.rebuild_rollups().await.unwrap();
    rate_units(&app, "B").await;
    assert_eq!(app.app.store.rollup_mismatches().await.unwrap(), Vec::<String>::new());

    // Rankings: the rule beside them; ties and small samples by the domain's rules.
    let q = format!("org=510899&period={}&by=unit&metric=satisfaction", this_month.code());
    let (status, r) = api.get("office", &format!("/api/v1/rankings?{q}")).await;
    assert_eq!(status, 200, "{r}");
    assert!(r["rule"].as_str().unwrap().contains("少于 2 条"), "{}", r["rule"]);
    let lines = r["lines"].as_array().unwrap();
    let ranked: Vec<(&str, Option<i64>)> = lines
        .iter()
        .filter(|l| l["rank"].is_number())
        .map(|l| (l["key"].as_str().unwrap(), l["rank"].as_i64()))
        .collect();
    assert_eq!(ranked, [("510899D01", Some(1)), ("510899102", Some(2)), ("510899101", Some(3))]);
    assert!(lines.iter().skip(3).all(|l| l["rank"].is_null() && l["unranked_reason"] == "评价数不足"));
    let (_, r) = api.get("office", &format!("/api/v1/rankings?{q}&min=4")).await;
    assert!(r["lines"].as_array().unwrap().iter().all(|l| l["rank"].is_null()), "three evaluations are too few");
    let (_, r) = api
        .get("office", &format!("/api/v1/rankings?org=510899&period={}&by=unit&metric=bad_rate", this_month.code()))
        .await;
    assert_eq!(r["lines"][2]["key"], "510899101", "the bad-review rate ranks lower first");
    // Staff, windows, items, channels, a week and a range answer too.
    for by in ["staff", "window", "item", "category", "channel"] {
        let (status, v) =
            api.get("office", &format!("/api/v1/rankings?org=510899&period={}&by={by}", this_month.code())).await;
        assert_eq!(status, 200, "{by}: {v}");
    }
    let week = today.iso_week();
    let (status, _) =
        api.get("office", &format!("/api/v1/stats?org=510899&period={}-W{:02}", week.year(), week.week())).await;
    assert_eq!(status, 200);
    // Bad input: a clear 4xx with a stable code.
    for (path, code) in [
        ("/api/v1/rankings?org=510899&period=2026-13", "invalid_period"),
        ("/api/v1/rankings?org=510899&period=2026-11&metric=speed", "invalid_metric"),
        ("/api/v1/rankings?org=510899&period=2026-11&by=planet", "invalid_dimension"),
        ("/api/v1/stats?org=510899&period=2026-11&format=pdf", "invalid_format"),
        ("/api/v1/stats?org=510899", "period_required"),
        ("/api/v1/stats?org=510899&period=2026-11&colour=red", "invalid_query"),
    ] {
        let (status, v) = api.get("office", path).await;
        assert_eq!((status, v["code"].as_str()), (422, Some(code)), "{path}: {v}");
    }
    assert_eq!(api.get("otherunit", &format!("/api/v1/rankings?{q}")).await.0, 404, "the county is not its scope");
    // A role without statistics is told so (issue 15 §5).
    let (status, v) = api.get("staff", &format!("/api/v1/stats?org=510899D01&period={}", this_month.code())).await;
    assert_eq!((status, v["code"].as_str()), (403, Some("forbidden")), "{v}");

    // Downloads: CSV with a BOM, a workbook that is a zip.
    for (format, media) in [("csv", "text/csv; charset=utf-8"), ("xlsx", hcp_web::controllers::download::XLSX)] {
        let res = app
            .http
            .get(app.url(&format!("/api/v1/rankings?{q}&format={format}")))
            .bearer_auth(api_token(&app).await)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], media);
        assert!(res.headers()["content-disposition"].to_str().unwrap().contains(&format!(".{format}")));
        let bytes = res.bytes().await.unwrap();
        match format {
            "csv" => assert!(String::from_utf8(bytes.to_vec()).unwrap().starts_with("\u{feff}\"")),
            _ => assert_eq!(&bytes[..2], b"PK"),
        }
    }

    // Reports: last month first. Drafts are the county office's alone; publishing freezes.
    let (status, v) =
        api.post("unit", "/api/v1/reports", json!({ "org": "510899", "period": last_month.code() })).await;
    assert_eq!(status, 404, "a unit admin cannot draft the county's report: {v}");
    let (status, v) = api.post("office", "/api/v1/reports", json!({ "org": "510899", "period": "2026-11-05" })).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("invalid_report_period")));
    let (status, v) = api.post("office", "/api/v1/reports", json!({ "org": "510899", "period": "2099-01" })).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("period_in_future")));
    let (status, a) =
        api.post("office", "/api/v1/reports", json!({ "org": "510899", "period": last_month.code() })).await;
    assert_eq!(status, 201, "{a}");
    let a_id = a["id"].as_i64().unwrap();
    assert_eq!((a["state"].as_str(), a["version"].as_i64()), (Some("draft"), Some(1)));
    let bottom: Vec<&str> = a["body"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["bottom"] == true)
        .map(|l| l["key"].as_str().unwrap())
        .collect();
    assert_eq!(bottom, ["510899101"]);
    assert_eq!(api.get("center", &format!("/api/v1/reports/{a_id}")).await.0, 404, "drafts are not shown");
    assert_eq!(app.http.get(app.url(&format!("/public/reports/{a_id}"))).send().await.unwrap().status(), 404);
    let (status, p) = api.post("office", &format!("/api/v1/reports/{a_id}/publish"), json!({})).await;
    assert_eq!((status, p["state"].as_str()), (200, Some("published")), "{p}");
    // Issue 30 §4: issued by the office the county names, numbered by its pattern, stating its basis.
    let year = hcp_domain::calendar::business_date(Utc::now()).year();
    assert_eq!(p["number"], format!("青府办通〔{year}〕1号"), "{p}");
    assert_eq!(p["body"]["issuer"], "青山县人民政府办公室");
    assert_eq!(p["body"]["weights"], json!([100, 80, 60, 40, 0]));
    let public = app.http.get(app.url(&format!("/public/reports/{a_id}"))).send().await.unwrap().text().await.unwrap();
    for words in ["青府办通〔", "统计口径", "非常满意 100 分", "--level-weights", "不参与排名", "虚假好评或恶意差评"]
    {
        assert!(public.contains(words), "{words}: {public}");
    }
    // The publication bundle: one self-contained page, the figures, the workbook; no person in any of them.
    let files = hcp_web::report_bundle::bundle(&app.app.report(None, a_id).await.unwrap()).unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.name).collect();
    assert_eq!(names, ["index.html", "report.json", "report.xlsx"]);
    let html = String::from_utf8(files[0].bytes.clone()).unwrap();
    assert!(html.contains("<style>") && html.contains("<svg") && html.contains("统计口径"), "{html}");
    // (The SVG namespace, xmlns="http://www.w3.org/2000/svg", is a name, not a request.)
    for outside in ["<script", "src=", "<link", "@import", "url(", "href=\"http", "href=\"//"] {
        assert!(!html.contains(outside), "nothing leaves the folder: {outside}");
    }
    let data: Value = serde_json::from_slice(&files[1].bytes).unwrap();
    assert_eq!(data["number"], format!("青府办通〔{year}〕1号"));
    for f in &files[..2] {
        let text = String::from_utf8_lossy(&f.bytes);
        for person in ["QS0001", "张三", "13812345678"] {
            assert!(!text.contains(person), "{} names {person}", f.name);
        }
    }

    let (status, v) = api.post("office", &format!("/api/v1/reports/{a_id}/publish"), json!({})).await;
    assert_eq!((status, v["code"].as_str()), (409, Some("report_published")));
    // Published: listed for every signed-in role, as for the public (issue 15 §5).
    for who in ["staff", "unit", "otherunit", "hotline", "center"] {
        let (status, v) = api.get(who, "/api/v1/reports").await;
        assert_eq!(status, 200);
        assert!(v["reports"].as_array().unwrap().iter().any(|r| r["id"] == a_id), "{who}: {v}");
    }
    let (_, orders) = api.get("office", "/api/v1/rectification-orders").await;
    assert_eq!(orders["orders"].as_array().unwrap().len(), 0, "one month in the bottom group is not yet 'repeatedly'");

    // This month: the same unit is last again, and QS0001 is the whole (and so the last of the) staff ranking.
    let (status, b) =
        api.post("office", "/api/v1/reports", json!({ "org": "510899", "period": this_month.code() })).await;
    assert_eq!(status, 201, "{b}");
    let b_id = b["id"].as_i64().unwrap();
    let (status, b_pub) = api.post("office", &format!("/api/v1/reports/{b_id}/publish"), json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(b_pub["number"], format!("青府办通〔{year}〕2号"), "numbered in order");
    let (_, orders) = api.get("office", "/api/v1/rectification-orders").await;
    let orders = orders["orders"].as_array().unwrap().clone();
    let mut subjects: Vec<&str> = orders.iter().map(|o| o["subject"].as_str().unwrap()).collect();
    subjects.sort();
    assert_eq!(subjects, ["staff", "unit"], "{orders:?}");
    let unit_order = orders.iter().find(|o| o["subject"] == "unit").unwrap();
    assert_eq!(unit_order["periods"], json!([last_month.code(), this_month.code()]));
    assert!(unit_order["reason"].as_str().unwrap().contains("连续 2 个月"));
    let unit_order = unit_order["id"].as_i64().unwrap();
    let staff_order = orders.iter().find(|o| o["subject"] == "staff").unwrap()["id"].as_i64().unwrap();

    // The township answers; the county office returns it with a note, then accepts the second answer.
    assert_eq!(api.get("unit", &format!("/api/v1/rectification-orders/{unit_order}")).await.0, 404, "another unit's");
    let answer = format!("/api/v1/rectification-orders/{unit_order}/answer");
    let review = format!("/api/v1/rectification-orders/{unit_order}/review");
    let (status, v) = api.post("otherunit", &answer, json!({ "report": "  " })).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("text_required")));
    let (status, v) = api.post("office", &review, json!({ "accept": true })).await;
    assert_eq!((status, v["code"].as_str()), (409, Some("order_not_submitted")));
    let (status, v) = api.post("otherunit", &answer, json!({ "report": "窗口增加导办人员,开展服务礼仪培训。" })).await;
    assert_eq!((status, v["state"].as_str()), (200, Some("submitted")), "{v}");
    let (status, v) = api.post("otherunit", &answer, json!({ "report": "再报一次" })).await;
    assert_eq!((status, v["code"].as_str()), (409, Some("order_not_open")));
    let (status, v) = api.post("office", &review, json!({ "accept": false })).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("text_required")), "a return needs its reason");
    let (status, v) = api.post("office", &review, json!({ "accept": false, "note": "缺少整改台账" })).await;
    assert_eq!((status, v["state"].as_str(), v["review_note"].as_str()), (200, Some("open"), Some("缺少整改台账")));
    let (status, _) = api.post("otherunit", &answer, json!({ "report": "已补充整改台账。" })).await;
    assert_eq!(status, 200);
    let (status, v) = api.post("otherunit", &review, json!({ "accept": true })).await;
    assert_eq!(status, 403, "only the county office closes: {v}");
    let (status, v) = api.post("office", &review, json!({ "accept": true, "note": "同意" })).await;
    assert_eq!((status, v["state"].as_str()), (200, Some("closed")), "{v}");

    // The staff order is left alone past its deadline: escalated once, with notices to the county.
    assert_eq!(app.app.escalate_orders(Utc::now() + Duration::days(40)).await.unwrap(), 1);
    assert_eq!(app.app.escalate_orders(Utc::now() + Duration::days(41)).await.unwrap(), 0, "once");
    let (_, v) = api.get("office", &format!("/api/v1/rectification-orders/{staff_order}")).await;
    assert!(v["escalated_at"].is_string() && v["state"] == "open", "{v}");

    // A correction is a new version; the old one stays readable and says it was corrected.
    let (status, v) = api
        .post(
            "office",
            "/api/v1/reports",
            json!({ "org": "510899", "period": last_month.code(), "note": "补录漏报评价" }),
        )
        .await;
    assert_eq!((status, v["version"].as_i64(), v["state"].as_str()), (201, Some(2), Some("draft")), "{v}");
    let a2 = v["id"].as_i64().unwrap();
    let page = app.http.get(app.url(&format!("/public/reports/{a_id}"))).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("已被更正"), "a draft corrects nothing yet");
    api.post("office", &format!("/api/v1/reports/{a2}/publish"), json!({})).await;
    let page = app.http.get(app.url(&format!("/public/reports/{a_id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("本通报已被更正") && page.contains(&format!("/public/reports/{a2}")), "{page}");
    let (_, all) = api.get("office", "/api/v1/rectification-orders").await;
    assert_eq!(all["orders"].as_array().unwrap().len(), 2, "republishing issues nothing twice");

    // The public portal: published reports, figures of units, no person.
    let index = app.http.get(app.url("/public")).send().await.unwrap().text().await.unwrap();
    assert!(index.contains(&format!("/public/reports/{b_id}")) && index.contains(&format!("/public/reports/{a2}")));
    let page = app.http.get(app.url(&format!("/public/reports/{b_id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("排名规则") && page.contains("并列"));
    for personal in ["QS0001", "张三", "13812345678", "测试"] {
        assert!(!page.contains(personal) && !index.contains(personal), "{personal} on the public portal");
    }
    let res = app.http.get(app.url(&format!("/public/reports/{b_id}?format=xlsx"))).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], hcp_web::controllers::download::XLSX);
    assert_eq!(&res.bytes().await.unwrap()[..2], b"PK");

    // Assessment: points with their breakdown, for units and staff.
    let year = today.year();
    let (status, v) = api.get("office", &format!("/api/v1/assessment?org=510899&period={year}&by=unit")).await;
    assert_eq!(status, 200, "{v}");
    let lines = v["lines"].as_array().unwrap();
    let points = |key: &str| lines.iter().find(|l| l["key"] == key).and_then(|l| l["points"].as_f64());
    let (good, bad) = (points("510899D01"), points("510899101"));
    assert!(good.unwrap() > bad.unwrap(), "{good:?} {bad:?}");
    let breakdown = &lines.iter().find(|l| l["key"] == "510899101").unwrap()["lines"];
    assert!(breakdown.as_array().unwrap().iter().any(|l| l["item"] == "差评率超标"), "{breakdown}");
    let (status, _) =
        api.get("office", &format!("/api/v1/assessment?org=510899&period={year}&by=staff&format=xlsx")).await;
    assert_eq!(status, 200);
    assert_eq!(api.get("hotline", &format!("/api/v1/assessment?org=510899&period={year}")).await.0, 403);

    // The monthly job drafts last month's report on the first working day, once.
    let before = hcp_domain::calendar::start_of_day(chrono::NaiveDate::from_ymd_opt(2026, 10, 2).unwrap());
    assert_eq!(app.app.draft_monthly_reports(before).await.unwrap(), 0, "National Day: not a working day");
    let first = hcp_domain::calendar::start_of_day(chrono::NaiveDate::from_ymd_opt(2026, 10, 9).unwrap());
    assert_eq!(app.app.draft_monthly_reports(first).await.unwrap(), 1);
    assert_eq!(app.app.draft_monthly_reports(first + Duration::hours(1)).await.unwrap(), 0);
    let (_, list) = api.get("office", "/api/v1/reports").await;
    assert!(list["reports"].as_array().unwrap().iter().any(|r| r["period"] == "2026-09" && r["state"] == "draft"));
}

async fn api_token(app: &TestApp) -> String {
    let (_, v) = app
        .post_json("/api/v1/sessions", &json!({ "username": "office", "password": crate::cases::PASSWORD }), None)
        .await;
    v["token"].as_str().unwrap().to_string()
}

/// Issue 30 §5: a published report showed 主动评价率 105.0 %. Every rate of every report the demo publishes —
/// the county's total, each unit, each platform — lies within 0–100 %, and every score within 0–100.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_demo_report_keeps_its_rates_within_bounds() {
    let (db_url, _dir) = crate::helpers::fresh_database(crate::helpers::Backend::Sqlite).await.unwrap();
    let mut cfg = hcp::ServeConfig::new(&db_url, "127.0.0.1:0".parse().unwrap());
    cfg.jobs = false;
    let application = hcp::Application::build(&cfg).await.unwrap();
    let app = application.app().clone();
    let options = hcp_app::demo::DemoOptions { records: 6000, seed: 2020, accounts: true };
    app.seed_demo(&options, |_, _| {}).await.unwrap();
    let reports = app.reports(None).await.unwrap();
    assert!(reports.len() >= 6, "the demo publishes its months: {}", reports.len());
    let mut checked = 0;
    for r in &reports {
        let figures = std::iter::once(("合计".to_string(), &r.body.total))
            .chain(r.body.lines.iter().map(|l| (l.name.clone(), &l.figures)))
            .chain(r.body.platforms.iter().map(|p| (p.name.clone(), &p.figures)));
        for (who, f) in figures {
            let rates = [
                ("good_rate", f.good_rate),
                ("bad_rate", f.bad_rate),
                ("active_rate", f.active_rate),
                ("rectification_rate", f.rectification_rate),
                ("dispatch_on_time_rate", f.dispatch_on_time_rate),
                ("follow_up_satisfaction", f.follow_up_satisfaction),
                ("on_time_1", f.on_time_rate[0]),
                ("on_time_5", f.on_time_rate[1]),
                ("on_time_15", f.on_time_rate[2]),
            ];
            for (name, rate) in rates {
                if let Some(v) = rate {
                    assert!((0.0..=1.0).contains(&v), "{} {who}: {name} = {v}", r.period_label);
                    checked += 1;
                }
            }
            assert!(f.satisfaction.is_none_or(|s| (0.0..=100.0).contains(&s)), "{} {who}", r.period_label);
        }
    }
    assert!(checked > 100, "{checked} rates checked");
}

/// Issue 30 §4: `hcp report export ID DIR` writes the publication bundle of a published report; a draft is
/// refused.
#[tokio::test]
async fn a_published_report_is_exported_for_the_portal() {
    let (url, dir) = crate::helpers::fresh_database(Backend::Sqlite).await.unwrap();
    let dir = dir.unwrap();
    let hcp = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_hcp"))
            .args(args)
            .args(["--database-url", &url])
            .env_remove("HCP_DATABASE_URL")
            .output()
            .unwrap()
    };
    assert!(hcp(&["demo", "--records", "3000"]).status.success());
    sqlx::any::install_default_drivers();
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await.unwrap();
    let published: i64 = sqlx::query_scalar("SELECT id FROM report WHERE state = 'published' ORDER BY id LIMIT 1")
        .fetch_one(&mut db)
        .await
        .unwrap();
    let out = dir.path().join("portal");
    let o = hcp(&["report", "export", &published.to_string(), out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for name in ["index.html", "report.json", "report.xlsx"] {
        assert!(std::fs::metadata(out.join(name)).unwrap().len() > 100, "{name}");
    }
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("统计口径") && !html.contains("<script"), "{html}");
    let draft: Option<i64> = sqlx::query_scalar("SELECT id FROM report WHERE state = 'draft' LIMIT 1")
        .fetch_optional(&mut db)
        .await
        .unwrap();
    if let Some(draft) = draft {
        let o = hcp(&["report", "export", &draft.to_string(), out.to_str().unwrap()]);
        assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("只有已发布的通报"));
    }
    let o = hcp(&["report", "export", "999999", out.to_str().unwrap()]);
    assert!(!o.status.success(), "an unknown report");
}
