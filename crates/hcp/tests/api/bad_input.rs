//! Issue 2 §6: every bad request gets a 4xx problem+json naming the field, with a Chinese message and a
//! stable code, never a 500, and nothing is written.

use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{TestApp, record_body};

both_backends!(bad_records_are_refused_clearly_and_write_nothing, bad_requests_of_every_kind);

fn with(mut body: Value, path: &[&str], value: Value) -> Value {
    let mut v = &mut body;
    for p in &path[..path.len() - 1] {
        v = &mut v[*p];
    }
    v[path[path.len() - 1]] = value;
    body
}

fn without(mut body: Value, field: &str) -> Value {
    body.as_object_mut().unwrap().remove(field);
    body
}

async fn bad_records_are_refused_clearly_and_write_nothing(app: TestApp) {
    let ok = record_body("B-1");
    let now = chrono::Utc::now();
    let cases: Vec<(&str, Value, u16, &str, &str)> = vec![
        ("wrong type", with(ok.clone(), &["record_number"], json!(123)), 422, "invalid_type", "record_number"),
        ("unknown field", with(ok.clone(), &["colour"], json!("red")), 422, "unknown_field", "colour"),
        (
            "unknown nested field",
            with(ok.clone(), &["applicant", "age"], json!(3)),
            422,
            "unknown_field",
            "applicant.age",
        ),
        ("missing field", without(ok.clone(), "item_code"), 422, "missing_field", "item_code"),
        ("unknown item", with(ok.clone(), &["item_code"], json!("NOPE")), 422, "unknown_item", "item_code"),
        ("unknown org", with(ok.clone(), &["org_code"], json!("999")), 422, "unknown_org", "org_code"),
        ("unknown window", with(ok.clone(), &["window_code"], json!("W-X")), 422, "unknown_window", "window_code"),
        ("unknown staff", with(ok.clone(), &["staff_number"], json!("X1")), 422, "unknown_staff", "staff_number"),
        (
            "ID check digit",
            with(ok.clone(), &["applicant", "id_number"], json!("110105194912310021")),
            422,
            "invalid_id_number",
            "applicant.id_number",
        ),
        (
            "credit code check character",
            with(
                with(ok.clone(), &["applicant", "kind"], json!("enterprise")),
                &["applicant", "id_number"],
                json!("91350100M000100Y44"),
            ),
            422,
            "invalid_credit_code",
            "applicant.id_number",
        ),
        (
            "mobile",
            with(ok.clone(), &["applicant", "mobile"], json!("0839-1234567")),
            422,
            "invalid_mobile",
            "applicant.mobile",
        ),
        (
            "applicant kind",
            with(ok.clone(), &["applicant", "kind"], json!("alien")),
            422,
            "invalid_applicant_kind",
            "applicant.kind",
        ),
        ("empty name", with(ok.clone(), &["applicant", "name"], json!("  ")), 422, "required", "applicant.name"),
        ("bad time", with(ok.clone(), &["received_at"], json!("2026-03-01 09:00")), 422, "invalid_time", "received_at"),
        (
            "completed before received",
            with(ok.clone(), &["completed_at"], json!((now - chrono::Duration::days(1)).to_rfc3339())),
            422,
            "completed_before_received",
            "completed_at",
        ),
        (
            "time in the future",
            with(ok.clone(), &["completed_at"], json!((now + chrono::Duration::days(1)).to_rfc3339())),
            422,
            "time_in_future",
            "completed_at",
        ),
    ];
    for (what, body, status, code, field) in cases {
        let res = app
            .http
            .post(app.url("/api/v1/service-records"))
            .bearer_auth(&app.api_key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), status, "{what}");
        assert_eq!(res.headers()["content-type"], "application/problem+json; charset=utf-8", "{what}");
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["code"], code, "{what}: {v}");
        assert_eq!(v["field"], field, "{what}: {v}");
        assert_eq!(v["status"], status, "{what}");
        let detail = v["detail"].as_str().unwrap();
        assert!(detail.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{what}: Chinese message: {detail}");
    }
    assert_eq!(app.app.store.count_records().await.unwrap(), 0, "nothing partly written");
}

async fn bad_requests_of_every_kind(app: TestApp) {
    let send = |req: reqwest::RequestBuilder| async move {
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
        (status, ct, res.json::<Value>().await.unwrap_or(Value::Null))
    };
    let records = app.url("/api/v1/service-records");

    let (status, ct, v) = send(
        app.http
            .post(&records)
            .bearer_auth(&app.api_key)
            .header("content-type", "application/json")
            .body("{\"record_number\": "),
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (400, Some("malformed_json")));
    assert_eq!(ct.as_deref(), Some("application/problem+json; charset=utf-8"));

    let (status, _, v) = send(app.http.post(&records).bearer_auth(&app.api_key).body("record_number=1")).await;
    assert_eq!((status, v["code"].as_str()), (415, Some("unsupported_media_type")));

    let mut big = record_body("B-2");
    big["record_number"] = json!("x".repeat(70 * 1024));
    let (status, _, v) = send(app.http.post(&records).bearer_auth(&app.api_key).json(&big)).await;
    assert_eq!((status, v["code"].as_str()), (413, Some("body_too_large")));

    let (status, _, v) = send(app.http.post(&records).bearer_auth(&app.api_key).json(&json!([1, 2]))).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("invalid_type")));

    let (status, _, v) = send(app.http.get(app.url("/api/v1/service-records/abc")).bearer_auth(&app.api_key)).await;
    assert_eq!((status, v["code"].as_str()), (404, Some("record_not_found")));
    let (status, _, v) = send(app.http.get(app.url("/api/v1/service-records/999999")).bearer_auth(&app.api_key)).await;
    assert_eq!((status, v["code"].as_str()), (404, Some("record_not_found")));
    let (status, _, v) = send(app.http.get(app.url("/api/v1/nothing-here"))).await;
    assert_eq!((status, v["code"].as_str()), (404, Some("not_found")));
    let (status, _, v) = send(app.http.delete(app.url("/api/v1/evaluations"))).await;
    assert_eq!((status, v["code"].as_str()), (405, Some("method_not_allowed")));

    // Evaluations: unknown level, unknown channel, unknown criterion, comment too long.
    let (_, token) = app.register(&record_body("B-3")).await;
    let evaluations = app.url("/api/v1/evaluations");
    for (body, code, field) in [
        (json!({"token": token, "level": "good"}), "invalid_level", "level"),
        (json!({"token": token, "level": "satisfied", "channel": "fax"}), "invalid_channel", "channel"),
        (json!({"token": token, "level": "satisfied", "channel": "provincial"}), "channel_not_allowed", "channel"),
        (json!({"token": token, "level": "satisfied", "indicator_ids": ["X9"]}), "unknown_criterion", "indicator_ids"),
        (json!({"token": token, "level": "satisfied", "comment": "长".repeat(501)}), "too_long", "comment"),
        (json!({"token": token, "level": 5}), "invalid_type", "level"),
        (json!({"level": "satisfied"}), "missing_field", "token"),
    ] {
        let (status, ct, v) = send(app.http.post(&evaluations).json(&body)).await;
        assert_eq!(status, 422, "{body}: {v}");
        assert_eq!(ct.as_deref(), Some("application/problem+json; charset=utf-8"));
        assert_eq!((v["code"].as_str(), v["field"].as_str()), (Some(code), Some(field)), "{body}");
    }
    assert_eq!(app.app.store.count_evaluations().await.unwrap(), 0, "nothing written");
}
