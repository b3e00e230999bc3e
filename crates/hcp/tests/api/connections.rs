//! Issue 14 §5: the listener's limits. A client that sends its request one byte at a time is cut off, a
//! request that runs too long gets a 503 problem, and past the connection cap a new connection is answered
//! 503 at once — and service returns when the holders go.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Backend, TestApp, spawn_app_with};

async fn app_with(limits: hcp::listener::Limits) -> TestApp {
    spawn_app_with(Backend::Sqlite, |cfg| cfg.http_limits = limits).await.expect("sqlite always runs")
}

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_string()
}

/// Reads until the server closes the connection; how long that took.
async fn until_closed(stream: &mut TcpStream, patience: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(patience, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_client_is_cut_off() {
    let limits = hcp::listener::Limits {
        header_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(2),
        idle_timeout: Duration::from_secs(3),
        max_connections: 100,
        ..Default::default()
    };
    let app = app_with(limits).await;
    // Half a request head, then nothing: closed after the header timeout.
    let mut slow = TcpStream::connect(addr(&app)).await.unwrap();
    slow.write_all(b"GET /api/v1/indicators HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let took = until_closed(&mut slow, Duration::from_secs(10)).await.expect("the server closes it");
    assert!(took < Duration::from_secs(4), "closed after {took:?}");

    // A head that trickles in, one byte every 300 ms, never completes within the limit either.
    let mut trickle = TcpStream::connect(addr(&app)).await.unwrap();
    let started = Instant::now();
    let mut closed = false;
    for b in b"GET /api/v1/indicators HTTP/1.1\r\nHost: x\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n" {
        if trickle.write_all(&[*b]).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        if started.elapsed() > Duration::from_secs(8) {
            break;
        }
    }
    if !closed {
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), trickle.read_to_end(&mut buf)).await;
        let text = String::from_utf8_lossy(&buf);
        assert!(!text.contains("200 OK"), "a trickled head was served: {text}");
    }

    // A request that runs past the request timeout (a hall device's long poll waits 25 s): a 503 problem.
    let (_, secret) =
        app.app.register_device(&hcp_app::audit::Actor::operator(), "T-SLOW", "评价器", "W-510899-C01").await.unwrap();
    let started = Instant::now();
    let res = app.http.get(app.url(&format!("/d/{secret}/next?after=0"))).send().await.unwrap();
    assert_eq!(res.status(), 503);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(res.headers()["retry-after"], "5");
    assert!(res.text().await.unwrap().contains("请求处理超时"));
    // Ordinary requests go on.
    assert_eq!(app.http.get(app.url("/api/v1/indicators")).send().await.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_connection_cap_an_answer_at_once() {
    let limits = hcp::listener::Limits {
        header_timeout: Duration::from_secs(20),
        request_timeout: Duration::from_secs(20),
        idle_timeout: Duration::from_secs(30),
        max_connections: 3,
        ..Default::default()
    };
    let app = app_with(limits).await;
    let mut holders = Vec::new();
    for _ in 0..3 {
        holders.push(TcpStream::connect(addr(&app)).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let res = reqwest::Client::new().get(app.url("/api/v1/indicators")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    assert!(started.elapsed() < Duration::from_secs(3), "answered at once, not queued");
    assert_eq!(res.headers()["retry-after"], "5");
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/problem+json"));
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["code"], "server_busy");
    drop(holders);
    // The holders gone, service returns.
    let mut status = 0;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        status = reqwest::Client::new().get(app.url("/api/v1/indicators")).send().await.unwrap().status().as_u16();
        if status == 200 {
            break;
        }
    }
    assert_eq!(status, 200);
}

#[test]
fn limits_that_would_cut_answers_are_refused() {
    let bad = hcp::listener::Limits {
        request_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(30),
        ..Default::default()
    };
    assert!(bad.check().unwrap_err().to_string().contains("--idle-timeout"));
    assert!(hcp::listener::Limits { max_connections: 0, ..Default::default() }.check().is_err());
    assert!(hcp::listener::Limits::default().check().is_ok());
}

/// Issue 29 §5: one client holding its share of connections is refused more, at once, while another client is
/// still served — one client holding 400 of 300 connections had starved everyone else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_cannot_take_every_connection() {
    let limits = hcp::listener::Limits {
        header_timeout: Duration::from_secs(20),
        request_timeout: Duration::from_secs(20),
        idle_timeout: Duration::from_secs(30),
        max_connections: 10,
        max_connections_per_client: 4,
    };
    let app = app_with(limits).await;
    let port: u16 = addr(&app).rsplit(':').next().unwrap().parse().unwrap();
    let from = |ip: [u8; 4]| async move {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind((std::net::Ipv4Addr::from(ip), 0).into()).unwrap();
        socket.connect((std::net::Ipv4Addr::LOCALHOST, port).into()).await.unwrap()
    };
    let mut holders = Vec::new();
    for _ in 0..4 {
        holders.push(from([127, 0, 0, 2]).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The holder's fifth: refused at once, with the problem.
    let mut fifth = from([127, 0, 0, 2]).await;
    fifth.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(3), fifth.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 503") && answer.contains("server_busy"), "{answer}");
    // Anyone else: served.
    let res = reqwest::Client::new().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    drop(holders);
}
