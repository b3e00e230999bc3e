use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hcp_app::App;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ClientIp};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionToken {
    /// Send as `Authorization: Bearer <token>`; it ends after 30 idle minutes or 12 hours.
    pub token: String,
}

/// `POST /api/v1/sessions`: a person logs in for the API (the same accounts, lockouts and audit as the
/// console).
#[utoipa::path(
    operation_id = "sessions_create",
    post, path = "/sessions", tag = "登录", summary = "登录,取得会话令牌",
    request_body = LoginBody,
    responses(
        (status = 201, description = "会话令牌", body = SessionToken),
        (status = 429, description = "失败次数过多,账号或来源暂被锁定", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<(StatusCode, Json<SessionToken>), ApiError> {
    let s = app.login(&body.username, &body.password, &ip.to_string()).await?;
    Ok((StatusCode::CREATED, Json(SessionToken { token: s.cookie })))
}
