//! The HTTP listener, with the limits a server facing a whole county needs (issue 14 §5): a request head must
//! arrive within `--header-timeout`, a request must be answered within `--request-timeout` (or gets a 503
//! problem), a connection on which nothing moves for `--idle-timeout` is closed, and past `--max-connections`
//! a new connection gets a 503 at once instead of a place in a queue that grows without end. Without these a
//! handful of clients sending one byte a minute could hold every connection the server has.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};
use tower::Service;

/// The limits of the listener; every one an option of `serve`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub request_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    /// Open connections one client address may hold (issue 29 §5): one client holding 400 of 300 starved
    /// everyone else. Connections from a trusted proxy are not counted per address (it carries many clients).
    pub max_connections_per_client: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            // Above the hall devices' 25-second long poll.
            request_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(90),
            max_connections: 1000,
            // A hall's Wi-Fi behind one address still gets plenty; one client cannot take the rest.
            max_connections_per_client: 100,
        }
    }
}

impl Limits {
    /// Refuses settings that would cut off answers being written: the idle limit must exceed the request limit
    /// (nothing moves on a connection while its request is being worked).
    pub fn check(&self) -> anyhow::Result<()> {
        if self.header_timeout.is_zero()
            || self.request_timeout.is_zero()
            || self.max_connections == 0
            || self.max_connections_per_client == 0
        {
            anyhow::bail!(
                "--header-timeout、--request-timeout、--max-connections 与 --max-connections-per-client 须大于 0"
            );
        }
        if self.idle_timeout <= self.request_timeout {
            anyhow::bail!(
                "--idle-timeout({} 秒)须大于 --request-timeout({} 秒),否则处理较慢的请求会在应答前被断开",
                self.idle_timeout.as_secs(),
                self.request_timeout.as_secs()
            );
        }
        Ok(())
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets open connections finish their request
/// (at most `drain`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    trusted_proxies: &[std::net::IpAddr],
    shutdown: impl Future<Output = ()>,
    drain: Duration,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let per_client = PerClient::new(limits.max_connections_per_client, trusted_proxies);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(client_slot) = per_client.take(peer.ip()) else {
            tokio::spawn(refuse_busy(stream));
            continue;
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tokio::spawn(refuse_busy(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let request_timeout = limits.request_timeout;
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let mut router = router.clone();
            async move {
                let path = req.uri().path().to_string();
                let req = req.map(axum::body::Body::new);
                match tokio::time::timeout(request_timeout, router.call(req)).await {
                    Ok(res) => res,
                    Err(_) => {
                        tracing::warn!(path = %path, "request timed out");
                        Ok::<_, Infallible>(hcp_web::unavailable(
                            &path,
                            "request_timeout",
                            "请求处理超时,请稍后重试。已提交的评价不会丢失,重新提交不会重复记录。",
                        ))
                    }
                }
            }
        });
        let io = TokioIo::new(Idle::new(stream, limits.idle_timeout));
        let conn = graceful.watch(http.serve_connection(io, service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended");
            }
            drop(permit);
            drop(client_slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(drain, graceful.shutdown()).await.is_err() {
        tracing::warn!("connections still open after {} s; closing them", drain.as_secs());
    }
    Ok(())
}

/// Open connections per client address, for the per-client cap.
#[derive(Clone)]
struct PerClient {
    cap: usize,
    exempt: Arc<[std::net::IpAddr]>,
    open: Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>>,
}

/// One counted connection of a client; given back when dropped.
struct ClientSlot {
    ip: Option<std::net::IpAddr>,
    open: Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>>,
}

impl PerClient {
    fn new(cap: usize, exempt: &[std::net::IpAddr]) -> PerClient {
        PerClient { cap, exempt: Arc::from(exempt), open: Arc::default() }
    }

    /// A slot for one more connection of `ip`, unless it holds its cap already.
    fn take(&self, ip: std::net::IpAddr) -> Option<ClientSlot> {
        if self.exempt.contains(&ip) {
            return Some(ClientSlot { ip: None, open: self.open.clone() });
        }
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = open.entry(ip).or_insert(0);
        if *n >= self.cap {
            tracing::warn!(cap = self.cap, "a client reached its share of open connections; refusing more");
            return None;
        }
        *n += 1;
        Some(ClientSlot { ip: Some(ip), open: self.open.clone() })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let Some(ip) = self.ip else { return };
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&ip);
            }
        }
    }
}

/// Answers a connection over the cap with a 503 problem and closes it. The request is read first (briefly), so
/// that the client sees the answer rather than a reset.
async fn refuse_busy(mut stream: TcpStream) {
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_millis(500), stream.read(&mut buf)).await;
    let body = serde_json::json!({
        "type": "urn:hcp:problem:server_busy",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "系统繁忙,请稍后重试。",
        "code": "server_busy",
    })
    .to_string();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json; charset=utf-8\r\nretry-after: 5\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
}

/// A stream that fails with `TimedOut` once nothing was read or written for its limit.
struct Idle {
    inner: TcpStream,
    limit: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl Idle {
    fn new(inner: TcpStream, limit: Duration) -> Idle {
        Idle { inner, limit, deadline: Box::pin(tokio::time::sleep(limit)) }
    }

    fn touch(&mut self) {
        self.deadline.as_mut().reset(Instant::now() + self.limit);
    }

    /// A write's outcome: bytes written count as activity; a write that waits waits for the limit too.
    fn wrote(&mut self, cx: &mut Context<'_>, written: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        match written {
            Poll::Ready(r) => {
                if matches!(r, Ok(n) if n > 0) {
                    self.touch();
                }
                Poll::Ready(r)
            }
            Poll::Pending => self.pending(cx),
        }
    }

    /// What to answer when the inner stream has nothing: pending, or the end of patience.
    fn pending<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "idle connection"))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for Idle {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    this.touch();
                }
                Poll::Ready(r)
            }
            Poll::Pending => this.pending(cx),
        }
    }
}

impl AsyncWrite for Idle {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write(cx, data);
        this.wrote(cx, written)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.wrote(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
