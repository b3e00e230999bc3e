//! Login and logout. The login form carries a CSRF token that matches a cookie set with the form (there is
//! no session yet to bind it to).

use super::CsrfForm;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use hcp_app::{App, AppError};

use super::{FormData, SESSION_COOKIE, cookie};
use crate::extract::ClientIp;
use crate::html::{Frame, PageResult, alert, csrf_field, page_in};
use maud::html;

const LOGIN_CSRF_COOKIE: &str = "hcp_login_csrf";

fn secure(app: &App) -> &'static str {
    if app.public_url().starts_with("https://") { "; Secure" } else { "" }
}

fn login_form(app: &App, error: Option<&str>) -> Response {
    let token = hcp_app::secrets::new_token();
    let body = html! {
        h2 { "工作人员登录" }
        @if let Some(e) = error { (alert(e, None)) }
        form method="post" action="/login" {
            (csrf_field(&token))
            p { label for="username" { "用户名" } br; input #username name="username" autocomplete="username" required; }
            p {
                label for="password" { "密码" } br;
                input #password name="password" type="password" autocomplete="current-password" required;
            }
            button.primary type="submit" { "登录" }
        }
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let frame = Frame { staff: true, ..Default::default() };
    let mut res = page_in(status, "登录", body, frame);
    let c = format!("{LOGIN_CSRF_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict{}", secure(app));
    if let Ok(v) = HeaderValue::from_str(&c) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// `GET /login`
pub async fn show(State(app): State<App>) -> Response {
    login_form(&app, None)
}

/// `POST /login`
pub async fn submit(State(app): State<App>, ClientIp(ip): ClientIp, headers: HeaderMap, body: Bytes) -> PageResult {
    let form = FormData::parse(&body);
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !hcp_app::secrets::same(expected.as_bytes(), form.get("csrf").as_bytes()) {
        return Ok(login_form(&app, Some("页面已过期,请重新登录。")));
    }
    match app.login(form.get("username"), form.get("password"), &ip.to_string()).await {
        Ok(session) => {
            let mut res = Redirect::to("/console").into_response();
            let c = format!("{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax{}", session.cookie, secure(&app));
            if let Ok(v) = HeaderValue::from_str(&c) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            Ok(res)
        }
        Err(AppError::Invalid(v)) => Ok(login_form(&app, v.first().map(|v| v.message.as_str()))),
        Err(e) => Err(e.into()),
    }
}

/// `POST /logout`
pub async fn logout(State(app): State<App>, CsrfForm { console: c, form: _ }: CsrfForm) -> PageResult {
    app.logout(&c.cookie, &c.who).await?;
    let mut res = Redirect::to("/login").into_response();
    let gone = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}", secure(&app));
    if let Ok(v) = HeaderValue::from_str(&gone) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}
