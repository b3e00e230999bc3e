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
/// `Retry-After` otherwise, so a load balancer sends people to another instance meanwhile.
pub async fn readyz(State(app): State<App>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let ping = tokio::time::timeout(std::time::Duration::from_secs(2), app.store.ping()).await;
    match ping {
        Ok(Ok(())) => (StatusCode::OK, Json(json!({ "status": "ready" }))).into_response(),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(axum::http::header::RETRY_AFTER, "5")],
            Json(json!({ "status": "unavailable", "database": "数据库无应答" })),
        )
            .into_response(),
    }
}
