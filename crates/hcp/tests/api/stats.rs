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
    let mut open_records = Vec::new();
    for i in 0..60 {
        let mut body = record_body(&format!("ROLL-{i}"));
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

    // A damaged rollup is found, and `rebuild` repairs it.
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.db_url).await.unwrap();
    sqlx::query("UPDATE evaluation_rollup SET n = n + 5 WHERE invalidated = 1").execute(&mut conn).await.unwrap();
    sqlx::query("DELETE FROM record_rollup WHERE staff_id = 0").execute(&mut conn).await.unwrap();
    assert!(app.app.store.rollup_mismatches().await.unwrap().len() >= 2);
    let r = app.app.store.rebuild_rollups().await.unwrap();
    assert!(r.evaluation_rows > 0 && r.record_rows > 0);
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
