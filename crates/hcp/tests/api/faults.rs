//! Issue 18 §4 (in part): the database goes away under load and comes back. The server answers 503
//! problem+json with `Retry-After` meanwhile (never 500), loses no acknowledged evaluation, and recovers by
//! itself. PostgreSQL is "stopped" by cutting a TCP proxy between the server and it, so the shared test server
//! keeps running for the other tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::helpers::{Backend, record_body, spawn_app_with};

/// A TCP proxy to 127.0.0.1:5432 that can be cut (listener closed, every connection dropped) and restored
/// on the same port, or slowed (every answer of the database held back for `delay_ms`).
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    cut: Arc<Notify>,
    delay_ms: Arc<AtomicU64>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Proxy {
    async fn start(port: u16) -> Proxy {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind the proxy");
        let port = listener.local_addr().unwrap().port();
        let (up, cut) = (Arc::new(AtomicBool::new(true)), Arc::new(Notify::new()));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(Self::serve(listener, cut.clone(), delay_ms.clone()));
        Proxy { port, up, cut, delay_ms, task: Some(task) }
    }

    async fn serve(listener: TcpListener, cut: Arc<Notify>, delay_ms: Arc<AtomicU64>) {
        let mut conns = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                _ = cut.notified() => break,
                accepted = listener.accept() => {
                    let Ok((client, _)) = accepted else { continue };
                    let delay_ms = delay_ms.clone();
                    conns.spawn(async move {
                        if let Ok(server) = TcpStream::connect("127.0.0.1:5432").await {
                            let (client_read, client_write) = client.into_split();
                            let (server_read, server_write) = server.into_split();
                            let zero = Arc::new(AtomicU64::new(0));
                            tokio::join!(
                                Self::pipe(client_read, server_write, zero),
                                Self::pipe(server_read, client_write, delay_ms),
                            );
                        }
                    });
                }
            }
        }
        // Dropping the set aborts every forwarded connection: the database is gone, mid-conversation.
        conns.abort_all();
    }

    /// Copies one direction, each chunk after the delay of the moment.
    async fn pipe(
        mut from: tokio::net::tcp::OwnedReadHalf,
        mut to: tokio::net::tcp::OwnedWriteHalf,
        delay_ms: Arc<AtomicU64>,
    ) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let delay = delay_ms.load(Ordering::SeqCst);
            if delay > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
            }
            if to.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    }

    async fn stop(&mut self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.notify_one();
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }

    async fn restart(&mut self) {
        let again = Proxy::start(self.port).await;
        *self = again;
    }
}

/// A registration while the database cannot write: 503 `database_unavailable` with `Retry-After`; its body.
async fn registration_is_refused(app: &crate::helpers::TestApp, number: &str) -> Value {
    let res = app
        .http
        .post(app.url("/api/v1/service-records"))
        .bearer_auth(&app.api_key)
        .json(&record_body(number))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "5");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "database_unavailable", "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_goes_away_under_load_and_comes_back() {
    if std::env::var("HCP_TEST_DATABASE_URL").is_err() {
        return;
    }
    let mut proxy = Proxy::start(0).await;
    let port = proxy.port;
    let Some(app) = spawn_app_with(Backend::Postgres, |cfg| {
        cfg.database_url = cfg.database_url.replace("127.0.0.1:5432", &format!("127.0.0.1:{port}"));
        assert!(cfg.database_url.contains(&port.to_string()), "the test database is reached through the proxy");
    })
    .await
    else {
        return;
    };
    let app = Arc::new(app);

    // Load: records registered and rated all along, counting the acknowledged ones.
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (app, stop) = (app.clone(), stop.clone());
        tokio::spawn(async move {
            let (mut acknowledged, mut unavailable, mut n) = (Vec::new(), 0, 0);
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let number = format!("FAULT-{n}");
                let (status, v) =
                    app.post_json("/api/v1/service-records", &record_body(&number), Some(&app.api_key)).await;
                match status {
                    201 => {
                        let token = v["evaluation_token"].as_str().unwrap().to_string();
                        let (status, v) = app.evaluate(&token, "satisfied", &[], None).await;
                        match status {
                            201 => acknowledged.push(number),
                            503 => unavailable += 1,
                            other => panic!("evaluation answered {other}: {v}"),
                        }
                    }
                    503 => {
                        assert_eq!(v["code"], "database_unavailable", "{v}");
                        unavailable += 1;
                    }
                    other => panic!("registration answered {other}: {v}"),
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            (acknowledged, unavailable)
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    proxy.stop().await;
    // While it is away: a clear 503 with Retry-After, under /api and on pages.
    let mut saw = false;
    for _ in 0..50 {
        let res = app.http.get(app.url("/readyz")).send().await.unwrap();
        if res.status() == 503 {
            assert_eq!(res.headers()["retry-after"], "5");
            saw = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(saw, "readyz says the database is away");
    let body = registration_is_refused(&app, "AWAY-1").await;
    assert!(body["detail"].as_str().unwrap().contains("稍后重试"), "{body}");
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;

    // It comes back; the service recovers without a restart.
    proxy.restart().await;
    let started = std::time::Instant::now();
    loop {
        let res = app.http.get(app.url("/readyz")).send().await.unwrap();
        if res.status() == 200 {
            break;
        }
        assert!(started.elapsed().as_secs() < 30, "not recovered within 30 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let recovered_in = started.elapsed();
    let mut ok_after = false;
    for _ in 0..50 {
        let (status, _) = app.post_json("/api/v1/service-records", &record_body("BACK-1"), Some(&app.api_key)).await;
        if status == 201 {
            ok_after = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ok_after, "registrations are taken again");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    let (acknowledged, unavailable) = load.await.unwrap();
    assert!(unavailable > 0, "the load met the outage");
    assert!(!acknowledged.is_empty());
    eprintln!(
        "recovered {recovered_in:?} after the database came back; {} acknowledged, {unavailable} refused with 503",
        acknowledged.len()
    );

    // Every acknowledged evaluation is stored (read straight from the database, not through the proxy).
    sqlx::any::install_default_drivers();
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.db_url).await.unwrap();
    for number in &acknowledged {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM evaluation e JOIN service_record r ON r.id = e.service_record_id
             WHERE r.record_number = $1",
        )
        .bind(number.clone())
        .fetch_one(&mut db)
        .await
        .unwrap();
        assert_eq!(n, 1, "{number} was acknowledged and must be stored");
    }
    assert_eq!(app.app.store.rollup_mismatches().await.unwrap(), Vec::<String>::new());
}

/// A small tmpfs mounted for one test, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// `None` when this machine cannot mount a filesystem (not root, or a container without the right): the
    /// test says so loudly and does nothing. CI runs as root and mounts; `HCP_REQUIRE_MOUNT=1` makes a failed
    /// mount fail the test.
    fn mount(megabytes: u32) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            assert!(std::env::var_os("HCP_REQUIRE_MOUNT").is_none(), "could not mount a {megabytes} MB tmpfs");
            eprintln!("NOTE: cannot mount a small tmpfs here (not root?): the full-disk test did nothing");
            return None;
        }
        Some(SmallDisk { dir })
    }

    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Writes a file until the disk is full.
    fn fill(&self) -> u64 {
        use std::io::Write;
        let mut f = std::fs::File::create(self.path().join("filler")).unwrap();
        let chunk = vec![0xA5u8; 64 * 1024];
        let mut written = 0u64;
        loop {
            match f.write(&chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => written += n as u64,
            }
        }
        let _ = f.sync_all();
        written
    }

    fn free(&self) {
        std::fs::remove_file(self.path().join("filler")).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// SQLite on a full disk: registrations and evaluations are refused with 503 `database_unavailable` and
/// `Retry-After` (never 500, never half-written), reading goes on, nothing is corrupted, and writes resume by
/// themselves once space returns — with every acknowledged evaluation stored exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_on_a_full_disk_refuses_writes_and_resumes_when_space_returns() {
    let Some(disk) = SmallDisk::mount(32) else { return };
    let url = format!("sqlite://{}", disk.path().join("hcp.db").display());
    let app = spawn_app_with(Backend::Sqlite, |cfg| cfg.database_url = url.clone()).await.unwrap();

    let mut tokens = Vec::new();
    for i in 0..60 {
        tokens.push(app.register(&record_body(&format!("FULL-{i}"))).await);
    }
    let mut acknowledged = Vec::new();
    for (id, token) in &tokens[..10] {
        assert_eq!(app.evaluate(token, "satisfied", &[], None).await.0, 201);
        acknowledged.push(*id);
    }
    // An empty write-ahead log, so the next write needs new space on the disk.
    let mut db = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url).await.unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut db).await.unwrap();
    let filled = disk.fill();
    assert!(filled > 0);

    // Full: every write is refused with the reason, reading goes on.
    let mut refused = 0;
    for (id, token) in &tokens[10..30] {
        let (status, v) = app.evaluate(token, "dissatisfied", &["S411"], Some("满盘时提交")).await;
        match status {
            201 => acknowledged.push(*id),
            503 => {
                assert_eq!(v["code"], "database_unavailable", "{v}");
                refused += 1;
            }
            other => panic!("an evaluation on a full disk answered {other}: {v}"),
        }
    }
    assert!(refused > 0, "the full disk refused writes");
    registration_is_refused(&app, "FULL-NEW").await;
    let (status, _) = app.get_json(&format!("/api/v1/service-records/{}", tokens[0].0), Some(&app.api_key)).await;
    assert_eq!(status, 200, "reading goes on while the disk is full");

    // Space returns: the same submissions are taken, without a restart.
    disk.free();
    let mut resumed = false;
    for _ in 0..50 {
        if app.post_json("/api/v1/service-records", &record_body("FULL-BACK"), Some(&app.api_key)).await.0 == 201 {
            resumed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(resumed, "writes resume when space returns");
    for (id, token) in &tokens[10..40] {
        if acknowledged.contains(id) {
            continue;
        }
        let (status, v) = app.evaluate(token, "dissatisfied", &["S411"], Some("空间恢复后提交")).await;
        assert_eq!(status, 201, "{v}");
        acknowledged.push(*id);
    }

    // Nothing corrupted, nothing half-written, every acknowledged evaluation stored once.
    let check: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut db).await.unwrap();
    assert_eq!(check, "ok");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM evaluation").fetch_one(&mut db).await.unwrap();
    assert_eq!(stored, acknowledged.len() as i64);
    for id in &acknowledged {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM evaluation WHERE service_record_id = $1")
            .bind(id)
            .fetch_one(&mut db)
            .await
            .unwrap();
        assert_eq!(n, 1, "record {id}");
    }
    assert_eq!(app.app.store.rollup_mismatches().await.unwrap(), Vec::<String>::new());
    drop(db);
    drop(app);
}

/// A slow database (every answer held back 3 s) with requests limited to 2 s: each request gets a clear answer
/// in time — done, or 503 (`request_timeout`, `database_unavailable`, `server_busy`) with `Retry-After` — instead
/// of piling up; once the database is quick again, every submission retried is taken, none recorded twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_database_gets_clear_timeouts_instead_of_a_pile_up() {
    if std::env::var("HCP_TEST_DATABASE_URL").is_err() {
        return;
    }
    let proxy = Proxy::start(0).await;
    let port = proxy.port;
    let limit = std::time::Duration::from_secs(2);
    let Some(app) = spawn_app_with(Backend::Postgres, |cfg| {
        cfg.database_url = cfg.database_url.replace("127.0.0.1:5432", &format!("127.0.0.1:{port}"));
        cfg.http_limits.request_timeout = limit;
    })
    .await
    else {
        return;
    };
    let app = Arc::new(app);
    let mut tokens = Vec::new();
    for i in 0..16 {
        tokens.push(app.register(&record_body(&format!("SLOW-{i}"))).await);
    }

    proxy.delay_ms.store(3000, Ordering::SeqCst);
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (id, token)) in tokens.iter().cloned().enumerate() {
        let app = app.clone();
        tasks.spawn(async move {
            let started = std::time::Instant::now();
            let res = match i % 4 {
                0 => app.http.get(app.url(&format!("/api/v1/service-records/{id}"))).bearer_auth(&app.api_key),
                1 => app
                    .http
                    .post(app.url("/api/v1/service-records"))
                    .bearer_auth(&app.api_key)
                    .json(&record_body(&format!("SLOW-NEW-{i}"))),
                _ => app.http.post(app.url("/api/v1/evaluations")).json(&serde_json::json!({
                    "token": token, "level": "satisfied", "indicator_ids": [], "staff_indicator_ids": [],
                    "comment": null, "channel": "qr_code"})),
            }
            .send()
            .await
            .unwrap();
            let (status, retry) = (res.status().as_u16(), res.headers().get("retry-after").cloned());
            let body: Value = res.json().await.unwrap_or(Value::Null);
            (i, status, retry, body, started.elapsed())
        });
    }
    let mut timed_out = 0;
    while let Some(done) = tasks.join_next().await {
        let (i, status, retry, body, took) = done.unwrap();
        assert!(took < limit + std::time::Duration::from_millis(1500), "request {i} took {took:?}");
        match status {
            200 | 201 => {}
            503 => {
                let code = body["code"].as_str().unwrap_or_default();
                assert!(["request_timeout", "database_unavailable", "server_busy"].contains(&code), "{body}");
                assert_eq!(retry.unwrap(), "5");
                assert!(body["detail"].as_str().unwrap().contains("稍后重试"), "{body}");
                timed_out += 1;
            }
            other => panic!("request {i} answered {other}: {body}"),
        }
    }
    assert!(timed_out > 0, "the slow database made requests time out");

    // Quick again: every evaluation retried is taken (or answered as the one already recorded), once.
    proxy.delay_ms.store(0, Ordering::SeqCst);
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    for (i, (_, token)) in tokens.iter().enumerate() {
        if i % 4 < 2 {
            continue;
        }
        let mut answered = None;
        for _ in 0..30 {
            let (status, v) = app.evaluate(token, "satisfied", &[], None).await;
            if status == 201 {
                answered = Some(v);
                break;
            }
            assert_eq!(status, 503, "{v}");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        assert!(answered.is_some(), "evaluation {i} taken after the database is quick again");
    }
    sqlx::any::install_default_drivers();
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.db_url).await.unwrap();
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM evaluation").fetch_one(&mut db).await.unwrap();
    assert_eq!(stored, tokens.iter().enumerate().filter(|(i, _)| i % 4 >= 2).count() as i64);
    assert_eq!(app.app.store.rollup_mismatches().await.unwrap(), Vec::<String>::new());
}
