//! The hall device (评价器) at a window (issue 6 §2). A registered device opens `/d/{secret}`: an idle
//! screen that long-polls `/d/{secret}/next`; when its window completes a service, the device opens that
//! record's evaluation page in the touch layout, which comes back to the idle screen when left alone
//! (`assets/device.js`, the only script of the program).

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hcp_app::App;
use serde::Deserialize;

use maud::html;

use crate::error::ApiError;
use crate::html::{Frame, PageResult, page_in};

/// How long one poll waits before answering "nothing yet" (below common proxy timeouts).
const LONG_POLL: Duration = Duration::from_secs(25);

/// `GET /d/{secret}`: the idle screen.
pub async fn show(State(app): State<App>, Path(secret): Path<String>) -> PageResult {
    let device = app.device(&secret).await?;
    let body = html! {
        div #device .idle data-next={ "/d/" (secret) "/next" } {
            p.big-text { "欢迎办理业务" }
            p { (device.window_name) " · " (device.hall_name) }
            p.notice role="status" aria-live="polite" #device-status { "办结后,请在本评价器上为我们的服务评价。" }
            noscript { p.alert { "本评价器需要启用 JavaScript。" } }
            p.muted { "设备 " (device.code) }
        }
    };
    Ok(page_in(StatusCode::OK, "评价器", body, Frame { big: true, kiosk: true, ..Frame::default() }))
}

#[derive(Deserialize)]
pub struct NextQuery {
    after: Option<i64>,
}

/// `GET /d/{secret}/next?after=ID`: the next record to rate at this device's window, as
/// `{"record_id", "url"}`, or 204 when none arrived within the poll.
pub async fn next(State(app): State<App>, Path(secret): Path<String>, Query(q): Query<NextQuery>) -> Response {
    match app.device_next(&secret, q.after.unwrap_or(0), LONG_POLL).await {
        Ok(Some(w)) => (
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(serde_json::json!({
                "record_id": w.record.id,
                "url": format!("/e/{}?c=hall_device&big=1", w.token),
            })),
        )
            .into_response(),
        Ok(None) => (StatusCode::NO_CONTENT, [(header::CACHE_CONTROL, "no-store")]).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}
