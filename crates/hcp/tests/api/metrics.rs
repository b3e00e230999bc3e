//! Issue 18 §2: `/metrics` for operators (only from allowed addresses), request ids in answers and problems,
//! `/readyz`.

use serde_json::Value;

use crate::both_backends;
use crate::helpers::{Backend, TestApp, record_body, spawn_app_with};

both_backends!(metrics_count_what_happened_by_route_template);

async fn scrape(app: &TestApp) -> String {
    let res = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    res.text().await.unwrap()
}

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn metrics_count_what_happened_by_route_template(app: TestApp) {
    let (id, token) = app.register(&record_body("MET-1")).await;
    assert_eq!(app.evaluate(&token, "very_dissatisfied", &[], Some("材料被退回三次")).await.0, 201);
    for _ in 0..3 {
        let (status, _) = app.get_json(&format!("/api/v1/service-records/{id}"), Some(&app.api_key)).await;
        assert_eq!(status, 200);
    }
    assert_eq!(app.get_json("/healthz", None).await.0, 200);

    let text = scrape(&app).await;
    assert!(text.ends_with("# EOF\n"), "{text}");
    // By the route's template, never by the id in the path.
    let series = r#"hcp_http_requests_total{method="GET",route="/api/v1/service-records/{id}",status="200"}"#;
    assert_eq!(value(&text, series), Some(3.0), "{text}");
    assert!(!text.contains(&format!("/service-records/{id}\"")), "{text}");
    assert!(
        text.contains(r#"hcp_http_request_duration_seconds_bucket{le="0.001",method="GET",route="/healthz"}"#)
            || text.contains(r#"hcp_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.001"}"#),
        "{text}"
    );
    assert_eq!(value(&text, "hcp_evaluations_written_total"), Some(1.0), "{text}");
    assert!(value(&text, "hcp_writer_batches_total").is_some_and(|n| n >= 1.0), "{text}");
    assert!(value(&text, "hcp_writer_commit_seconds_total").is_some_and(|s| s > 0.0), "{text}");
    assert_eq!(value(&text, r#"hcp_cases{state="unassigned"}"#), Some(1.0), "{text}");
    assert_eq!(value(&text, "hcp_cases_overdue"), Some(0.0), "{text}");
    // The bad review's notice to the staff member waits for the gateway (jobs are off in tests).
    assert!(value(&text, r#"hcp_outbox_waiting{gateway="sms"}"#).is_some_and(|n| n >= 1.0), "{text}");
    assert!(value(&text, r#"hcp_outbox_waiting{gateway="upstream"}"#).is_some(), "{text}");
    assert!(value(&text, "hcp_db_pool_connections").is_some_and(|n| n >= 1.0), "{text}");
    // An unknown path is counted without its path.
    app.http.get(app.url("/no/such/page/12345")).send().await.unwrap();
    let text = scrape(&app).await;
    assert!(text.contains(r#"route="unmatched",status="404""#), "{text}");
    assert!(!text.contains("12345"), "{text}");

    // Every answer names its request; a problem says which one it was.
    let res = app.http.get(app.url("/api/v1/cases/abc")).bearer_auth("nope").send().await.unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 16);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["instance"], format!("urn:hcp:request:{id}"));

    let (status, v) = app.get_json("/readyz", None).await;
    assert_eq!((status, v["status"].as_str()), (200, Some("ready")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_refused_to_addresses_not_allowed() {
    let app =
        spawn_app_with(Backend::Sqlite, |cfg| cfg.metrics_allow = vec!["10.9.9.9".parse().unwrap()]).await.unwrap();
    let res = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("--metrics-allow"));
}

/// `serve --no-metrics`: nothing counted, `/metrics` not served (404 with the reason), the rest unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_be_turned_off() {
    let app = spawn_app_with(Backend::Sqlite, |cfg| cfg.metrics = false).await.unwrap();
    assert_eq!(app.get_json("/healthz", None).await.0, 200);
    let res = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("--no-metrics"));
    assert!(!app.app.telemetry.enabled);
    let (_, token) = app.register(&record_body("NOMET-1")).await;
    assert_eq!(app.evaluate(&token, "satisfied", &[], None).await.0, 201);
}
