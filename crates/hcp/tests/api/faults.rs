//! Issue 18 §4 (in part): the database goes away under load and comes back. The server answers 503
//! problem+json with `Retry-After` meanwhile (never 500), loses no acknowledged evaluation, and recovers by
//! itself. PostgreSQL is "stopped" by cutting a TCP proxy between the server and it, so the shared test server
//! keeps running for the other tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::helpers::{Backend, record_body, spawn_app_with};

/// A TCP proxy to 127.0.0.1:5432 that can be cut (listener closed, every connection dropped) and restored
/// on the same port.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    cut: Arc<Notify>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Proxy {
    async fn start(port: u16) -> Proxy {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind the proxy");
        let port = listener.local_addr().unwrap().port();
        let (up, cut) = (Arc::new(AtomicBool::new(true)), Arc::new(Notify::new()));
        let task = tokio::spawn(Self::serve(listener, cut.clone()));
        Proxy { port, up, cut, task: Some(task) }
    }

    async fn serve(listener: TcpListener, cut: Arc<Notify>) {
        let mut conns = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                _ = cut.notified() => break,
                accepted = listener.accept() => {
                    let Ok((mut client, _)) = accepted else { continue };
                    conns.spawn(async move {
                        if let Ok(mut server) = TcpStream::connect("127.0.0.1:5432").await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                }
            }
        }
        // Dropping the set aborts every forwarded connection: the database is gone, mid-conversation.
        conns.abort_all();
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
    let res = app
        .http
        .post(app.url("/api/v1/service-records"))
        .bearer_auth(&app.api_key)
        .json(&record_body("AWAY-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "5");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "database_unavailable");
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
