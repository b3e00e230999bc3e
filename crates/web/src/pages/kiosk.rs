//! The kiosk (自助服务终端) in the hall (issue 6 §2): the applicant types the record number and their ID
//! number, then rates on the same evaluation page in the touch layout, which returns here when left alone.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hcp_app::{App, AppError};

use super::layout::{Frame, alert, error_page, esc, page_in};
use crate::console::FormData;
use crate::extract::ClientIp;

const FRAME: Frame = Frame { big: true, kiosk: true, idle_seconds: Some(120), wide: false };

fn form(number: &str, error: Option<&AppError>) -> String {
    let alert = error.map(|e| alert(&e.message(), Some("kiosk-error"))).unwrap_or_default();
    format!(
        r#"<div id="kiosk-home" data-home="/kiosk"></div>{alert}<h2>评价您办理的业务</h2>
<form method="post" action="/kiosk" autocomplete="off">
<p><label for="record_number"><strong>办件编号</strong>(见受理回执或办结短信)</label><br>
<input id="record_number" name="record_number" value="{number}" required></p>
<p><label for="id_number"><strong>身份证号码</strong>(办事时登记的证件)</label><br>
<input id="id_number" name="id_number" maxlength="18" required></p>
<button type="submit" class="primary">查找办件并评价</button>
</form>
<p class="muted">身份证号码仅用于核对,不会显示或保存在本机。</p>"#,
        number = esc(number),
    )
}

/// `GET /kiosk`.
pub async fn show() -> Response {
    page_in(StatusCode::OK, "自助评价", &form("", None), FRAME)
}

/// `POST /kiosk`: the record found → its evaluation page, marked as a kiosk evaluation.
pub async fn find(State(app): State<App>, ClientIp(ip): ClientIp, body: Bytes) -> Response {
    let f = FormData::parse(&body);
    match app.kiosk_lookup(ip, f.get("record_number"), f.get("id_number")).await {
        Ok(w) => Redirect::to(&format!("/e/{}?c=kiosk&big=1", w.token)).into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::NotFound { .. })) => {
            page_in(crate::error::status_of(&e), "自助评价", &form(f.get("record_number"), Some(&e)), FRAME)
        }
        Err(e) => error_page(&e),
    }
}
