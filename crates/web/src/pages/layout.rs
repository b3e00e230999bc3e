//! The page frame of pages still written as strings; they move to [`crate::html`] one by one.

use axum::http::StatusCode;
use axum::response::Response;
use maud::PreEscaped;

pub use crate::html::{Frame, error_page};

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

/// A message a screen reader announces at once.
pub fn alert(message: &str, id: Option<&str>) -> String {
    crate::html::alert(message, id).into_string()
}

/// A whole page around `body` (already escaped HTML).
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    crate::html::page(status, title, PreEscaped(body.to_string()))
}

/// [`page`] in a given frame.
pub fn page_in(status: StatusCode, title: &str, body: &str, frame: Frame) -> Response {
    crate::html::page_in(status, title, PreEscaped(body.to_string()), frame)
}
