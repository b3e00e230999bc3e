use serde_json::json;

use crate::both_backends;
use crate::helpers::{ID_NUMBER, TestApp, record_body};

both_backends!(
    registers_a_record_with_an_evaluation_link,
    a_retried_registration_gets_a_fresh_link,
    api_keys_are_required_and_scoped,
    records_registered_before_completion,
    record_numbers_are_unique_county_wide,
    window_and_staff_belong_to_the_records_organization,
);

/// Issue 14 §2: a key scoped to a township cannot put another unit's window or staff member on its record
/// (and so get them rated and judged); the refusal names the field. Nothing is written.
async fn window_and_staff_belong_to_the_records_organization(app: TestApp) {
    let key = app.app.create_api_key("青山镇便民服务系统", Some("510899101")).await.unwrap();
    let mut body = record_body("W-1");
    body["org_code"] = json!("510899101");
    body["window_code"] = json!("W-510899-C01");
    body["staff_number"] = serde_json::Value::Null;
    let (status, v) = app.post_json("/api/v1/service-records", &body, Some(&key)).await;
    assert_eq!(
        (status, v["code"].as_str(), v["field"].as_str()),
        (422, Some("window_not_of_org"), Some("window_code")),
        "{v}"
    );
    body["window_code"] = json!("W-510899101-01");
    body["staff_number"] = json!("QS0001");
    let (status, v) = app.post_json("/api/v1/service-records", &body, Some(&key)).await;
    assert_eq!(
        (status, v["code"].as_str(), v["field"].as_str()),
        (422, Some("staff_not_of_org"), Some("staff_number")),
        "{v}"
    );
    assert!(v["detail"].as_str().unwrap_or_default().contains("QS0001"), "{v}");
    body["staff_number"] = serde_json::Value::Null;
    let (status, v) = app.post_json("/api/v1/service-records", &body, Some(&key)).await;
    assert_eq!(status, 201, "its own window: {v}");
}

/// Issue 13: the upper level knows a record by its number alone, so a second system cannot register a number
/// another one used — not even at the same moment; it learns whose it is. Nothing is written.
async fn record_numbers_are_unique_county_wide(app: TestApp) {
    app.register(&record_body("U-1")).await;
    let other = app.app.create_api_key("不动产登记系统", None).await.unwrap();
    let (status, v) = app.post_json("/api/v1/service-records", &record_body("U-1"), Some(&other)).await;
    assert_eq!(status, 409, "{v}");
    assert_eq!(v["code"], "record_number_taken");
    assert!(v["detail"].as_str().unwrap_or_default().contains("已由对接系统"), "{v}");
    assert!(v["owner"].is_string(), "{v}");
    // Two systems racing for a new number: one wins, the other is told.
    let mut tasks = Vec::new();
    for key in [app.api_key.clone(), other.clone()] {
        let (http, url) = (app.http.clone(), app.url("/api/v1/service-records"));
        tasks.push(tokio::spawn(async move {
            http.post(url).bearer_auth(key).json(&record_body("U-2")).send().await.unwrap().status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, [201, 409]);
}

/// R5.2: registering gives an unguessable single-use link; reading back never shows personal data.
async fn registers_a_record_with_an_evaluation_link(app: TestApp) {
    let (status, v) = app.post_json("/api/v1/service-records", &record_body("R-1"), Some(&app.api_key)).await;
    assert_eq!(status, 201, "{v}");
    let token = v["evaluation_token"].as_str().unwrap();
    assert_eq!(token.len(), 43, "256 random bits, base64url");
    assert_eq!(v["evaluation_url"], format!("{}/e/{token}", app.base));
    assert_eq!(v["evaluation_qr_png"], format!("{}/e/{token}/qr.png", app.base));
    assert!(v["evaluation_deadline"].is_string());

    let id = v["id"].as_i64().unwrap();
    let (status, rec) = app.get_json(&format!("/api/v1/service-records/{id}"), Some(&app.api_key)).await;
    assert_eq!(status, 200);
    assert_eq!(rec["evaluation"], serde_json::Value::Null);
    assert_eq!(rec["item"]["code"], "QS010001");
    assert_eq!(rec["window"]["code"], "W-510899-C01");
    assert_eq!(rec["staff"]["staff_number"], "QS0001");
    assert_eq!(rec["applicant"]["name"], "张*");
    assert_eq!(rec["applicant"]["mobile"], "138****5678");
    assert_eq!(rec["applicant"]["id_number"], "1101**********002X");
    let text = rec.to_string();
    assert!(!text.contains(ID_NUMBER) && !text.contains("13812345678") && !text.contains("张三"));

    // The link opens a plain page that names what is being rated.
    let page = app.http.get(v["evaluation_url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("食品经营许可") && html.contains("非常不满意") && html.contains("QS0001"));
}

async fn a_retried_registration_gets_a_fresh_link(app: TestApp) {
    let body = record_body("R-2");
    let (first_id, first_token) = app.register(&body).await;
    let (status, v) = app.post_json("/api/v1/service-records", &body, Some(&app.api_key)).await;
    assert_eq!(status, 200, "a retry is not an error: {v}");
    assert_eq!(v["id"].as_i64(), Some(first_id));
    let second_token = v["evaluation_token"].as_str().unwrap();
    assert_ne!(second_token, first_token);
    for t in [&first_token, second_token] {
        let res = app.http.get(app.url(&format!("/e/{t}"))).send().await.unwrap();
        assert_eq!(res.status(), 200);
    }

    let mut other = body.clone();
    other["applicant"]["name"] = json!("李四");
    let (status, v) = app.post_json("/api/v1/service-records", &other, Some(&app.api_key)).await;
    assert_eq!(status, 409);
    assert_eq!(v["code"], "duplicate_record_number");
}

/// Issue 2 §7: no key, a wrong key → 401; a key for a township sees only that township.
async fn api_keys_are_required_and_scoped(app: TestApp) {
    let (status, v) = app.post_json("/api/v1/service-records", &record_body("R-3"), None).await;
    assert_eq!(status, 401);
    assert_eq!(v["code"], "unauthorized");
    let (status, _) = app.post_json("/api/v1/service-records", &record_body("R-3"), Some("hcp_wrong")).await;
    assert_eq!(status, 401);

    let township_key = app.app.create_api_key("青山镇便民服务系统", Some("510899101")).await.unwrap();
    let (status, v) = app.post_json("/api/v1/service-records", &record_body("R-3"), Some(&township_key)).await;
    assert_eq!(status, 422);
    assert_eq!(v["code"], "org_out_of_scope");
    assert_eq!(v["field"], "org_code");

    let mut own = record_body("R-3");
    own["org_code"] = json!("510899101");
    own["window_code"] = json!("W-510899101-01");
    own["staff_number"] = serde_json::Value::Null;
    let (status, v) = app.post_json("/api/v1/service-records", &own, Some(&township_key)).await;
    assert_eq!(status, 201, "{v}");
    let own_id = v["id"].as_i64().unwrap();
    let (status, _) = app.get_json(&format!("/api/v1/service-records/{own_id}"), Some(&township_key)).await;
    assert_eq!(status, 200);

    // A county record, guessed by id from the township's key, does not exist for it.
    let (county_id, _) = app.register(&record_body("R-4")).await;
    let (status, v) = app.get_json(&format!("/api/v1/service-records/{county_id}"), Some(&township_key)).await;
    assert_eq!(status, 404);
    assert_eq!(v["code"], "record_not_found");

    let (_, orgs) = app.get_json("/api/v1/orgs", Some(&township_key)).await;
    let orgs = orgs["items"].as_array().unwrap();
    assert!(orgs.len() > 5);
    assert!(orgs.iter().all(|o| o["code"].as_str().unwrap().starts_with("510899101")));
}

async fn records_registered_before_completion(app: TestApp) {
    let mut body = record_body("R-5");
    body.as_object_mut().unwrap().remove("completed_at");
    let (id, token) = app.register(&body).await;
    // Plan §五: received is enough to rate it (办理中评价); the page says the matter is in progress.
    let page = app.http.get(app.url(&format!("/e/{token}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("办理中"), "{page}");
    let (other, other_token) = {
        let mut b = record_body("R-5B");
        b.as_object_mut().unwrap().remove("completed_at");
        app.register(&b).await
    };
    let (status, v) = app.evaluate(&other_token, "dissatisfied", &["S411"], None).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(in_progress_today(&app.app).await, (1, 1));

    let done = chrono::Utc::now().to_rfc3339();
    let path = format!("/api/v1/service-records/{id}/complete");
    let (status, rec) = app.post_json(&path, &json!({ "completed_at": done }), Some(&app.api_key)).await;
    assert_eq!(status, 200, "{rec}");
    assert!(rec["evaluation_deadline"].is_string());
    let (status, _) = app.post_json(&path, &json!({ "completed_at": done }), Some(&app.api_key)).await;
    assert_eq!(status, 200, "the same completion again is harmless");
    let later = (chrono::Utc::now() - chrono::Duration::seconds(30)).to_rfc3339();
    let (status, v) = app.post_json(&path, &json!({ "completed_at": later }), Some(&app.api_key)).await;
    assert_eq!(status, 409);
    assert_eq!(v["code"], "already_completed");

    let (status, _) = app.evaluate(&token, "satisfied", &[], None).await;
    assert_eq!(status, 201);
    assert_eq!(in_progress_today(&app.app).await, (2, 1), "rated after completion: not in progress");
    // The other is completed, dated back before its evaluation (a completion entered late): not in progress
    // after all, and the counts still equal a full recomputation.
    let back = (chrono::Utc::now() - chrono::Duration::seconds(20)).to_rfc3339();
    let path = format!("/api/v1/service-records/{other}/complete");
    let (status, rec) = app.post_json(&path, &json!({ "completed_at": back }), Some(&app.api_key)).await;
    assert_eq!(status, 200, "{rec}");
    assert_eq!(in_progress_today(&app.app).await, (2, 0));
    assert!(app.app.store.rollup_mismatches().await.unwrap().is_empty());
}

/// Today's evaluations in the county and, of them, those given while the matter was in progress.
async fn in_progress_today(app: &hcp_app::App) -> (u64, u64) {
    let center = crate::helpers::county_center_admin();
    let today = hcp_domain::calendar::business_date(app.now()).to_string();
    let period = hcp_domain::period::Period::parse(&today).unwrap();
    let cut = app.cut(&center, "510899", period, None).await.unwrap();
    (cut.total.evaluations, cut.total.in_progress_evaluations)
}
