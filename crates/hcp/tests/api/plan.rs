//! Issue 15: faithful to the plan, clause by clause — here §八's appeals: the center has the last word, and a
//! case closed the same day does not end the right to appeal.

use serde_json::json;

use crate::both_backends;
use crate::cases::{Api, bad_review};
use crate::helpers::TestApp;

async fn an_appeal_after_a_same_day_close(app: TestApp) {
    let api = Api::new(&app).await;
    let (record, case) = bad_review(&app, "PLAN-8").await;
    for (who, step) in [
        ("center", json!({ "step": "assign", "unit_code": "510899D01" })),
        ("unit", json!({ "step": "solve_on_spot", "text": "当场补齐材料,办结" })),
        ("center", json!({ "step": "follow_up", "solved": true, "text": "评价人表示已解决" })),
        ("center", json!({ "step": "close" })),
    ] {
        let (status, v) = api.step(who, case, step).await;
        assert_eq!(status, 200, "{v}");
    }
    let c = app.app.store.case_by_id(case).await.unwrap().unwrap();
    assert_eq!(c.fields.state, "closed");
    // Closed within the hour: the staff member may still appeal, for N working days from the close.
    let (status, v) =
        api.post("staff", &format!("/api/v1/cases/{case}/appeal"), json!({ "reasons": "评价对象错误" })).await;
    assert_eq!(status, 201, "{v}");
    let decision = format!("/api/v1/appeals/{}/decision", v["id"].as_i64().unwrap());
    // The unit does not support it; the center still decides, and upholds.
    let (_, v) = api.post("unit", &decision, json!({ "supports": false, "reasons": "不支持" })).await;
    assert_eq!(v["state"], "with_center", "{v}");
    let (status, v) =
        api.post("center", &decision, json!({ "uphold": true, "reasons": "经调阅录像,评价对象错误" })).await;
    assert_eq!((status, v["state"].as_str()), (200, Some("upheld")), "{v}");
    let e = app.app.store.first_evaluation(record).await.unwrap().unwrap();
    assert!(app.app.store.is_invalidated(e.id).await.unwrap(), "upheld after the close: the bad review is void");
    let c = app.app.store.case_by_id(case).await.unwrap().unwrap();
    assert_eq!(c.fields.state, "closed", "the closed case stays as it was");
}

both_backends!(an_appeal_after_a_same_day_close);

/// Plan §九: a problem that cannot be fixed quickly, found within the 5 days, has 15 working days at once; the
/// center reviews the finding and may overturn it; no unit is late for the center's delay (issue 30 §1).
async fn the_fifteen_day_path_as_the_plan_says(app: TestApp) {
    let api = Api::new(&app).await;
    let (_, case) = bad_review(&app, "PLAN-9").await;
    api.step("center", case, json!({ "step": "assign", "unit_code": "510899D01" })).await;
    api.step("unit", case, json!({ "step": "contact", "text": "已电话联系" })).await;
    // Nothing to review yet: refused, nothing changed.
    let (_, before) = api.get("center", &format!("/api/v1/cases/{case}")).await;
    let (status, v) = api.step("center", case, json!({ "step": "approve_plan" })).await;
    assert_eq!((status, v["code"].as_str()), (409, Some("no_plan_to_approve")), "{v}");
    let (status, v) = api
        .step(
            "unit",
            case,
            json!({ "step": "finding", "real_problem": true, "long_term": true, "text": "需改造叫号系统" }),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    // Issue 30 §1 (plan §九 asks no approval): the 15 working days hold in the same answer …
    assert_eq!(v["handling_due_at"], v["reply_due_at"], "{v}");
    // … and a center that does nothing makes no unit late on day 6.
    let day6 = app.app.now() + chrono::Duration::days(9);
    app.app.run_case_clock(day6).await.unwrap();
    let (_, d) = api.get("center", &format!("/api/v1/cases/{case}")).await;
    assert_eq!(
        (d["case"]["handling_missed"].as_bool(), d["case"]["overdue"].as_bool()),
        (Some(false), Some(false)),
        "{d}"
    );
    let (status, v) = api.step("unit", case, json!({ "step": "approve_plan" })).await;
    assert_eq!(status, 403, "the unit does not review its own finding: {v}");
    assert!(d["actions"].as_array().unwrap().contains(&json!("overturn_long_term")), "{d}");
    let mine = |v: &serde_json::Value| v["cases"].as_array().unwrap().iter().any(|c| c["id"] == case);
    assert!(mine(&api.get("center", "/api/v1/cases?inbox=mine").await.1), "the finding waits for the center's review");
    let (status, v) = api.step("center", case, json!({ "step": "approve_plan" })).await;
    assert_eq!(status, 200, "{v}");
    assert!(!mine(&api.get("center", "/api/v1/cases?inbox=mine").await.1), "reviewed");
    assert_eq!(&v["handling_due_at"], &v["reply_due_at"], "{v}");
    let (status, v) = api.step("center", case, json!({ "step": "approve_plan" })).await;
    assert_eq!((status, v["code"].as_str()), (409, Some("no_plan_to_approve")), "{v}");
    let (status, v) = api.step("unit", case, json!({ "step": "plan_replied", "text": "下月上线新系统" })).await;
    assert_eq!((status, v["state"].as_str()), (200, Some("handled")), "{v}");
    assert_ne!(before["case"]["version"], v["version"]);

    // The center overturns a long-term finding with its reason: the 5 days apply again.
    let (_, case) = bad_review(&app, "PLAN-9C").await;
    api.step("center", case, json!({ "step": "assign", "unit_code": "510899D01" })).await;
    api.step("unit", case, json!({ "step": "contact", "text": "已电话联系" })).await;
    let finding = json!({ "step": "finding", "real_problem": true, "long_term": true, "text": "需采购设备" });
    assert_eq!(api.step("unit", case, finding).await.0, 200);
    let (status, v) = api.step("center", case, json!({ "step": "overturn_long_term", "text": "" })).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("text_required")), "{v}");
    let (status, v) =
        api.step("center", case, json!({ "step": "overturn_long_term", "text": "现有设备调整即可" })).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!((v["long_term"].as_bool(), &v["handling_due_at"]), (Some(false), &v["rectify_due_at"]), "{v}");
    let (status, v) = api.step("unit", case, json!({ "step": "plan_replied", "text": "以后改" })).await;
    assert_eq!((status, v["code"].as_str()), (409, Some("plan_needs_long_term_finding")), "{v}");

    // A long-term finding after the 5 days have passed is refused.
    let (_, case) = bad_review(&app, "PLAN-9D").await;
    api.step("center", case, json!({ "step": "assign", "unit_code": "510899D01" })).await;
    api.step("unit", case, json!({ "step": "contact", "text": "已电话联系" })).await;
    // Five working days gone by: the limit moved into the past, as a writer of the clock would find it.
    sqlx::any::install_default_drivers();
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.db_url).await.unwrap();
    let past = (app.app.now() - chrono::Duration::hours(1)).timestamp_millis();
    sqlx::query("UPDATE bad_review_case SET rectify_due_at = $1 WHERE id = $2")
        .bind(past)
        .bind(case)
        .execute(&mut db)
        .await
        .unwrap();
    let finding = json!({ "step": "finding", "real_problem": true, "long_term": true, "text": "需改造" });
    let (status, v) = api.step("unit", case, finding).await;
    assert_eq!((status, v["code"].as_str()), (409, Some("too_late_for_long_term")), "{v}");

    // A problem not found long-term cannot be answered with a plan at all.
    let (_, case) = bad_review(&app, "PLAN-9B").await;
    api.step("center", case, json!({ "step": "assign", "unit_code": "510899D01" })).await;
    api.step("unit", case, json!({ "step": "contact", "text": "已电话联系" })).await;
    api.step("unit", case, json!({ "step": "finding", "real_problem": true, "text": "材料清单漏列" })).await;
    let (status, v) = api.step("unit", case, json!({ "step": "plan_replied", "text": "以后改" })).await;
    assert_eq!((status, v["code"].as_str()), (409, Some("plan_needs_long_term_finding")), "{v}");
    let (status, v) = api.step("center", case, json!({ "step": "approve_plan" })).await;
    assert_eq!((status, v["code"].as_str()), (409, Some("no_plan_to_approve")), "{v}");
}

both_backends!(the_fifteen_day_path_as_the_plan_says);

/// Plan §九, the center's own part: a bad review may not wait unassigned for ever. Past the dispatch limit
/// (1 working day by default) it is marked overdue; the assignment counts on time or late in the center's figure.
async fn the_center_has_its_own_dispatch_limit(app: TestApp) {
    let api = Api::new(&app).await;
    let (_, early) = bad_review(&app, "PLAN-D1").await;
    let (_, late) = bad_review(&app, "PLAN-D2").await;
    let (status, v) = api.get("center", &format!("/api/v1/cases/{late}")).await;
    assert_eq!(status, 200);
    let due: chrono::DateTime<chrono::Utc> =
        v["case"]["dispatch_due_at"].as_str().expect("a dispatch limit").parse().unwrap();
    assert_eq!(v["case"]["overdue"], false);
    // Assigned in time: on time in the center's figure.
    assert_eq!(api.step("center", early, json!({ "step": "assign", "unit_code": "510899D01" })).await.0, 200);
    // The other waits past its limit: the clock marks it, once.
    let after = due + chrono::Duration::hours(1);
    assert_eq!(app.app.run_case_clock(after).await.unwrap().dispatch_missed, 1);
    assert_eq!(app.app.run_case_clock(after).await.unwrap().dispatch_missed, 0);
    let (_, v) = api.get("center", &format!("/api/v1/cases/{late}")).await;
    assert_eq!(v["case"]["overdue"], true, "{v}");
    assert!(v["steps"].as_array().unwrap().iter().any(|s| s["kind"] == "overdue"), "{v}");
    let (_, list) = api.get("center", "/api/v1/cases?inbox=overdue").await;
    assert!(list["cases"].as_array().unwrap().iter().any(|c| c["id"] == late), "{list}");
    // Assigned now (still before the limit by the real clock): the step carries the limit it met.
    let (status, v) = api.step("center", late, json!({ "step": "assign", "unit_code": "510899D01" })).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!((v["overdue"].as_bool(), v["dispatch_due_at"].is_null()), (Some(false), true), "assigned: {v}");
    let (_, d) = api.get("center", &format!("/api/v1/cases/{late}")).await;
    let assign = d["steps"].as_array().unwrap().iter().find(|s| s["kind"] == "assign").unwrap().clone();
    assert_eq!(
        (
            assign["due_at"].as_str().map(|s| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap()),
            assign["on_time"].as_bool()
        ),
        (Some(due), Some(true))
    );
    // The center's own on-time figure (a late assignment counts as late: `metrics::tests`).
    let today = hcp_domain::calendar::business_date(app.app.now()).to_string();
    let (_, st) = api.get("center", &format!("/api/v1/stats?org=510899&period={today}")).await;
    assert_eq!(st["total"]["dispatch_on_time_rate"], 1.0, "{st}");
}

both_backends!(the_center_has_its_own_dispatch_limit);

/// Plan §三: platforms are evaluated objects — the catalog holds them, records name them.
async fn records_name_their_platform(app: TestApp) {
    let api = Api::new(&app).await;
    let new = json!({ "code": "P-QSZWFW", "name": "青山县政务服务网", "org_code": "510899D01" });
    let (status, v) = api.post("center", "/api/v1/platforms", new.clone()).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(api.post("center", "/api/v1/platforms", new.clone()).await.1["code"], "platform_code_taken");
    assert_eq!(api.post("unit", "/api/v1/platforms", new.clone()).await.0, 403);
    let (status, v) =
        api.post("center", "/api/v1/platforms", json!({ "code": "P X", "name": " ", "org_code": "nope" })).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = v["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["code", "name", "org_code"], "every reason at once: {v}");
    // Integrating systems read the codes with their API key, people with their session.
    let (status, list) = app.get_json("/api/v1/platforms", Some(&app.api_key)).await;
    assert_eq!(status, 200);
    assert!(list["items"].as_array().unwrap().iter().any(|p| p["code"] == "P-QSZWFW"), "{list}");
    assert_eq!(api.get("staff", "/api/v1/platforms").await.0, 200);
    assert_eq!(app.get_json("/api/v1/platforms", None).await.0, 401);

    let mut body = crate::helpers::record_body("PLAT-1");
    body["platform_code"] = json!("P-NOPE");
    let (status, v) = app.post_json("/api/v1/service-records", &body, Some(&app.api_key)).await;
    assert_eq!(
        (status, v["code"].as_str(), v["field"].as_str()),
        (422, Some("unknown_platform"), Some("platform_code"))
    );
    body["platform_code"] = json!("P-QSZWFW");
    let (status, v) = app.post_json("/api/v1/service-records", &body, Some(&app.api_key)).await;
    assert_eq!(status, 201, "{v}");
    let (_, rec) = app.get_json(&format!("/api/v1/service-records/{}", v["id"]), Some(&app.api_key)).await;
    assert_eq!(
        (rec["platform"]["code"].as_str(), rec["platform"]["name"].as_str()),
        (Some("P-QSZWFW"), Some("青山县政务服务网")),
        "{rec}"
    );
    let page = app.http.get(v["evaluation_url"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("办理平台") && page.contains("青山县政务服务网"), "the evaluation page names it");
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.db_url).await.unwrap();
    let named: Option<String> = sqlx::query_scalar(
        "SELECT p.code FROM service_record r JOIN platform p ON p.id = r.platform_id WHERE r.record_number = 'PLAT-1'",
    )
    .fetch_optional(&mut conn)
    .await
    .unwrap();
    assert_eq!(named.as_deref(), Some("P-QSZWFW"));
}

both_backends!(records_name_their_platform);

/// Plan §三: platforms are evaluated objects — statistics, rankings and reports cut by platform; a database
/// whose rollups predate the cut gets it at start.
async fn platforms_are_counted_ranked_and_reported(app: TestApp) {
    let api = Api::new(&app).await;
    for (code, name) in [("P-WEB", "青山县政务服务网"), ("P-APP", "天府通办移动端")] {
        let new = json!({ "code": code, "name": name, "org_code": "510899D01" });
        assert_eq!(api.post("center", "/api/v1/platforms", new).await.0, 201);
    }
    let mut rated = 0;
    for (i, (platform, level)) in [
        (Some("P-WEB"), "very_satisfied"),
        (Some("P-WEB"), "satisfied"),
        (Some("P-APP"), "dissatisfied"),
        (None, "satisfied"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = crate::helpers::record_body(&format!("PLAT-C{i}"));
        body["platform_code"] = json!(platform);
        let (_, token) = app.register(&body).await;
        let comment = (level == "dissatisfied").then_some("网上材料清单与窗口要求不一致");
        let criteria: &[&str] = match level {
            "very_satisfied" => &["S111"],
            "satisfied" => &["S211"],
            _ => &["S411"],
        };
        let (status, v) = app.evaluate(&token, level, criteria, comment).await;
        assert_eq!(status, 201, "{v}");
        rated += 1;
    }
    let today = hcp_domain::calendar::business_date(app.app.now());
    let range = format!("from={}&to={}", today - chrono::Duration::days(1), today);
    let (status, cut) = api.get("center", &format!("/api/v1/stats?org=510899&{range}&by=platform")).await;
    assert_eq!(status, 200, "{cut}");
    let line = |name: &str| {
        cut["lines"].as_array().unwrap().iter().find(|l| l["name"] == name).cloned().unwrap_or_else(|| panic!("{cut}"))
    };
    assert_eq!(line("青山县政务服务网")["figures"]["evaluations"], 2);
    assert_eq!(line("青山县政务服务网")["figures"]["completed_records"], 2);
    assert_eq!(line("天府通办移动端")["figures"]["bad_reviews"], 1);
    assert!(line("天府通办移动端")["context"].as_str().is_some_and(|c| !c.is_empty()), "the running unit");
    assert_eq!(cut["lines"].as_array().unwrap().len(), 2, "a record without a platform is in no line");
    assert_eq!(cut["total"]["evaluations"], rated);
    // By month too (the month rows of cut_rollup, not the loose days).
    let month = today.format("%Y-%m").to_string();
    let (_, by_month) = api.get("center", &format!("/api/v1/stats?org=510899&period={month}&by=platform")).await;
    let web = by_month["lines"].as_array().unwrap().iter().find(|l| l["name"] == "青山县政务服务网").cloned();
    assert_eq!(web.map(|l| l["figures"]["evaluations"].clone()), Some(json!(2)), "{by_month}");

    let (status, ranking) =
        api.get("center", &format!("/api/v1/rankings?org=510899&{range}&by=platform&metric=satisfaction&min=1")).await;
    assert_eq!(status, 200, "{ranking}");
    let first = &ranking["lines"][0];
    assert_eq!((first["rank"].as_i64(), first["name"].as_str()), (Some(1), Some("青山县政务服务网")), "{ranking}");
    let (status, v) = api.get("center", &format!("/api/v1/stats?org=510899&{range}&by=platforms")).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("invalid_dimension")));

    let (status, report) = api.post("office", "/api/v1/reports", json!({ "org": "510899", "period": month })).await;
    assert_eq!(status, 201, "{report}");
    let platforms = report["body"]["platforms"].as_array().unwrap();
    assert!(platforms.iter().any(|p| p["name"] == "青山县政务服务网" && p["figures"]["evaluations"] == 2), "{report}");
    let id = report["id"].as_i64().unwrap();
    assert_eq!(api.post("office", &format!("/api/v1/reports/{id}/publish"), json!({})).await.0, 200);
    let page = app.http.get(app.url(&format!("/public/reports/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("按服务平台") && page.contains("天府通办移动端"), "the public report lists platforms");

    // A database from before the cut: its platform rows missing, the migration's request recomputes them.
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.db_url).await.unwrap();
    sqlx::query("DELETE FROM cut_rollup WHERE dim = 'platform'").execute(&mut conn).await.unwrap();
    assert!(!app.app.store.rollup_mismatches().await.unwrap().is_empty());
    sqlx::query("INSERT INTO rollup_rebuild_request (reason) VALUES ('test')").execute(&mut conn).await.unwrap();
    app.app.store.migrate().await.unwrap();
    assert_eq!(app.app.store.rollup_mismatches().await.unwrap(), Vec::<String>::new());
    let left: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM rollup_rebuild_request").fetch_one(&mut conn).await.unwrap();
    assert_eq!(left, 0, "the request is fulfilled once");
}

both_backends!(platforms_are_counted_ranked_and_reported);

/// What the plan's steps allow once holds under parallel requests and two instances: a platform code is
/// registered once, an appeal withdrawn once, a late dispatch marked once.
async fn plan_steps_take_effect_once_under_parallel_requests(app: TestApp) {
    let api = Api::new(&app).await;
    let new = json!({ "code": "P-RACE", "name": "并发平台", "org_code": "510899D01" });
    let answers =
        futures_util::future::join_all((0..6).map(|_| api.post("center", "/api/v1/platforms", new.clone()))).await;
    let mut statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    statuses.sort();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409], "{answers:?}");
    assert!(answers.iter().filter(|(s, _)| *s == 409).all(|(_, v)| v["code"] == "platform_code_taken"));

    let (_, case) = bad_review(&app, "RACE-W1").await;
    let (status, v) = api.post("staff", &format!("/api/v1/cases/{case}/appeal"), json!({ "reasons": "有异议" })).await;
    assert_eq!(status, 201, "{v}");
    let withdraw = format!("/api/v1/appeals/{}/withdraw", v["id"]);
    let answers = futures_util::future::join_all((0..5).map(|_| api.post("staff", &withdraw, json!({})))).await;
    assert_eq!(answers.iter().filter(|(s, _)| *s == 200).count(), 1, "{answers:?}");
    assert!(answers.iter().all(|(s, _)| *s == 200 || *s == 409), "{answers:?}");
    assert_eq!(app.app.store.audit_entries("appeal.withdraw", 0, 10).await.unwrap().len(), 1);

    // Two instances run the clock at once: each late dispatch is marked by one of them.
    for n in 0..4 {
        bad_review(&app, &format!("RACE-D{n}")).await;
    }
    let other_store = hcp_store::Store::connect(&app.db_url, 4).await.unwrap();
    let other = hcp_app::App::new(other_store, "http://other", hcp_app::keys::Keys::generate());
    let after = app.app.now() + chrono::Duration::days(10);
    let (a, b) = tokio::join!(app.app.run_case_clock(after), other.run_case_clock(after));
    let marked = a.unwrap().dispatch_missed + b.unwrap().dispatch_missed;
    assert_eq!(marked, 5, "four new bad reviews and the appealed one, each once");
    assert_eq!(app.app.store.audit_entries("case.dispatch_overdue", 0, 20).await.unwrap().len(), 5);
}

both_backends!(plan_steps_take_effect_once_under_parallel_requests);
