//! Extractors that turn every malformed request into a clear problem, never a bare 400 in English.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use hcp_app::App;
use hcp_app::clients::ApiClient;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The largest request body accepted anywhere (issue 2 §6).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON body, deserialized with the path of the field that failed.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/json"))
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "请求体须为 JSON,并设置 Content-Type: application/json。",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rej| {
            if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    format!("请求体超过 {} KiB 上限。", MAX_BODY_BYTES / 1024),
                )
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", "无法读取请求体。")
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Deserializes JSON and explains a failure in terms of the field a client sent.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let msg = inner.to_string();
        let quoted = msg.split('`').nth(1).unwrap_or("").to_string();
        let join =
            |name: &str| if path == "." || path.is_empty() { name.to_string() } else { format!("{path}.{name}") };
        use serde_json::error::Category;
        match inner.classify() {
            Category::Syntax | Category::Eof | Category::Io => ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("请求体不是合法的 JSON(第 {} 行第 {} 列附近)。", inner.line(), inner.column()),
            ),
            Category::Data if msg.starts_with("unknown field") => {
                // The path already ends with the unknown field itself.
                let field = if path == "." || path.is_empty() { quoted.clone() } else { path.clone() };
                ApiError::field(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &field,
                    "unknown_field",
                    format!("请求中含有接口不认识的字段“{field}”,请核对字段名。"),
                )
            }
            Category::Data if msg.starts_with("missing field") => {
                let field = join(&quoted);
                ApiError::field(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &field,
                    "missing_field",
                    format!("缺少必填字段“{field}”。"),
                )
            }
            Category::Data => ApiError::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                &path,
                "invalid_type",
                format!("字段“{path}”的类型不正确({msg})。"),
            ),
        }
    })
}

/// An integrating system authenticated by its API key (`Authorization: Bearer hcp_…`).
pub struct Client(pub ApiClient);

impl FromRequestParts<App> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let key = bearer(parts).or_else(|| parts.headers.get("x-api-key").and_then(|v| v.to_str().ok()));
        let Some(key) = key else {
            return Err(hcp_app::AppError::Unauthorized.into());
        };
        Ok(Client(app.authenticate(key).await?))
    }
}

/// Either a person with a session token or an integrating system with an API key — for reading the parts of
/// the catalog both need (the platform codes).
pub enum Caller {
    Person(hcp_app::policy::Principal),
    System(ApiClient),
}

impl FromRequestParts<App> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        if let Some(token) = bearer(parts).map(str::trim)
            && let Some(s) = app.session(token).await?
        {
            return Ok(Caller::Person(s.principal));
        }
        Ok(Caller::System(Client::from_request_parts(parts, app).await?.0))
    }
}

/// The token of an `Authorization: Bearer …` header, if there is one.
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))
}

/// A numeric id from the path; anything else is simply not found.
pub fn path_id(raw: &str, what: &'static str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, what, format!("编号“{raw}”不存在。")))
}

/// The client's address, through a trusted reverse proxy if there is one (see `App::client_ip`).
pub struct ClientIp(pub std::net::IpAddr);

impl FromRequestParts<App> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        // Every line: a client can send its own X-Forwarded-For line before the one the proxy appends to.
        let lines: Vec<&str> =
            parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
        let forwarded = (!lines.is_empty()).then(|| lines.join(","));
        Ok(ClientIp(app.client_ip(peer, forwarded.as_deref())))
    }
}

/// A person using the API with the token of a session (`POST /api/v1/sessions`), as
/// `Authorization: Bearer <token>`. The same roles and scopes as in the console apply.
pub struct Person(pub hcp_app::policy::Principal);

impl FromRequestParts<App> for Person {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let unauthorized = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "login_required",
                "请先登录:以 POST /api/v1/sessions 取得会话令牌,并在 Authorization 头中以 Bearer 方式提供。",
            )
        };
        let token = bearer(parts).ok_or_else(unauthorized)?;
        match app.session(token.trim()).await? {
            Some(s) => Ok(Person(s.principal)),
            None => Err(unauthorized()),
        }
    }
}

/// Query parameters; a bad one is a clear 422 naming what is wrong, not axum's bare 400.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri).map(|v| ApiQuery(v.0)).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_query",
                format!("查询参数有误:{}", e.body_text().trim_start_matches("Failed to deserialize query string: ")),
            )
        })
    }
}

/// A raw body of at most `limit` bytes (uploads); too large is a clear 413.
pub fn body_or_too_large(
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
    limit: usize,
) -> Result<Bytes, ApiError> {
    body.map_err(|rej| {
        if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "file_too_large",
                format!("文件过大:每个文件不超过 {} MB。", limit / 1024 / 1024),
            )
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", "无法读取请求体。")
        }
    })
}

/// The User-Agent line, if the client sent a readable one (only its family is kept: issue 16 §1).
pub fn user_agent(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok())
}
