//! Issue 14 §5: a flood of logins does not take the server's memory. The real binary is started and
//! 500 logins are sent at once; each runs argon2 (19 MiB) — unknown names too, so timing tells nothing — but
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
    for i in 0..500 {
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
    // 500 argon2 runs at once would need 500 × 19 MiB; a few at a time, a few times 19 MiB.
    assert!(peak_mib < 400, "peak memory {peak_mib} MiB");
}

/// Issue 14 §5: parallel guesses at one account cannot outrun its lockout: each attempt is counted before its
/// password is checked, so no more than five are ever checked; then even the right password is refused.
async fn parallel_guesses_stop_at_the_lockout(app: crate::helpers::TestApp) {
    app.app.create_user("target", "目标", "correct horse 1", "unit_admin", "510899D01", None).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..60 {
        let (http, url) = (app.http.clone(), app.url("/api/v1/sessions"));
        tasks.push(tokio::spawn(async move {
            let body = serde_json::json!({ "username": "target", "password": format!("guess number {i}") });
            let res = http.post(url).json(&body).send().await.unwrap();
            let status = res.status().as_u16();
            let v: serde_json::Value = res.json().await.unwrap_or_default();
            (status, v["code"].as_str().unwrap_or_default().to_string())
        }));
    }
    let mut checked = 0;
    for t in tasks {
        let (status, code) = t.await.unwrap();
        match (status, code.as_str()) {
            (422, "bad_credentials") => checked += 1,
            (429, "account_locked" | "client_locked") => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(checked <= 5, "{checked} passwords checked past the lockout");
    let failures = app.app.store.audit_entries("login.failure", 0, 100).await.unwrap();
    assert!(failures.len() <= 5, "{} failures", failures.len());
    let (status, v) = app
        .post_json(
            "/api/v1/sessions",
            &serde_json::json!({ "username": "target", "password": "correct horse 1" }),
            None,
        )
        .await;
    assert_eq!(status, 429, "locked, even with the right password: {v}");
}

crate::both_backends!(parallel_guesses_stop_at_the_lockout);

/// Issue 29 §6: five wrong passwords from anywhere locked any account, the system administrator's included;
/// 500 parallel correct logins got transient `account_locked`. Now failures count per account and address: a
/// stranger gets at most five checked guesses over every address, and the owner, at an address the account
/// logged in from before, still gets in; correct logins in parallel wait for each other and all pass.
async fn a_stranger_cannot_lock_the_owner_out(backend: crate::helpers::Backend) {
    let Some(app) = crate::helpers::spawn_app_with(backend, |cfg| {
        cfg.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await
    else {
        return;
    };
    app.app.create_user("root2", "系统管理员乙", "correct horse 1", "system_admin", "510899", None).await.unwrap();
    let login = |from: &'static str, password: &'static str| {
        let req = app
            .http
            .post(app.url("/api/v1/sessions"))
            .header("x-forwarded-for", from)
            .json(&serde_json::json!({ "username": "root2", "password": password }));
        async move {
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let v: serde_json::Value = res.json().await.unwrap_or_default();
            (status, v["code"].as_str().unwrap_or_default().to_string())
        }
    };
    assert_eq!(login("10.0.0.1", "correct horse 1").await.0, 201, "the owner at their desk");
    let mut answers = Vec::new();
    for _ in 0..7 {
        answers.push(login("10.9.9.1", "a wrong guess").await);
    }
    let codes: Vec<u16> = answers.iter().map(|a| a.0).collect();
    assert_eq!(codes, [422, 422, 422, 422, 422, 429, 429], "{answers:?}");
    assert_eq!(login("10.9.9.2", "another guess").await, (429, "account_locked".to_string()), "nor from elsewhere");
    assert_eq!(login("10.9.9.1", "correct horse 1").await.0, 429, "the stranger's address stays locked");
    let failures = app.app.store.audit_entries("login.failure", 0, 100).await.unwrap();
    assert_eq!(failures.len(), 5, "five passwords checked in all");
    // The owner, at the address they logged in from before, is not locked out by the stranger.
    assert_eq!(login("10.0.0.1", "correct horse 1").await.0, 201);
    // Correct logins in parallel from one address: none refused.
    let all = futures_util::future::join_all((0..40).map(|_| login("10.0.0.1", "correct horse 1"))).await;
    assert!(all.iter().all(|a| a.0 == 201), "{all:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_cannot_lock_the_owner_out_sqlite() {
    a_stranger_cannot_lock_the_owner_out(crate::helpers::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_cannot_lock_the_owner_out_postgres() {
    a_stranger_cannot_lock_the_owner_out(crate::helpers::Backend::Postgres).await;
}

/// Issue 14 §7: logins racing an administrator who disables the account: whatever sessions slipped through
/// are refused from the moment the account is disabled.
async fn logins_racing_a_disable_open_nothing_that_works(app: crate::helpers::TestApp) {
    app.app.create_user("racer", "赛跑者", "correct horse 1", "staff", "510899D01", None).await.unwrap();
    let county = app.app.store.org_by_code("510899").await.unwrap().unwrap();
    let admin = hcp_app::policy::Principal {
        user_id: 0,
        username: "admin".into(),
        display_name: "系统管理员".into(),
        staff_id: None,
        bindings: vec![hcp_app::policy::Binding {
            role: hcp_app::policy::Role::SystemAdmin,
            org_path: county.path.clone(),
            org_name: county.name.clone(),
        }],
    };
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (http, url) = (app.http.clone(), app.url("/api/v1/sessions"));
        tasks.push(tokio::spawn(async move {
            let body = serde_json::json!({ "username": "racer", "password": "correct horse 1" });
            let res = http.post(url).json(&body).send().await.unwrap();
            let v: serde_json::Value = res.json().await.unwrap_or_default();
            v["token"].as_str().map(str::to_string)
        }));
    }
    app.app.set_account_enabled_by(&admin, "racer", false).await.unwrap();
    let mut tokens = Vec::new();
    for t in tasks {
        tokens.extend(t.await.unwrap());
    }
    for token in &tokens {
        let (status, _) = app.get_json("/api/v1/cases?inbox=mine", Some(token)).await;
        assert_eq!(status, 401, "a session of a disabled account");
    }
}

crate::both_backends!(logins_racing_a_disable_open_nothing_that_works);

/// Issue 14 §3: one account per staff number holds when two administrators link the same number at once.
async fn one_account_per_staff_number_under_parallel_requests(app: crate::helpers::TestApp) {
    let mut tasks = Vec::new();
    for n in 0..6 {
        let a = app.app.clone();
        tasks.push(tokio::spawn(async move {
            a.create_user(&format!("twin{n}"), "双胞胎", "correct horse 1", "staff", "510899D01", Some("QS0005")).await
        }));
    }
    let mut created = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => created += 1,
            Err(e) => assert_eq!(e.code(), "staff_already_linked", "{e:?}"),
        }
    }
    assert_eq!(created, 1, "exactly one account for QS0005");
}

crate::both_backends!(one_account_per_staff_number_under_parallel_requests);
