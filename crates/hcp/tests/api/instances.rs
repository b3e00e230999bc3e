//! Issue 18 §5: several instances over one database — the background jobs run on one at a time (a lease),
//! another takes over when the holder stops renewing.

use crate::both_backends;
use crate::helpers::TestApp;

both_backends!(one_instance_holds_the_jobs_lease_at_a_time);

async fn other_instance(app: &TestApp) -> hcp_app::App {
    let store = hcp_store::Store::connect(&app.db_url, 4).await.unwrap();
    let keys = hcp_app::keys::Keys::load(app.keys.clone(), false).unwrap();
    hcp_app::App::new(store, "http://other", keys)
}

async fn one_instance_holds_the_jobs_lease_at_a_time(app: TestApp) {
    let mut instances = vec![app.app.clone()];
    for _ in 0..5 {
        instances.push(other_instance(&app).await);
    }
    let period = chrono::Duration::milliseconds(1500);
    // All ask at once: one wins.
    let wins = futures_util::future::join_all(instances.iter().map(|a| a.take_job_lease("jobs", period))).await;
    let winners: Vec<usize> = wins.iter().enumerate().filter(|(_, w)| *w.as_ref().unwrap()).map(|(i, _)| i).collect();
    assert_eq!(winners.len(), 1, "{wins:?}");
    let holder = winners[0];
    // The holder renews; the others still cannot take it.
    assert!(instances[holder].take_job_lease("jobs", period).await.unwrap());
    for (i, a) in instances.iter().enumerate().filter(|(i, _)| *i != holder) {
        assert!(!a.take_job_lease("jobs", period).await.unwrap(), "instance {i}");
    }
    // Another job's lease is its own.
    assert!(instances[(holder + 1) % 6].take_job_lease("backup", period).await.unwrap());
    // The holder stops renewing: once the lease lapses another takes over, and the old holder is out.
    tokio::time::sleep(std::time::Duration::from_millis(1700)).await;
    let next = (holder + 2) % 6;
    assert!(instances[next].take_job_lease("jobs", period).await.unwrap());
    assert!(!instances[holder].take_job_lease("jobs", period).await.unwrap());
}

/// Issue 18 §5: a hall device waiting on one server is woken at once by a completion registered through
/// another server over the same PostgreSQL (LISTEN/NOTIFY), not only at its next look (10 s there).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_wake_for_completions_on_another_instance() {
    let Some(app) = crate::helpers::spawn_app(crate::helpers::Backend::Postgres).await else { return };
    let other = app.second_instance().await;
    let actor = hcp_app::audit::Actor::operator();
    let (_, secret) = app.app.register_device(&actor, "WAKE-D1", "跨实例评价器", "W-510899-C01").await.unwrap();
    // The second instance's listener is up once it answers; give it a moment to LISTEN.
    assert_eq!(app.http.get(format!("{other}/healthz")).send().await.unwrap().status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let poll = {
        let (http, url) = (app.http.clone(), format!("{other}/d/{secret}/next?after=0"));
        tokio::spawn(async move {
            let res = http.get(url).send().await.unwrap();
            (res.status().as_u16(), std::time::Instant::now())
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let mut body = crate::helpers::record_body("WAKE-1");
    body["completed_at"] = serde_json::json!(chrono::Utc::now().to_rfc3339());
    let registered = std::time::Instant::now();
    app.register(&body).await; // through the first instance
    let (status, answered) = poll.await.unwrap();
    assert_eq!(status, 200, "the device on the other instance got the record");
    let took = answered.duration_since(registered);
    assert!(took < std::time::Duration::from_millis(1500), "woken after {took:?}, not at once");
}
