//! `/api/v1/platforms`: the platforms through which services are delivered (issue 15 §4).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hcp_app::App;
use hcp_app::platforms::PlatformView;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::extract::{ApiJson, Caller, Person};

#[derive(Serialize)]
pub struct PlatformList {
    pub items: Vec<PlatformView>,
}

/// `GET /api/v1/platforms`: every platform, for people (session) and integrating systems (API key) alike.
pub async fn list(State(app): State<App>, _caller: Caller) -> Result<Json<PlatformList>, ApiError> {
    Ok(Json(PlatformList { items: app.list_platforms().await? }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPlatform {
    pub code: String,
    pub name: String,
    pub org_code: String,
}

/// `POST /api/v1/platforms` (center or system admin): 201 with the platform; 409 `platform_code_taken`.
pub async fn create(
    State(app): State<App>,
    Person(who): Person,
    ApiJson(body): ApiJson<NewPlatform>,
) -> Result<(StatusCode, Json<PlatformView>), ApiError> {
    Ok((StatusCode::CREATED, Json(app.add_platform(&who, &body.code, &body.name, &body.org_code).await?)))
}
