//! The one error type of the use cases. Which variant to use where:
//!
//! - [`AppError::Invalid`]: the request is understood but a field is wrong (422), one entry per bad field.
//! - [`AppError::Unauthorized`]: no valid credentials (401).
//! - [`AppError::Forbidden`]: known person, but their role may not do this at all (403). Something out of
//!   their scope is [`AppError::NotFound`] instead.
//! - [`AppError::Denied`]: known person, allowed this in general but not here and now, for a reason they should
//!   read (403 with its own code): no duty needs the reveal, a conflict of interest in an appeal.
//! - [`AppError::TooMany`]: slow down (429): lockouts and rate limits.
//! - [`AppError::NotFound`]: the thing does not exist *for this caller* (404); out-of-scope ids answer this
//!   too, so nobody learns what exists elsewhere.
//! - [`AppError::Conflict`]: the request clashes with the state (409), e.g. a second evaluation.
//! - [`AppError::Gone`]: it existed but its time is over (410), e.g. a closed evaluation window.
//! - [`AppError::Internal`]: anything else; logged with its cause, shown only as a generic message.
//!
//! Every variant carries a stable machine `code` (clients switch on it) and a Chinese message for people.

use hcp_domain::Violation;
use hcp_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid input: {0:?}")]
    Invalid(Vec<Violation>),
    #[error("unauthorized")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    #[error("denied: {code}")]
    Denied { code: &'static str, message: String },
    #[error("too many: {code}")]
    TooMany { code: &'static str, message: String },
    #[error("not found: {code}")]
    NotFound { code: &'static str, message: String },
    #[error("conflict: {code}")]
    Conflict { code: &'static str, message: String, details: serde_json::Map<String, serde_json::Value> },
    #[error("gone: {code}")]
    Gone { code: &'static str, message: String, details: serde_json::Map<String, serde_json::Value> },
    #[error("internal: {0}")]
    Internal(#[from] StoreError),
}

impl AppError {
    pub fn invalid(field: &str, code: &'static str, message: impl Into<String>) -> AppError {
        AppError::Invalid(vec![Violation::new(field, code, message)])
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::NotFound { code, message: message.into() }
    }

    pub fn denied(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::Denied { code, message: message.into() }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::Conflict { code, message: message.into(), details: Default::default() }
    }

    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Invalid(v) => v.first().map(|v| v.code).unwrap_or("invalid"),
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::TooMany { code, .. } | AppError::Denied { code, .. } => code,
            AppError::NotFound { code, .. } | AppError::Conflict { code, .. } | AppError::Gone { code, .. } => code,
            AppError::Internal(StoreError::Busy) => "server_busy",
            AppError::Internal(e) if e.is_unavailable() => "database_unavailable",
            AppError::Internal(_) => "internal_error",
        }
    }

    /// The message for people, in Chinese. Internal errors never show their cause.
    pub fn message(&self) -> String {
        match self {
            AppError::Invalid(v) => v.first().map(|v| v.message.clone()).unwrap_or_else(|| "请求内容有误。".into()),
            AppError::Unauthorized => "缺少有效的接口密钥(API key),请在 Authorization 头中以 Bearer 方式提供。".into(),
            AppError::Forbidden => "您的角色无权进行此操作。".into(),
            AppError::TooMany { message, .. } | AppError::Denied { message, .. } => message.clone(),
            AppError::NotFound { message, .. }
            | AppError::Conflict { message, .. }
            | AppError::Gone { message, .. } => message.clone(),
            AppError::Internal(StoreError::Busy) => {
                "系统繁忙,请稍后重试。已提交的评价不会丢失,重新提交不会重复记录。".into()
            }
            AppError::Internal(e) if e.is_unavailable() => {
                "数据库暂时无法访问,请稍后重试;系统恢复后无需任何操作。".into()
            }
            AppError::Internal(_) => "系统内部错误,请稍后重试;如果问题持续,请联系系统管理员。".into(),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
