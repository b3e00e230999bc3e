//! `/api/v1/platforms`: the platforms through which services are delivered (issue 15 §4).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hcp_app::App;
use hcp_app::platforms::PlatformView;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Caller, Person};

#[derive(Serialize, utoipa::ToSchema)]
pub struct PlatformList {
    pub items: Vec<PlatformView>,
}

/// `GET /api/v1/platforms`: every platform, for people (session) and integrating systems (API key) alike.
#[utoipa::path(
    operation_id = "platforms_list",
    get, path = "/platforms", tag = "目录", summary = "服务平台", security(("session" = []), ("api_key" = [])),
    responses((status = 200, description = "全部平台", body = PlatformList)),
)]
pub async fn list(State(app): State<App>, _caller: Caller) -> Result<Json<PlatformList>, ApiError> {
    Ok(Json(PlatformList { items: app.list_platforms().await? }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPlatform {
    pub code: String,
    pub name: String,
    pub org_code: String,
}

/// `POST /api/v1/platforms` (center or system admin): 201 with the platform; 409 `platform_code_taken`.
#[utoipa::path(
    operation_id = "platforms_create",
    post, path = "/platforms", tag = "目录", summary = "新增服务平台", request_body = NewPlatform, security(("session" = [])),
    responses(
        (status = 201, description = "平台", body = PlatformView),
        (status = 409, description = "平台代码已被占用", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create(
    State(app): State<App>,
    Person(who): Person,
    ApiJson(body): ApiJson<NewPlatform>,
) -> Result<(StatusCode, Json<PlatformView>), ApiError> {
    Ok((StatusCode::CREATED, Json(app.add_platform(&who, &body.code, &body.name, &body.org_code).await?)))
}
