//! Issue 14 §5 (in part): a flood of logins does not take the server's memory. The real binary is started and
//! 300 logins are sent at once; each runs argon2 (19 MiB) — unknown names too, so timing tells nothing — but
//! at most a few at a time.

use crate::helpers::{Backend, fresh_database};

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_keeps_memory_flat() {
    let (db_url, _dir) = fresh_database(Backend::Sqlite).await.unwrap();
    let keys_dir = tempfile::tempdir().unwrap();
    let keys_file = keys_dir.path().join("hcp.keys");
    let (server, base) = crate::durability::start(&db_url, keys_file.to_str().unwrap()).await;
    let pid = server.id().expect("a running server");
    if !std::path::Path::new(&format!("/proc/{pid}/status")).exists() {
        eprintln!("no /proc here: the memory of the flood is not measured");
        return;
    }
    let http = reqwest::Client::new();
    let mut tasks = Vec::new();
    for i in 0..300 {
        let (http, base) = (http.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let body = serde_json::json!({ "username": format!("nobody{i}"), "password": "wrong password 1" });
            http.post(format!("{base}/api/v1/sessions")).json(&body).send().await.map(|r| r.status().as_u16())
        }));
    }
    for t in tasks {
        let status = t.await.unwrap().expect("every login is answered");
        assert!(status == 422 || status == 429, "refused as bad credentials or too many: {status}");
    }
    let peak_mib = peak_rss_kib(pid) / 1024;
    // 300 argon2 runs at once would need 300 × 19 MiB; a few at a time, a few times 19 MiB.
    assert!(peak_mib < 400, "peak memory {peak_mib} MiB");
}
