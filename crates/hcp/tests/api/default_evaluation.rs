use chrono::{Duration, Utc};
use hcp_app::App;
use hcp_domain::calendar::{add_natural_days, cst};
use serde_json::json;

use crate::both_backends;
use crate::helpers::{TestApp, record_body};

both_backends!(
    an_unrated_record_becomes_basically_satisfied_after_7_natural_days,
    the_link_refuses_once_the_window_closed,
    two_processes_running_the_job_record_each_default_once,
);

/// R7.3: completed and not evaluated by 24:00 (UTC+8) of the 7th natural day after → one default evaluation.
async fn an_unrated_record_becomes_basically_satisfied_after_7_natural_days(app: TestApp) {
    let (id, token) = app.register(&record_body("D-1")).await;
    let (_, rec) = app.get_json(&format!("/api/v1/service-records/{id}"), Some(&app.api_key)).await;
    let completed: chrono::DateTime<Utc> = rec["completed_at"].as_str().unwrap().parse().unwrap();
    let deadline = add_natural_days(completed, 7);
    assert_eq!(rec["evaluation_deadline"].as_str().unwrap().parse::<chrono::DateTime<Utc>>().unwrap(), deadline);
    assert_eq!(deadline.with_timezone(&cst()).format("%H:%M:%S").to_string(), "00:00:00");

    let report = app.app.run_jobs(deadline - Duration::milliseconds(1)).await.unwrap();
    assert_eq!(report.default_evaluations, 0, "not a moment before 24:00 of the 7th day");
    let report = app.app.run_jobs(deadline).await.unwrap();
    assert_eq!(report.default_evaluations, 1);
    let report = app.app.run_jobs(deadline + Duration::days(1)).await.unwrap();
    assert_eq!(report.default_evaluations, 0, "running it again records nothing twice");

    let (_, rec) = app.get_json(&format!("/api/v1/service-records/{id}"), Some(&app.api_key)).await;
    assert_eq!(rec["evaluation"]["level"], "basically_satisfied");
    assert_eq!(rec["evaluation"]["is_default"], true);
    assert_eq!(rec["evaluation"]["channel"], "system");

    // The link now says the window is closed, and on which date.
    let (status, v) = app.evaluate(&token, "satisfied", &[], None).await;
    assert_eq!(status, 410);
    assert_eq!(v["code"], "evaluation_window_closed");
    let closed_on = (deadline - Duration::milliseconds(1)).with_timezone(&cst()).format("%Y年%-m月%-d日").to_string();
    assert!(v["detail"].as_str().unwrap().contains(&closed_on), "{v}");
}

/// Even before the job has run, a link past its window refuses and names the closing date.
async fn the_link_refuses_once_the_window_closed(app: TestApp) {
    let mut body = record_body("D-2");
    let completed = Utc::now() - Duration::days(10);
    body["received_at"] = json!((completed - Duration::hours(1)).to_rfc3339());
    body["completed_at"] = json!(completed.to_rfc3339());
    let (_, token) = app.register(&body).await;
    let (status, v) = app.evaluate(&token, "very_satisfied", &[], None).await;
    assert_eq!(status, 410);
    assert_eq!(v["code"], "evaluation_window_closed");
    let closed_on = (completed + Duration::days(7)).with_timezone(&cst()).format("%Y年%-m月%-d日").to_string();
    assert!(v["detail"].as_str().unwrap().contains(&closed_on), "{v}");
    let page = app.http.get(app.url(&format!("/e/{token}"))).send().await.unwrap();
    assert_eq!(page.status(), 410);
    assert!(page.text().await.unwrap().contains("评价期已"));
}

async fn two_processes_running_the_job_record_each_default_once(app: TestApp) {
    for n in 0..40 {
        app.register(&record_body(&format!("D-3-{n}"))).await;
    }
    let other_store = hcp_store::Store::connect(&app.db_url, 4).await.unwrap();
    let other = App::new(other_store, "http://other", hcp_app::keys::Keys::generate());
    let at = Utc::now() + Duration::days(9);
    let (a, b) = tokio::join!(app.app.run_jobs(at), other.run_jobs(at));
    let total = a.unwrap().default_evaluations + b.unwrap().default_evaluations;
    assert_eq!(total, 40);
    assert_eq!(app.app.store.count_evaluations().await.unwrap(), 40);
}
