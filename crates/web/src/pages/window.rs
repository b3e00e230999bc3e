//! A window's fixed QR code (issue 6 §2): the poster at the window, and the pages it opens — the mobile
//! number, the one-time code from the SMS, then that number's records at this window waiting for a rating.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hcp_app::{App, AppError};
use hcp_domain::calendar::display_cst;
use hcp_store::WindowRow;

use super::layout::{error_page, esc, field_error, page};
use crate::console::FormData;
use crate::extract::ClientIp;
use crate::qr;

fn window_url(app: &App, code: &str) -> String {
    format!("{}/w/{}", app.public_url(), code)
}

fn heading(w: &WindowRow) -> String {
    format!(
        r#"<dl class="facts"><dt>办理机构</dt><dd>{}</dd><dt>服务窗口</dt><dd>{}({})</dd></dl>"#,
        esc(&w.org_name),
        esc(&w.name),
        esc(&w.hall_name)
    )
}

fn mobile_form(w: &WindowRow, mobile: &str, error: Option<&AppError>) -> String {
    let (alert, invalid) = field_error("mobile-error", error);
    format!(
        r#"{alert}<h2>评价本窗口的服务</h2>{heading}
<form method="post" action="/w/{code}">
<p><label for="mobile"><strong>办事时登记的手机号码</strong></label><br>
<input id="mobile" name="mobile" inputmode="numeric" autocomplete="tel" maxlength="11" value="{mobile}" required{invalid}></p>
<button type="submit" class="primary">获取短信验证码</button>
</form>
<p class="muted">我们会向该号码发送验证码,验证后列出您在本窗口待评价的办件。</p>"#,
        heading = heading(w),
        code = esc(&w.code),
        mobile = esc(mobile),
    )
}

fn code_form(w: &WindowRow, handle: &str, error: Option<&AppError>) -> String {
    let (alert, invalid) = field_error("code-error", error);
    format!(
        r#"{alert}<h2>输入短信验证码</h2>{heading}
<p class="notice" role="status">如该号码在本窗口有待评价的办件,验证码已发送,10 分钟内有效。</p>
<form method="post" action="/w/{code}/verify">
<input type="hidden" name="handle" value="{handle}">
<p><label for="code"><strong>6 位数字验证码</strong></label><br>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="6" required{invalid}></p>
<button type="submit" class="primary">验证</button>
</form>
<p><a href="/w/{code}">没有收到?重新获取</a></p>"#,
        heading = heading(w),
        code = esc(&w.code),
        handle = esc(handle),
    )
}

/// `GET /w/{code}`: where the fixed QR code leads.
pub async fn show(State(app): State<App>, Path(code): Path<String>) -> Response {
    match app.window(&code).await {
        Ok(w) => page(StatusCode::OK, "窗口评价", &mobile_form(&w, "", None)),
        Err(e) => error_page(&e),
    }
}

/// `POST /w/{code}`: a mobile number → a one-time code by SMS.
pub async fn request_code(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    Path(code): Path<String>,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    let w = match app.window(&code).await {
        Ok(w) => w,
        Err(e) => return error_page(&e),
    };
    match app.request_window_code(ip, &w, form.get("mobile")).await {
        Ok(handle) => page(StatusCode::OK, "输入验证码", &code_form(&w, &handle, None)),
        Err(e @ (AppError::Invalid(_) | AppError::TooMany { .. })) => {
            let status = crate::error::status_of(&e);
            page(status, "窗口评价", &mobile_form(&w, form.get("mobile"), Some(&e)))
        }
        Err(e) => error_page(&e),
    }
}

/// `POST /w/{code}/verify`: the code → the records waiting for a rating, each with its own link.
pub async fn verify(State(app): State<App>, ClientIp(ip): ClientIp, Path(code): Path<String>, body: Bytes) -> Response {
    let form = FormData::parse(&body);
    let w = match app.window(&code).await {
        Ok(w) => w,
        Err(e) => return error_page(&e),
    };
    match app.verify_window_code(ip, &w, form.get("handle"), form.get("code")).await {
        Ok(waiting) if waiting.is_empty() => page(
            StatusCode::OK,
            "没有待评价的办件",
            &format!(
                r#"<h2>没有待评价的办件</h2>{}<p class="notice" role="status">该手机号在本窗口没有待评价的办件(可能已评价,或已超过 7 天评价期)。</p>
<p class="muted">如有意见,可拨打 12345 政务服务热线。</p>"#,
                heading(&w)
            ),
        ),
        Ok(waiting) => {
            let items: String = waiting
                .iter()
                .map(|x| {
                    format!(
                        r#"<li><strong>{item}</strong><br><span class="muted">办结于 {done} · 办件编号 {number}</span><br><a class="primary" href="/e/{token}?c=qr_code">评价此次服务</a></li>"#,
                        item = esc(&x.record.item_name),
                        done = x.record.completed_at.map(display_cst).unwrap_or_default(),
                        number = esc(&x.record.record_number),
                        token = esc(&x.token),
                    )
                })
                .collect();
            page(
                StatusCode::OK,
                "待评价的办件",
                &format!(r#"<h2>您在本窗口待评价的办件</h2>{}<ul class="records">{items}</ul>"#, heading(&w)),
            )
        }
        Err(e @ AppError::Invalid(_)) => {
            page(StatusCode::UNPROCESSABLE_ENTITY, "输入验证码", &code_form(&w, form.get("handle"), Some(&e)))
        }
        Err(e) => error_page(&e),
    }
}

/// `GET /w/{code}/poster`: the printable sign for the window, with its QR code.
pub async fn poster(State(app): State<App>, Path(code): Path<String>) -> Response {
    let w = match app.window(&code).await {
        Ok(w) => w,
        Err(e) => return error_page(&e),
    };
    let url = window_url(&app, &w.code);
    let body = format!(
        r#"<div class="qr"><h2>请您为本窗口的服务评价</h2>
<p><strong>{org}</strong><br>{window}({hall})</p>
{svg}
<p>微信或手机浏览器扫一扫 · 输入办事时登记的手机号</p>
<p class="muted">{url}</p>
<p class="noprint"><a href="/w/{code}/qr.png" download>下载 PNG 图片</a> · <a href="/w/{code}/qr.svg" download>下载 SVG 矢量图</a></p></div>"#,
        org = esc(&w.org_name),
        window = esc(&w.name),
        hall = esc(&w.hall_name),
        svg = qr::svg(&url, &format!("{} 评价二维码", w.name)),
        url = esc(&url),
        code = esc(&w.code),
    );
    page(StatusCode::OK, "窗口评价二维码", &body)
}

/// `GET /w/{code}/qr.svg` and `/w/{code}/qr.png`.
pub async fn qr_image(State(app): State<App>, Path((code, file)): Path<(String, String)>) -> Response {
    let w = match app.window(&code).await {
        Ok(w) => w,
        Err(e) => return error_page(&e),
    };
    image(&window_url(&app, &w.code), &file, &format!("{} 评价二维码", w.name))
}

/// A QR code image by the requested file name (`qr.svg` or `qr.png`); any other name is not found.
pub fn image(text: &str, file: &str, label: &str) -> Response {
    match file {
        "qr.svg" => ([(header::CONTENT_TYPE, "image/svg+xml")], qr::svg(text, label)).into_response(),
        "qr.png" => ([(header::CONTENT_TYPE, "image/png")], qr::png(text, 8)).into_response(),
        _ => error_page(&AppError::not_found("not_found", "页面不存在。")),
    }
}
