//! How errors leave over HTTP. Under `/api` every error is `application/problem+json` (RFC 9457) with a
//! stable `code`, the `field` it concerns and a Chinese `detail`; pages show a friendly page instead
//! (see `html::error_page`). Internal errors are logged with their cause and never shown.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hcp_app::AppError;
use hcp_domain::Violation;
use serde_json::{Map, Value, json};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub errors: Vec<Violation>,
    pub details: Map<String, Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), errors: Vec::new(), details: Map::new() }
    }

    pub fn field(status: StatusCode, field: &str, code: &'static str, message: impl Into<String>) -> ApiError {
        let message = message.into();
        ApiError {
            status,
            code,
            message: message.clone(),
            errors: vec![Violation::new(field, code, message)],
            details: Map::new(),
        }
    }

    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "请求的接口不存在,请核对地址。")
    }
}

/// The HTTP status of a use-case error.
pub fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Unauthorized => StatusCode::UNAUTHORIZED,
        AppError::Forbidden | AppError::Denied { .. } => StatusCode::FORBIDDEN,
        AppError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::NotFound { .. } => StatusCode::NOT_FOUND,
        AppError::Conflict { .. } => StatusCode::CONFLICT,
        AppError::Gone { .. } => StatusCode::GONE,
        AppError::Internal(e) if e.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Logs what the user will not see. Called once per internal error, wherever it is rendered.
pub fn log_internal(e: &AppError) {
    if let AppError::Internal(cause) = e {
        tracing::error!(error = %cause, "internal error");
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        log_internal(&e);
        let status = status_of(&e);
        let (code, message) = (e.code(), e.message());
        match e {
            AppError::Invalid(errors) => ApiError { status, code, message, errors, details: Map::new() },
            AppError::Conflict { details, .. } | AppError::Gone { details, .. } => {
                ApiError { status, code, message, errors: Vec::new(), details }
            }
            _ => ApiError::new(status, code, message),
        }
    }
}

/// The body of every error under `/api` as the OpenAPI document describes it (what `into_response` writes).
/// `code`'s list of values is filled in from [`crate::problems::PROBLEM_CODES`] when the document is made.
#[derive(utoipa::ToSchema)]
#[expect(dead_code, reason = "only describes the JSON that `ApiError::into_response` writes")]
pub struct Problem {
    /// `urn:hcp:problem:{code}`.
    #[schema(rename = "type", example = "urn:hcp:problem:invalid_level")]
    kind: String,
    /// The kind of error, in Chinese (请求内容有误 …).
    title: String,
    status: u16,
    /// What went wrong, for people, in Chinese.
    detail: String,
    /// The stable machine code.
    code: String,
    /// The first field at fault, when a field is.
    field: Option<String>,
    /// Every field at fault.
    errors: Option<Vec<Violation>>,
    /// `urn:hcp:request:{id}`: the request's id, also in the log lines.
    instance: Option<String>,
}

fn title(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "请求格式错误",
        401 => "未授权",
        403 => "无权操作",
        404 => "未找到",
        405 => "请求方法不支持",
        409 => "与现有数据冲突",
        410 => "已过期",
        413 => "请求内容过大",
        415 => "内容类型不支持",
        422 => "请求内容有误",
        429 => "请求过于频繁",
        503 => "服务暂时不可用",
        _ => "系统内部错误",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        debug_assert!(
            crate::problems::is_documented(self.code),
            "problem code `{}` is not in PROBLEM_CODES (crates/web/src/problems.rs): document it",
            self.code
        );
        let mut body = json!({
            "type": format!("urn:hcp:problem:{}", self.code),
            "title": title(self.status),
            "status": self.status.as_u16(),
            "detail": self.message,
            "code": self.code,
        });
        let obj = body.as_object_mut().expect("an object literal");
        if let Some(first) = self.errors.first() {
            obj.insert("field".into(), Value::String(first.field.clone()));
        }
        if !self.errors.is_empty() {
            obj.insert("errors".into(), serde_json::to_value(&self.errors).unwrap_or_default());
        }
        obj.extend(self.details);
        if let Some(id) = crate::telemetry::request_id() {
            // The request's id: its log lines carry the same (issue 18 §2).
            obj.insert("instance".into(), Value::String(format!("urn:hcp:request:{id}")));
        }
        let mut res = (self.status, body.to_string()).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json; charset=utf-8"));
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}
