//! A window's fixed QR code (issue 6 §2): the poster at the window, and the pages it opens — the mobile
//! number, the one-time code from the SMS, then that number's records at this window waiting for a rating.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hcp_app::{App, AppError};
use hcp_domain::calendar::display_cst;
use hcp_store::WindowRow;
use maud::{Markup, html};

use crate::console::FormData;
use crate::extract::ClientIp;
use crate::html::{PageResult, error_page, field_error, notice, page};
use crate::qr;

fn window_url(app: &App, code: &str) -> String {
    format!("{}/w/{}", app.public_url(), code)
}

fn heading(w: &WindowRow) -> Markup {
    html! {
        dl.facts {
            dt { "办理机构" } dd { (w.org_name) }
            dt { "服务窗口" } dd { (w.name) "(" (w.hall_name) ")" }
        }
    }
}

fn mobile_form(w: &WindowRow, mobile: &str, error: Option<&AppError>) -> Markup {
    let err = field_error("mobile-error", error);
    html! {
        (err.alert)
        h2 { "评价本窗口的服务" }
        (heading(w))
        form method="post" action={ "/w/" (w.code) } {
            p {
                label for="mobile" { strong { "办事时登记的手机号码" } } br;
                input #mobile name="mobile" inputmode="numeric" autocomplete="tel" maxlength="11" value=(mobile) required
                    aria-invalid=[err.invalid()] aria-describedby=[err.described_by];
            }
            button.primary type="submit" { "获取短信验证码" }
        }
        p.muted { "我们会向该号码发送验证码,验证后列出您在本窗口待评价的办件。" }
    }
}

fn code_form(w: &WindowRow, handle: &str, error: Option<&AppError>) -> Markup {
    let err = field_error("code-error", error);
    html! {
        (err.alert)
        h2 { "输入短信验证码" }
        (heading(w))
        (notice("如该号码在本窗口有待评价的办件,验证码已发送,10 分钟内有效。"))
        form method="post" action={ "/w/" (w.code) "/verify" } {
            input type="hidden" name="handle" value=(handle);
            p {
                label for="code" { strong { "6 位数字验证码" } } br;
                input #code name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="6" required
                    aria-invalid=[err.invalid()] aria-describedby=[err.described_by];
            }
            button.primary type="submit" { "验证" }
        }
        p { a href={ "/w/" (w.code) } { "没有收到?重新获取" } }
    }
}

/// `GET /w/{code}`: where the fixed QR code leads.
pub async fn show(State(app): State<App>, Path(code): Path<String>) -> PageResult {
    let w = app.window(&code).await?;
    Ok(page(StatusCode::OK, "窗口评价", mobile_form(&w, "", None)))
}

/// `POST /w/{code}`: a mobile number → a one-time code by SMS.
pub async fn request_code(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    Path(code): Path<String>,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let w = app.window(&code).await?;
    match app.request_window_code(ip, &w, form.get("mobile")).await {
        Ok(handle) => Ok(page(StatusCode::OK, "输入验证码", code_form(&w, &handle, None))),
        Err(e @ (AppError::Invalid(_) | AppError::TooMany { .. })) => {
            let status = crate::error::status_of(&e);
            Ok(page(status, "窗口评价", mobile_form(&w, form.get("mobile"), Some(&e))))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /w/{code}/verify`: the code → the records waiting for a rating, each with its own link.
pub async fn verify(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    Path(code): Path<String>,
    body: Bytes,
) -> PageResult {
    let form = FormData::parse(&body);
    let w = app.window(&code).await?;
    let waiting = match app.verify_window_code(ip, &w, form.get("handle"), form.get("code")).await {
        Ok(waiting) => waiting,
        Err(e @ AppError::Invalid(_)) => {
            return Ok(page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "输入验证码",
                code_form(&w, form.get("handle"), Some(&e)),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if waiting.is_empty() {
        let body = html! {
            h2 { "没有待评价的办件" }
            (heading(&w))
            (notice("该手机号在本窗口没有待评价的办件(可能已评价,或已超过 7 天评价期)。"))
            p.muted { "如有意见,可拨打 12345 政务服务热线。" }
        };
        return Ok(page(StatusCode::OK, "没有待评价的办件", body));
    }
    let body = html! {
        h2 { "您在本窗口待评价的办件" }
        (heading(&w))
        ul.records {
            @for x in &waiting {
                li {
                    strong { (x.record.item_name) } br;
                    span.muted {
                        "办结于 " (x.record.completed_at.map(display_cst).unwrap_or_default())
                        " · 办件编号 " (x.record.record_number)
                    }
                    br;
                    a.primary href={ "/e/" (x.token) "?c=qr_code" } { "评价此次服务" }
                }
            }
        }
    };
    Ok(page(StatusCode::OK, "待评价的办件", body))
}

/// `GET /w/{code}/poster`: the printable sign for the window, with its QR code.
pub async fn poster(State(app): State<App>, Path(code): Path<String>) -> PageResult {
    let w = app.window(&code).await?;
    let url = window_url(&app, &w.code);
    let body = html! {
        div.qr {
            h2 { "请您为本窗口的服务评价" }
            p { strong { (w.org_name) } br; (w.name) "(" (w.hall_name) ")" }
            (qr::svg(&url, &format!("{} 评价二维码", w.name)))
            p { "微信或手机浏览器扫一扫 · 输入办事时登记的手机号" }
            p.muted { (url) }
            p.noprint {
                a href={ "/w/" (w.code) "/qr.png" } download { "下载 PNG 图片" }
                " · "
                a href={ "/w/" (w.code) "/qr.svg" } download { "下载 SVG 矢量图" }
            }
        }
    };
    Ok(page(StatusCode::OK, "窗口评价二维码", body))
}

/// `GET /w/{code}/qr.svg` and `/w/{code}/qr.png`.
pub async fn qr_image(State(app): State<App>, Path((code, file)): Path<(String, String)>) -> PageResult {
    let w = app.window(&code).await?;
    Ok(image(&window_url(&app, &w.code), &file, &format!("{} 评价二维码", w.name)))
}

/// A QR code image by the requested file name (`qr.svg` or `qr.png`); any other name is not found.
pub fn image(text: &str, file: &str, label: &str) -> Response {
    match file {
        "qr.svg" => ([(header::CONTENT_TYPE, "image/svg+xml")], qr::svg(text, label).into_string()).into_response(),
        "qr.png" => ([(header::CONTENT_TYPE, "image/png")], qr::png(text, 8)).into_response(),
        _ => error_page(&AppError::not_found("not_found", "页面不存在。")),
    }
}
