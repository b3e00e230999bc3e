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
