use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hcp_app::App;
use serde_json::{Value, json};

/// `GET /healthz`: 200 when the database answers, 503 otherwise; `warnings` lists what operators must act
/// on (from 1 December, a missing calendar for next year).
pub async fn healthz(State(app): State<App>) -> (StatusCode, Json<Value>) {
    match app.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({
                "status": "ok",
                "database": app.store.backend().name(),
                "calendar_years": app.calendar().loaded_years(),
                "warnings": app.warnings(),
            })),
        ),
        Err(e) => {
            tracing::error!(error = %e, "health check: database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "database": app.store.backend().name() })),
            )
        }
    }
}

/// `GET /readyz`: whether this instance can serve — the database answers within two seconds. 503 with
/// `Retry-After` otherwise, so a load balancer sends people to another instance meanwhile. The body also
/// says how the exchange with the upper level stands (`unconfigured`, `ok`, `failing`): a failing exchange
/// does not make the instance unready — people can still rate — but the operator reads it here.
pub async fn readyz(State(app): State<App>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let ping = tokio::time::timeout(std::time::Duration::from_secs(2), app.store.ping()).await;
    match ping {
        Ok(Ok(())) => {
            let health = app.exchange_health().await;
            let (exchange, note, stalled) = match &health {
                Ok(h) => (h.state.as_str(), h.summary(app.now()), h.stalled),
                Err(e) => {
                    tracing::error!(error = %e, "readiness: the exchange's state could not be read");
                    ("unknown", "无法读取上级平台对接状态".to_string(), false)
                }
            };
            (
                StatusCode::OK,
                Json(json!({
                    "status": "ready",
                    "database": "ok",
                    "exchange": exchange,
                    "exchange_note": note,
                    "exchange_stalled": stalled,
                })),
            )
                .into_response()
        }
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(axum::http::header::RETRY_AFTER, "5")],
            Json(json!({ "status": "unavailable", "database": "数据库无应答" })),
        )
            .into_response(),
    }
}
