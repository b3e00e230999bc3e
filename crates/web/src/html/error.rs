//! Errors on pages: a calm page that says what happened and what to do next, in place of the API's
//! problem+json. Page handlers return [`PageResult`] and use `?` on use-case results.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hcp_app::AppError;
use maud::html;

use super::frame::page;
use crate::error::{log_internal, status_of};

/// A use-case error on its way to becoming an error page.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        error_page(&self.0)
    }
}

/// What a page handler answers.
pub type PageResult = Result<Response, PageError>;

/// A use-case error shown as a calm page with what to do next.
pub fn error_page(e: &AppError) -> Response {
    log_internal(e);
    let status = status_of(e);
    let heading = match status.as_u16() {
        404 => "链接无效",
        403 => "无权操作",
        409 => "无法重复评价",
        429 => "请稍后再试",
        410 => "评价期已结束",
        422 => "请检查填写内容",
        503 => "请稍后重试",
        _ => "暂时无法评价",
    };
    let body = html! {
        h2 { (heading) }
        p.notice role="status" { (e.message()) }
        p.muted { "如有疑问,可拨打 12345 政务服务热线。" }
    };
    let mut res = page(status, heading, body);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    res
}
