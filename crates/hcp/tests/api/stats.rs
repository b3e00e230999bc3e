//! Issue 7 §7 groundwork: the rollups always equal a full recomputation — after random evaluations through
//! every path (the API's group-commit writer, the hotline path, the default job, bulk loads), completions,
//! and invalidations by upheld appeals — and `hcp stats rebuild` restores them.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::both_backends;
use crate::cases::{Api, bad_review};
use crate::helpers::{TestApp, record_body};

both_backends!(rollups_equal_a_full_recomputation);

async fn rollups_equal_a_full_recomputation(app: TestApp) {
    let mut rng = StdRng::seed_from_u64(7);
    let levels = ["very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"];
    let criteria = ["S111", "S211", "S311", "S411", "S511"];
    let unit = app.app.store.org_by_code("510899D01").await.unwrap().unwrap();
    app.app.store.insert_platform("P-ROLL", "青山县政务服务网", unit.id).await.unwrap();
    let mut open_records = Vec::new();
    for i in 0..60 {
        let mut body = record_body(&format!("ROLL-{i}"));
        // A third delivered through a platform (a cut of its own, kept by day too).
        if i % 3 == 0 {
            body["platform_code"] = json!("P-ROLL");
        }
        // Some not completed yet (completed later), some by other windows, without staff.
        if rng.random::<f64>() < 0.2 {
            body["completed_at"] = serde_json::Value::Null;
        }
        if rng.random::<bool>() {
            body["staff_number"] = serde_json::Value::Null;
        }
        let (id, token) = app.register(&body).await;
        if body["completed_at"].is_null() {
            open_records.push(id);
            continue;
        }
        match rng.random_range(0..4) {
            0 => {} // never rated: the default job rates it
            _ => {
                let l = rng.random_range(0..5);
                let comment = (l >= 3).then_some("不满意");
                let (status, v) = app.evaluate(&token, levels[l], &[criteria[l]], comment).await;
                assert_eq!(status, 201, "{v}");
            }
        }
    }
    for id in &open_records {
        let (status, v) = app
            .post_json(
                &format!("/api/v1/service-records/{id}/complete"),
                &json!({ "completed_at": chrono::Utc::now().to_rfc3339() }),
                Some(&app.api_key),
            )
            .await;
        assert_eq!(status, 200, "{v}");
    }
    assert_eq!(app.app.store.rollup_mismatches().await.unwrap(), Vec::<String>::new());

    // Defaults, eight days on.
    app.app.run_jobs(app.app.now() + chrono::Duration::days(8)).await.unwrap();
    assert_eq!(app.app.store.rollup_mismatches().await.unwrap(), Vec::<String>::new());

    // Upheld and rejected appeals: an invalidation moves one evaluation from the valid counts. (Logged in
    // only now: the jobs' run a week ahead ended every session.)
    let api = Api::new(&app).await;
    for (n, uphold) in [("ROLL-A1", true), ("ROLL-A2", false), ("ROLL-A3", true)] {
        let (_, case) = bad_review(&app, n).await;
        let (status, v) =
            api.post("staff", &format!("/api/v1/cases/{case}/appeal"), json!({ "reasons": "有异议" })).await;
        assert_eq!(status, 201, "{v}");
        let appeal = v["id"].as_i64().unwrap();
        let decision = format!("/api/v1/appeals/{appeal}/decision");
        api.post("unit", &decision, json!({ "uphold": true, "reasons": "属实" })).await;
        let (status, _) = api.post("center", &decision, json!({ "uphold": uphold, "reasons": "复核" })).await;
        assert_eq!(status, 200);
    }
    assert_eq!(app.app.store.rollup_mismatches().await.unwrap(), Vec::<String>::new());

    // The metrics of the county over the period, from the rollups, equal what the rows say.
    let today = hcp_domain::calendar::business_date(app.app.now());
    let range = format!("from={}&to={}", today - chrono::Duration::days(1), today + chrono::Duration::days(9));
    let (status, cut) = api.get("center", &format!("/api/v1/stats?org=510899&{range}&by=unit")).await;
    assert_eq!(status, 200, "{cut}");
    let st = &cut["total"];
    sqlx::any::install_default_drivers();
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.db_url).await.unwrap();
    let valid: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM evaluation e WHERE e.round = 1
         AND NOT EXISTS (SELECT 1 FROM evaluation_invalidation i WHERE i.evaluation_id = e.id)",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    let defaults: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM evaluation WHERE is_default = 1").fetch_one(&mut db).await.unwrap();
    let completed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM service_record WHERE completed_at IS NOT NULL")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(st["evaluations"].as_i64(), Some(valid));
    assert_eq!(st["default_evaluations"].as_i64(), Some(defaults));
    assert_eq!(st["completed_records"].as_i64(), Some(completed));
    assert_eq!(st["invalidated"], 2);
    let levels: i64 = st["levels"].as_array().unwrap().iter().map(|l| l.as_i64().unwrap()).sum();
    assert_eq!(levels, valid);
    // Every breakdown adds up to the total (channels and items cover every evaluation).
    for by in ["unit", "org", "item", "category", "channel"] {
        let (status, v) = api.get("center", &format!("/api/v1/stats?org=510899&{range}&by={by}")).await;
        assert_eq!(status, 200, "{v}");
        let sum: i64 =
            v["lines"].as_array().unwrap().iter().map(|l| l["figures"]["evaluations"].as_i64().unwrap()).sum();
        assert_eq!(sum, valid, "by {by}");
    }
    // A whole month county-wide: items and channels come from the rows kept without organization; they add
    // up to the month's total as the organization rows count it.
    let month = hcp_domain::period::Period::month_of(today).code();
    let (_, whole) = api.get("center", &format!("/api/v1/stats?org=510899&period={month}")).await;
    for by in ["item", "channel"] {
        let (status, v) = api.get("center", &format!("/api/v1/stats?org=510899&period={month}&by={by}")).await;
        assert_eq!(status, 200, "{v}");
        let sum: i64 =
            v["lines"].as_array().unwrap().iter().map(|l| l["figures"]["evaluations"].as_i64().unwrap()).sum();
        assert_eq!(Some(sum), whole["total"]["evaluations"].as_i64(), "by {by} this month");
        assert!(sum > 0);
    }
    // Through a platform: its evaluations and completions are those of the records that name it.
    let (status, v) = api.get("center", &format!("/api/v1/stats?org=510899&{range}&by=platform")).await;
    assert_eq!(status, 200, "{v}");
    let lines = v["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{v}");
    let through: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM evaluation e JOIN service_record r ON r.id = e.service_record_id
         WHERE e.round = 1 AND r.platform_id IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM evaluation_invalidation i WHERE i.evaluation_id = e.id)",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    let done: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM service_record WHERE platform_id IS NOT NULL AND completed_at IS NOT NULL",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(
        (lines[0]["name"].as_str(), lines[0]["figures"]["evaluations"].as_i64()),
        (Some("青山县政务服务网"), Some(through))
    );
    assert_eq!(lines[0]["figures"]["completed_records"].as_i64(), Some(done));

    // The dashboard's trend, read in one go, equals a cut of each month (last month, this one, the next).
    let center = crate::helpers::county_center_admin();
    let this = hcp_domain::period::Period::month_of(today);
    let next = hcp_domain::period::Period::month_of(this.to + chrono::Duration::days(1));
    let months = [this.previous(), this, next];
    let trend = app.app.monthly_figures(&center, "510899", &months).await.unwrap();
    for (m, f) in months.iter().zip(&trend) {
        let cut = app.app.cut(&center, "510899", *m, None).await.unwrap();
        assert_eq!(f, &cut.total, "{}", m.code());
    }
    assert!(trend.iter().map(|f| f.evaluations).sum::<u64>() > 0);
    // The county's trend reads the database's own total rows; a unit's sums its organizations' rows.
    let unit_trend = app.app.monthly_figures(&center, "510899D01", &months).await.unwrap();
    for (m, f) in months.iter().zip(&unit_trend) {
        let cut = app.app.cut(&center, "510899D01", *m, None).await.unwrap();
        assert_eq!(f, &cut.total, "510899D01 {}", m.code());
    }
    assert_eq!(cut["total"]["appeals_filed"], 3);
    assert_eq!(cut["total"]["appeals_upheld"], 2);
    let bad = st["bad_reviews"].as_f64().unwrap();
    assert!((st["bad_rate"].as_f64().unwrap() - bad / valid as f64).abs() < 1e-9);
    // A unit admin sees its own unit, not the county; an empty period has no rates, not 0 %.
    assert_eq!(api.get("unit", &format!("/api/v1/stats?org=510899&{range}")).await.0, 404);
    let (status, own) = api.get("unit", &format!("/api/v1/stats?org=510899D01&{range}")).await;
    assert_eq!(status, 200, "{own}");
    assert!(own["total"]["evaluations"].as_i64().unwrap() <= valid);
    let (_, empty) = api.get("center", "/api/v1/stats?org=510899&from=2020-01-01&to=2020-01-31").await;
    assert_eq!((empty["total"]["evaluations"].as_i64(), empty["total"]["good_rate"].is_null()), (Some(0), true));
    let (status, v) = api.get("center", "/api/v1/stats?org=510899&from=2026-02-01&to=2026-01-01").await;
    assert_eq!((status, v["code"].as_str()), (422, Some("bad_range")));

    // A damaged rollup is found, and `rebuild` repairs it.
    let mut conn = db;
    sqlx::query("UPDATE evaluation_rollup SET n = n + 5 WHERE invalidated = 1").execute(&mut conn).await.unwrap();
    sqlx::query("DELETE FROM record_rollup WHERE staff_id = 0").execute(&mut conn).await.unwrap();
    sqlx::query("UPDATE cut_rollup SET n = n + 1 WHERE dim = 'item'").execute(&mut conn).await.unwrap();
    assert!(app.app.store.rollup_mismatches().await.unwrap().len() >= 2);
    let r = app.app.store.rebuild_rollups().await.unwrap();
    assert!(r.evaluation_rows > 0 && r.record_rows > 0 && r.cut_rows > 0);
    assert_eq!(app.app.store.rollup_mismatches().await.unwrap(), Vec::<String>::new());

    // The counts mean what the metrics say: two upheld appeals are invalidated, apart from every level.
    let invalid: i64 = sqlx::query_scalar("SELECT CAST(SUM(n) AS BIGINT) FROM evaluation_rollup WHERE invalidated = 1")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(invalid, 2);
    let valid: i64 = sqlx::query_scalar("SELECT CAST(SUM(n) AS BIGINT) FROM evaluation_rollup WHERE invalidated = 0")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(valid + 2, app.app.store.count_evaluations().await.unwrap());
}
