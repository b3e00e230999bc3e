//! Every request gets an id (issue 18 §2): it names the request's log lines (a span), comes back in the
//! `X-Request-Id` header, and is the `instance` of a problem+json answer, so a clerk's screenshot of an error
//! finds its log lines. The same layer counts requests by route template and status for `/metrics`.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hcp_app::App;
use tracing::Instrument;

use crate::extract::ClientIp;

tokio::task_local! {
    /// The id of the request being answered (for problem+json `instance`).
    static REQUEST_ID: String;
}

/// The id of the request this code answers, if it answers one.
pub fn request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// A short random id (16 characters of a fresh token), enough to find a request's lines among a day's.
fn new_id() -> String {
    hcp_app::secrets::new_token().chars().take(16).collect()
}

pub async fn track(State(app): State<App>, req: Request, next: Next) -> Response {
    let id = new_id();
    let method = req.method().as_str().to_string();
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |m| m.as_str()).to_string();
    let started = std::time::Instant::now();
    let span = tracing::info_span!("request", id = %id, method = %method, route = %route);
    let mut res = REQUEST_ID.scope(id.clone(), next.run(req).instrument(span)).await;
    app.telemetry.request(&method, &route, res.status().as_u16(), started.elapsed().as_secs_f64());
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

/// `GET /metrics`: Prometheus/OpenMetrics text, only for the addresses of `--metrics-allow` (loopback by
/// default; the real client behind a trusted proxy, so a public proxy does not open it to everyone).
pub async fn metrics(State(app): State<App>, ClientIp(ip): ClientIp) -> Response {
    let ip = match ip {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(std::net::IpAddr::V6(v6), std::net::IpAddr::V4),
        v4 => v4,
    };
    if !app.telemetry.enabled {
        return (StatusCode::NOT_FOUND, "运行指标已关闭(serve --no-metrics)。\n").into_response();
    }
    if !app.metrics_allow.contains(&ip) {
        return (StatusCode::FORBIDDEN, "该地址无权读取运行指标(--metrics-allow)。\n").into_response();
    }
    match app.metrics_text().await {
        Ok(text) => ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text)
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "metrics could not be read");
            (StatusCode::SERVICE_UNAVAILABLE, "运行指标暂时无法读取(数据库无应答)。\n").into_response()
        }
    }
}
