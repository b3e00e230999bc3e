//! The kiosk (自助服务终端) in the hall (issue 6 §2): the applicant types the record number and their ID
//! number, then rates on the same evaluation page in the touch layout, which returns here when left alone.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hcp_app::{App, AppError};
use maud::{Markup, html};

use crate::console::FormData;
use crate::extract::ClientIp;
use crate::html::{Frame, PageResult, alert, page_in};

const FRAME: Frame = Frame { big: true, kiosk: true, idle_seconds: Some(120), wide: false, staff: false };

fn form(number: &str, error: Option<&AppError>) -> Markup {
    html! {
        div #kiosk-home data-home="/kiosk" {}
        @if let Some(e) = error { (alert(&e.message(), Some("kiosk-error"))) }
        h2 { "评价您办理的业务" }
        form method="post" action="/kiosk" autocomplete="off" {
            p {
                label for="record_number" { strong { "办件编号" } "(见受理回执或办结短信)" } br;
                input #record_number name="record_number" value=(number) required;
            }
            p {
                label for="id_number" { strong { "身份证号码" } "(办事时登记的证件)" } br;
                input #id_number name="id_number" maxlength="18" required;
            }
            button.primary type="submit" { "查找办件并评价" }
        }
        p.muted { "身份证号码仅用于核对,不会显示或保存在本机。" }
    }
}

/// `GET /kiosk`.
pub async fn show() -> Response {
    page_in(StatusCode::OK, "自助评价", form("", None), FRAME)
}

/// `POST /kiosk`: the record found → its evaluation page, marked as a kiosk evaluation.
pub async fn find(State(app): State<App>, ClientIp(ip): ClientIp, body: Bytes) -> PageResult {
    let f = FormData::parse(&body);
    match app.kiosk_lookup(ip, f.get("record_number"), f.get("id_number")).await {
        Ok(w) => Ok(Redirect::to(&format!("/e/{}?c=kiosk&big=1", w.token)).into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::NotFound { .. })) => {
            Ok(page_in(crate::error::status_of(&e), "自助评价", form(f.get("record_number"), Some(&e)), FRAME))
        }
        Err(e) => Err(e.into()),
    }
}
