//! The page frame, HTML escaping, and the friendly error page.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hcp_app::AppError;

use crate::error::{log_internal, status_of};

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// How a page is framed: the evaluation channels differ only here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Frame {
    /// Large type and strong contrast (适老化), chosen by the evaluator.
    pub big: bool,
    /// A hall device or kiosk: a wide touch layout and the device script, which (with `idle_seconds`)
    /// goes back to the device's idle screen when nobody touches it.
    pub kiosk: bool,
    pub idle_seconds: Option<u32>,
    /// The console: tables and charts use a desktop's width.
    pub wide: bool,
}

/// A message a screen reader announces at once (`role="alert"`), given an id when a field points to it with
/// `aria-describedby`.
pub fn alert(message: &str, id: Option<&str>) -> String {
    let id = id.map(|i| format!(r#" id="{i}""#)).unwrap_or_default();
    format!(r#"<div class="alert" role="alert"{id}>{}</div>"#, esc(message))
}

/// The announced alert for a field's error and the attributes that tie the field to it; both empty without
/// an error.
pub fn field_error(id: &str, error: Option<&hcp_app::AppError>) -> (String, String) {
    match error {
        Some(e) => (alert(&e.message(), Some(id)), format!(r#" aria-invalid="true" aria-describedby="{id}""#)),
        None => (String::new(), String::new()),
    }
}

/// A whole page around `body` (already escaped HTML).
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    page_in(status, title, body, Frame::default())
}

/// [`page`] in a given frame.
pub fn page_in(status: StatusCode, title: &str, body: &str, frame: Frame) -> Response {
    let mut classes = Vec::new();
    if frame.big {
        classes.push("big");
    }
    if frame.kiosk {
        classes.push("kiosk");
    }
    if frame.wide {
        classes.push("wide");
    }
    let idle = frame.idle_seconds.map(|s| format!(r#" data-idle="{s}""#)).unwrap_or_default();
    let script = if frame.kiosk { r#"<script src="/assets/device.js" defer></script>"# } else { "" };
    let html = format!(
        r##"<!doctype html>
<html lang="zh-CN" class="{classes}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - 政务服务“好差评”</title>
<link rel="stylesheet" href="/assets/hcp.css">{script}
</head>
<body{idle}>
<a class="skip" href="#main">跳到正文</a>
<header><h1>政务服务“好差评”</h1></header>
<main id="main">
{body}
</main>
<footer>您的评价实名记录,个人信息严格保密,不会提供给第三方。</footer>
</body>
</html>"##,
        title = esc(title),
        classes = classes.join(" "),
    );
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html)
        .into_response()
}

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
    let body = format!(
        r#"<h2>{}</h2><p class="notice" role="status">{}</p><p class="muted">如有疑问,可拨打 12345 政务服务热线。</p>"#,
        esc(heading),
        esc(&e.message())
    );
    let mut res = page(status, heading, &body);
    if status == axum::http::StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("5"));
    }
    res
}
