//! Issue 2 §8: an evaluation answered with 201 is on disk. The real binary is killed with SIGKILL while
//! submissions are in flight, started again, and every acknowledged evaluation must be there.

use std::process::Stdio;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::{Backend, fresh_database, record_body};

pub async fn start(db_url: &str, keys_file: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hcp"))
        .args(["serve", "--listen", "127.0.0.1:0", "--no-jobs", "--database-url", db_url])
        .args(["--data-keys-file", keys_file])
        // These tests send hundreds of requests at once from one address, to load the writer and argon2; the
        // per-client share (issue 29 §5, `connections::one_client_cannot_take_every_connection`) is not
        // what they measure.
        .args(["--max-connections-per-client", "1000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start hcp serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(line) = lines.next_line().await.unwrap() {
        if let Some(addr) = line.strip_prefix("listening on ") {
            return (child, addr.to_string());
        }
    }
    panic!("hcp serve did not say where it listens");
}

/// `hcp keys init`: the key file of a new database (PostgreSQL makes none by itself).
pub fn keys_init(db_url: &str, keys_file: &str) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hcp"))
        .args(["keys", "init", "--database-url", db_url, "--data-keys-file", keys_file])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `hcp demo --records 0`: the demo catalog, and the API key it prints.
fn demo_catalog(db_url: &str, keys_file: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hcp"))
        .args(["demo", "--records", "0", "--database-url", db_url, "--data-keys-file", keys_file])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("hcp_"))
        .expect("the demo prints its API key")
        .to_string()
}

async fn acknowledged_evaluations_survive_kill_9(backend: Backend) {
    let Some((db_url, _dir)) = fresh_database(backend).await else { return };
    let keys_dir = tempfile::tempdir().unwrap();
    let keys_file = keys_dir.path().join("hcp.keys");
    let keys_file = keys_file.to_str().unwrap();
    keys_init(&db_url, keys_file);
    let key = demo_catalog(&db_url, keys_file);

    let (mut server, base) = start(&db_url, keys_file).await;
    let http = reqwest::Client::new();
    let mut tokens = Vec::new();
    for n in 0..400 {
        let res = http
            .post(format!("{base}/api/v1/service-records"))
            .bearer_auth(&key)
            .json(&record_body(&format!("K-{n}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let v: Value = res.json().await.unwrap();
        tokens.push((v["id"].as_i64().unwrap(), v["evaluation_token"].as_str().unwrap().to_string()));
    }

    let acked: Arc<Mutex<Vec<(i64, i64)>>> = Arc::default();
    let mut tasks = Vec::new();
    for (i, (record_id, token)) in tokens.into_iter().enumerate() {
        let (http, base, acked) = (http.clone(), base.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            let level = if i % 3 == 0 { "satisfied" } else { "very_satisfied" };
            let body = json!({ "token": token, "level": level, "channel": "hall_device" });
            if let Ok(res) = http.post(format!("{base}/api/v1/evaluations")).json(&body).send().await
                && res.status() == 201
                && let Ok(v) = res.json::<Value>().await
            {
                acked.lock().unwrap().push((record_id, v["id"].as_i64().unwrap()));
            }
        }));
    }
    // Kill it mid-stream: some submissions acknowledged, others still in flight.
    while acked.lock().unwrap().len() < 100 {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    server.start_kill().unwrap();
    server.wait().await.unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 100);

    let (_server, base) = start(&db_url, keys_file).await;
    for (record_id, evaluation_id) in &acked {
        let res =
            http.get(format!("{base}/api/v1/service-records/{record_id}")).bearer_auth(&key).send().await.unwrap();
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["evaluation"]["id"].as_i64(), Some(*evaluation_id), "acknowledged evaluation lost: {v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_evaluations_survive_kill_9_sqlite() {
    acknowledged_evaluations_survive_kill_9(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_evaluations_survive_kill_9_postgres() {
    acknowledged_evaluations_survive_kill_9(Backend::Postgres).await;
}

/// Issue 18 §4: SIGTERM stops the server gracefully — it stops accepting, answers what is in flight (the
/// writer's batch committed), and exits 0 within 10 s; every evaluation it acknowledged is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_what_is_in_flight_and_exits() {
    let (db_url, dir) = fresh_database(Backend::Sqlite).await.unwrap();
    let keys_file = dir.as_ref().unwrap().path().join("hcp.db.keys");
    let keys_file = keys_file.to_str().unwrap();
    let key = demo_catalog(&db_url, keys_file);
    let (mut server, base) = start(&db_url, keys_file).await;
    let http = reqwest::Client::new();
    let mut tokens = Vec::new();
    for n in 0..150 {
        let res = http
            .post(format!("{base}/api/v1/service-records"))
            .bearer_auth(&key)
            .json(&record_body(&format!("T-{n}")))
            .send()
            .await
            .unwrap();
        let v: Value = res.json().await.unwrap();
        tokens.push((v["id"].as_i64().unwrap(), v["evaluation_token"].as_str().unwrap().to_string()));
    }
    let acked: Arc<Mutex<Vec<(i64, i64)>>> = Arc::default();
    let mut tasks = Vec::new();
    for (record_id, token) in tokens {
        let (http, base, acked) = (http.clone(), base.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            let body = json!({ "token": token, "level": "satisfied", "channel": "qr_code" });
            if let Ok(res) = http.post(format!("{base}/api/v1/evaluations")).json(&body).send().await
                && res.status() == 201
                && let Ok(v) = res.json::<Value>().await
            {
                acked.lock().unwrap().push((record_id, v["id"].as_i64().unwrap()));
            }
        }));
    }
    while acked.lock().unwrap().len() < 30 {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    let pid = server.id().unwrap().to_string();
    let sent = std::time::Instant::now();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = tokio::time::timeout(std::time::Duration::from_secs(10), server.wait())
        .await
        .expect("exits within 10 s of SIGTERM")
        .unwrap();
    assert!(status.success(), "a graceful stop exits 0: {status:?}");
    eprintln!("stopped {:?} after SIGTERM", sent.elapsed());
    for t in tasks {
        t.await.unwrap();
    }
    // Nothing listens any more.
    assert!(http.get(format!("{base}/healthz")).send().await.is_err());
    let acked = acked.lock().unwrap().clone();
    let (_server, base) = start(&db_url, keys_file).await;
    for (record_id, evaluation_id) in &acked {
        let res =
            http.get(format!("{base}/api/v1/service-records/{record_id}")).bearer_auth(&key).send().await.unwrap();
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["evaluation"]["id"].as_i64(), Some(*evaluation_id), "acknowledged evaluation lost: {v}");
    }
}
