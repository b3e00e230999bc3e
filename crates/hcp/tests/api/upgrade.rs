//! Issue 18 §6: a database made by release 0.1 (`tests/fixtures/release-0.1.db`, see its README) is migrated
//! by this binary and served: its figures equal a recomputation, its audit chain holds, its people log in,
//! its cases are worked, and new records and evaluations are taken.

use std::path::Path;

use hcp::{Application, ServeConfig};
use serde_json::{Value, json};

use crate::helpers::record_body;

/// What `hcp demo` printed when it made the fixture (they open nothing else).
const CENTER_PASSWORD: &str = "Wg-rNwVx75la";
const API_KEY: &str = "hcp_NnYlw7Su-tlj2rZRGa2xiBvulT7HhKhNxcIzsbKOH2I";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_0_1_database_is_migrated_and_served() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let dir = tempfile::tempdir().unwrap();
    for f in ["release-0.1.db", "release-0.1.db.keys"] {
        std::fs::copy(fixtures.join(f), dir.path().join(f)).unwrap();
    }
    let url = format!("sqlite://{}", dir.path().join("release-0.1.db").display());
    let mut cfg = ServeConfig::new(&url, "127.0.0.1:0".parse().unwrap());
    cfg.jobs = false;
    let application = Application::build(&cfg).await.expect("the current binary opens and migrates 0.1's database");
    let app = application.app().clone();
    let base = format!("http://{}", application.local_addr());
    tokio::spawn(application.run_until_stopped());
    let http = reqwest::Client::new();

    assert_eq!(app.store.pending_migrations().await.unwrap(), Vec::<(i64, String)>::new());
    assert_eq!(app.store.rollup_mismatches().await.unwrap(), Vec::<String>::new());
    assert!(
        matches!(app.store.verify_audit_chain().await.unwrap(), hcp_store::ChainCheck::Intact { .. }),
        "the audit chain of 0.1 still verifies"
    );
    assert_eq!(app.store.count_cases().await.unwrap(), 5);

    // Its people log in and see their cases.
    let res = http
        .post(format!("{base}/api/v1/sessions"))
        .json(&json!({ "username": "center", "password": CENTER_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let token = res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string();
    let cases: Value = http
        .get(format!("{base}/api/v1/cases?inbox=all"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cases["cases"].as_array().map(Vec::len), Some(5), "{cases}");

    // Its integrating system registers a record with the key 0.1 issued, and the record is rated.
    let res = http
        .post(format!("{base}/api/v1/service-records"))
        .bearer_auth(API_KEY)
        .json(&record_body("UP-1"))
        .send()
        .await;
    let res = res.unwrap();
    assert_eq!(res.status(), 201);
    let v: Value = res.json().await.unwrap();
    let body = json!({ "token": v["evaluation_token"], "level": "satisfied", "channel": "qr_code" });
    let res = http.post(format!("{base}/api/v1/evaluations")).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(app.store.rollup_mismatches().await.unwrap(), Vec::<String>::new());

    // The public portal renders its published figures.
    let res = http.get(format!("{base}/public")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}
