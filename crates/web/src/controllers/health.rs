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
