//! Issue 16 §5: mystery-shopper visits (调查暗访). The county office plans a visit, only the named inspector
//! records it, within its dates, once (also under parallel requests); a bad finding opens a case that is
//! dispatched and worked like a bad review's, without applicants' notices, second rating or appeal; visits
//! stay out of applicants' figures and are counted apart.

use chrono::Duration;
use serde_json::{Value, json};

use crate::both_backends;
use crate::cases::{Api, PASSWORD};
use crate::helpers::TestApp;

both_backends!(
    a_visit_is_planned_recorded_once_and_its_bad_finding_worked_like_a_bad_review,
    only_one_of_parallel_recordings_is_written
);

fn codes(v: &Value) -> Vec<String> {
    let mut c: Vec<String> =
        v["errors"].as_array().into_iter().flatten().map(|e| e["code"].as_str().unwrap_or("").to_string()).collect();
    c.sort();
    c
}

/// A second county-office account, logged in: (token).
async fn second_office(app: &TestApp) -> String {
    app.app.create_user("office2", "office2", PASSWORD, "county_office", "510899", None).await.unwrap();
    let (status, v) =
        app.post_json("/api/v1/sessions", &json!({ "username": "office2", "password": PASSWORD }), None).await;
    assert_eq!(status, 201, "{v}");
    v["token"].as_str().unwrap().to_string()
}

async fn a_visit_is_planned_recorded_once_and_its_bad_finding_worked_like_a_bad_review(app: TestApp) {
    let api = Api::new(&app).await;
    let office2 = second_office(&app).await;
    let today = hcp_domain::calendar::business_date(app.app.now());
    let (from, to) = (today.to_string(), (today + Duration::days(2)).to_string());
    let range = format!("from={}&to={}", today - Duration::days(1), today + Duration::days(3));
    let (_, stats_before) = api.get("center", &format!("/api/v1/stats?org=510899&{range}&by=unit")).await;

    // Planning: the county office only, every bad field named at once.
    let plan = json!({ "window_code": "W-510899-C01", "from": from, "to": to, "inspector": "office" });
    for who in ["center", "auditor", "unit", "staff"] {
        assert_eq!(api.post(who, "/api/v1/inspections", plan.clone()).await.0, 403, "{who}");
    }
    let (status, v) = api
        .post(
            "office",
            "/api/v1/inspections",
            json!({ "window_code": "W-NOPE", "from": to, "to": from, "inspector": "unit" }),
        )
        .await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(codes(&v), ["dates_out_of_order", "unknown_window"]);
    let (status, v) = api
        .post(
            "office",
            "/api/v1/inspections",
            json!({ "window_code": "W-510899-C01", "from": "2020-01-01", "to": "2020-01-02", "inspector": "unit" }),
        )
        .await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(codes(&v), ["inspector_not_allowed", "visit_in_past"]);
    let (status, v) = api.post("office", "/api/v1/inspections", plan.clone()).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["state"], "planned");
    let id = v["id"].as_i64().unwrap();
    let record = format!("/api/v1/inspections/{id}/evaluations");

    // The visit is unannounced: the unit and its staff do not learn of it; auditors read it.
    for who in ["unit", "staff", "center"] {
        assert_eq!(api.get(who, &format!("/api/v1/inspections/{id}")).await.0, 404, "{who}");
        assert_eq!(api.get(who, &format!("/api/v1/inspections?{range}")).await.0, 403, "{who}");
    }
    assert_eq!(api.get("auditor", &format!("/api/v1/inspections/{id}")).await.0, 200);

    // Only the named inspector records; a bad finding needs its findings and a reason.
    let bad = json!({ "level": "very_dissatisfied", "indicator_ids": [], "comment": "窗口人员离岗 20 分钟",
                      "findings": "10:05 到窗口,无人值守,20 分钟后才有人接待;一次性告知单缺失。",
                      "staff_number": "QS0001" });
    let (status, v) = api.post("auditor", &record, bad.clone()).await;
    assert_eq!(status, 403, "{v}");
    assert_eq!(v["code"], "not_the_inspector");
    let (status, _) = app.post_json(&record, &bad, Some(&office2)).await;
    assert_eq!(status, 403);
    let (status, v) = api
        .post("office", &record, json!({ "level": "very_dissatisfied", "findings": " ", "staff_number": "QS9999" }))
        .await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(codes(&v), ["bad_review_needs_reason", "required", "unknown_staff"]);
    let (status, v) = api.post("office", &record, bad.clone()).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["state"], "recorded");
    assert_eq!(v["evaluation"]["level_name"], "非常不满意");
    assert_eq!(v["evaluation"]["staff_number"], "QS0001");
    let case = v["case_id"].as_i64().expect("a bad finding opens a case");
    let (status, v) = api.post("office", &record, bad.clone()).await;
    assert_eq!(status, 409, "{v}");
    assert_eq!(v["code"], "inspection_recorded");

    // Photos through the API: the inspector's, checked like case attachments, five at most.
    let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'];
    let upload = |who: &'static str, name: &'static str| {
        let (http, url, token) =
            (app.http.clone(), app.url(&format!("/api/v1/inspections/{id}/photos?name={name}")), api.token(who));
        async move {
            let res = http.post(url).bearer_auth(token).body(jpeg.to_vec()).send().await.unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or_default())
        }
    };
    let (status, v) = upload("office", "window.jpg").await;
    assert_eq!(status, 201, "{v}");
    let photo = v["id"].as_i64().unwrap();
    assert_eq!(upload("auditor", "x.jpg").await.0, 403);
    assert_eq!(upload("unit", "x.jpg").await.0, 404);
    // Eight at once for the four places left: four taken, the rest refused, never more than five.
    let answers = futures_util::future::join_all((0..8).map(|_| upload("office", "more.jpg"))).await;
    let mut statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    statuses.sort();
    assert_eq!(statuses, [201, 201, 201, 201, 422, 422, 422, 422], "{answers:?}");
    let (status, v) = upload("office", "sixth.jpg").await;
    assert_eq!((status, v["code"].as_str()), (422, Some("too_many_files")), "{v}");
    let res = app
        .http
        .get(app.url(&format!("/api/v1/inspections/{id}/photos/{photo}")))
        .bearer_auth(api.token("auditor"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.bytes().await.unwrap().as_ref(), &jpeg[..]);

    // The case: dispatched by the center and worked by the unit to the same limits as a bad review's.
    let (status, v) = api.get("center", &format!("/api/v1/cases/{case}")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["case"]["inspection_id"], id);
    assert_eq!(v["case"]["service_record_id"], Value::Null);
    assert_eq!(v["case"]["item_name"], "调查暗访");
    assert_eq!(v["case"]["state"], "unassigned");
    assert_eq!(v["may_reveal"], false);
    let (status, v) = api.step("center", case, json!({ "step": "assign", "unit_code": "510899D01" })).await;
    assert_eq!(status, 200, "{v}");
    assert!(v["contact_due_at"].is_string() && v["rectify_due_at"].is_string() && v["reply_due_at"].is_string());
    // Its deadlines read "… 24:00" of their last day, like every deadline (never "… 00:00" of the next).
    let page = crate::console::login(&app, "unit").await.get(&format!("/console/cases/{case}")).await.1;
    assert!(page.contains(" 24:00") && !page.contains(" 00:00"), "{page}");
    // No appeal against the county office's own finding.
    let (status, v) =
        api.post("staff", &format!("/api/v1/cases/{case}/appeal"), json!({ "reasons": "当时去取材料了" })).await;
    assert_eq!(status, 409, "{v}");
    assert_eq!(v["code"], "inspection_not_appealable");
    for (step, body) in [
        ("contact", json!({ "step": "contact", "text": "已与县政府办公室暗访人员联系" })),
        ("finding", json!({ "step": "finding", "real_problem": true, "text": "属实" })),
        ("rectified", json!({ "step": "rectified", "text": "已落实 AB 岗,补齐一次性告知单" })),
    ] {
        let (status, v) = api.step("unit", case, body).await;
        assert_eq!(status, 200, "{step}: {v}");
    }
    let (status, v) =
        api.step("center", case, json!({ "step": "follow_up", "solved": true, "text": "复查属实" })).await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = api.step("center", case, json!({ "step": "close" })).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["state"], "closed");
    // Nobody was sent an applicant's notice or a second-rating link: there is no applicant.
    let (_, v) = api.get("center", &format!("/api/v1/cases/{case}")).await;
    let kinds: Vec<&str> =
        v["messages"].as_array().unwrap().iter().map(|m| m["recipient_kind"].as_str().unwrap()).collect();
    assert!(!kinds.contains(&"evaluator"), "{kinds:?}");
    assert_eq!(v["second_evaluation"], Value::Null);

    // A good visit opens nothing.
    let (_, v) = api.post("office", "/api/v1/inspections", plan.clone()).await;
    let good = v["id"].as_i64().unwrap();
    let (status, v) = api
        .post(
            "office",
            &format!("/api/v1/inspections/{good}/evaluations"),
            json!({ "level": "very_satisfied", "findings": "主动引导,一次办结", "channel": "pc" }),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["case_id"], Value::Null);

    // Counted apart ("暗访评价"); the applicants' figures and rollups are what they were.
    let (status, v) = api.get("auditor", &format!("/api/v1/inspections?{range}")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["inspections"].as_array().unwrap().len(), 2);
    assert_eq!(
        v["summary"],
        json!({ "planned": 2, "recorded": 2, "missed": 0, "bad_findings": 1,
                "levels": { "very_dissatisfied": 1, "very_satisfied": 1 } })
    );
    let (_, stats_after) = api.get("center", &format!("/api/v1/stats?org=510899&{range}&by=unit")).await;
    assert_eq!(stats_before, stats_after);
    assert_eq!(app.app.store.rollup_mismatches().await.unwrap(), Vec::<String>::new());
    // The month's report carries them apart too, and the console's statistics page shows them to the office.
    let month = hcp_domain::period::Period::month_of(today).code();
    let (status, v) = api.post("office", "/api/v1/reports", json!({ "org": "510899", "period": month })).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["body"]["inspections"]["recorded"], 2, "{v}");
    assert_eq!(v["body"]["inspections"]["bad_findings"], 1);
    assert_eq!(v["body"]["total"], stats_after["total"]);
    let b = crate::console::login(&app, "office").await;
    let (status, page) = b.get(&format!("/console/reports/{}", v["id"])).await;
    assert_eq!(status, 200);
    assert!(page.contains("暗访评价") && page.contains("录入暗访评价 2 次"), "{page}");
    // A flag's page links to a visit of its window: the plan form comes filled in.
    let (status, page) = b.get("/console/inspections?window_code=W-510899-C01").await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"name="window_code" required value="W-510899-C01""#), "{page}");
    let (status, page) = b.get(&format!("/console/stats?org=510899&period={month}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("<h3>暗访评价</h3>"), "{page}");
    let (_, v) = api.get("office", &format!("/api/v1/inspections?from={from}&to=bad")).await;
    assert_eq!(codes(&v), ["invalid_date"]);

    // Every step audited.
    let audit = app.app.store.audit_entries("", 0, 1000).await.unwrap();
    for action in ["inspection.plan", "inspection.record", "case.open", "case.step"] {
        assert!(audit.iter().any(|a| a.action == action), "{action} missing");
    }
}

async fn only_one_of_parallel_recordings_is_written(app: TestApp) {
    let api = Api::new(&app).await;
    let today = hcp_domain::calendar::business_date(app.app.now()).to_string();
    let (status, v) = api
        .post(
            "office",
            "/api/v1/inspections",
            json!({ "window_code": "W-510899-C01", "from": today, "to": today, "inspector": "office" }),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    let path = format!("/api/v1/inspections/{}/evaluations", v["id"]);
    let body = json!({ "level": "dissatisfied", "comment": "等候过久", "findings": "排队 40 分钟" });
    let answers = futures_util::future::join_all((0..5).map(|_| api.post("office", &path, body.clone()))).await;
    let mut statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    statuses.sort();
    assert_eq!(statuses, [201, 409, 409, 409, 409], "{answers:?}");
    let cases: i64 = {
        sqlx::any::install_default_drivers();
        let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.db_url).await.unwrap();
        sqlx::query_scalar("SELECT COUNT(*) FROM bad_review_case WHERE inspection_id IS NOT NULL")
            .fetch_one(&mut db)
            .await
            .unwrap()
    };
    assert_eq!(cases, 1);
}
