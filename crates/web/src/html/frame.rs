//! The page frame every server-rendered page shares.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

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
    /// A page for staff (the console, its login): no note to evaluators about their information.
    pub staff: bool,
}

impl Frame {
    fn classes(self) -> String {
        [(self.big, "big"), (self.kiosk, "kiosk"), (self.wide, "wide")]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, c)| *c)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The whole document around `body`.
pub fn document(title: &str, body: Markup, frame: Frame) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" class=(frame.classes()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " - 政务服务“好差评”" }
                link rel="stylesheet" href="/assets/hcp.css";
                @if frame.kiosk { script src="/assets/device.js" defer {} }
            }
            body data-idle=[frame.idle_seconds] {
                a.skip href="#main" { "跳到正文" }
                header { h1 { "政务服务“好差评”" } }
                main #main { (body) }
                // Plan §十一: evaluation is real-name; the evaluator's information goes to no third party without
                // their consent — and records are reported to the provincial system as the rules require.
                @if !frame.staff {
                    footer { "“好差评”实行实名评价。未经您本人同意,您的信息不会提供给第三方;评价依规报送上级“好差评”系统。" }
                }
            }
        }
    }
}

/// A whole page around `body`, never cached (pages carry personal data and one-time forms).
pub fn page(status: StatusCode, title: &str, body: Markup) -> Response {
    page_in(status, title, body, Frame::default())
}

/// [`page`] in a given frame.
pub fn page_in(status: StatusCode, title: &str, body: Markup, frame: Frame) -> Response {
    let html = document(title, body, frame).into_string();
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html)
        .into_response()
}
