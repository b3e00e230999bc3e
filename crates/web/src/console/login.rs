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
use crate::pages::layout::{error_page, esc, page};

const LOGIN_CSRF_COOKIE: &str = "hcp_login_csrf";

fn secure(app: &App) -> &'static str {
    if app.public_url().starts_with("https://") { "; Secure" } else { "" }
}

fn login_form(app: &App, error: Option<&str>) -> Response {
    let token = hcp_app::secrets::new_token();
    let alert = error.map(|e| format!(r#"<p class="alert" role="alert">{}</p>"#, esc(e))).unwrap_or_default();
    let body = format!(
        r#"<h2>工作人员登录</h2>{alert}
<form method="post" action="/login">
<input type="hidden" name="csrf" value="{token}">
<p><label for="username">用户名</label><br><input id="username" name="username" autocomplete="username" required></p>
<p><label for="password">密码</label><br><input id="password" name="password" type="password" autocomplete="current-password" required></p>
<button type="submit" class="primary">登录</button>
</form>"#
    );
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let mut res = page(status, "登录", &body);
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
pub async fn submit(State(app): State<App>, ClientIp(ip): ClientIp, headers: HeaderMap, body: Bytes) -> Response {
    let form = FormData::parse(&body);
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !hcp_app::secrets::same(expected.as_bytes(), form.get("csrf").as_bytes()) {
        return login_form(&app, Some("页面已过期,请重新登录。"));
    }
    match app.login(form.get("username"), form.get("password"), &ip.to_string()).await {
        Ok(session) => {
            let mut res = Redirect::to("/console").into_response();
            let c = format!("{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax{}", session.cookie, secure(&app));
            if let Ok(v) = HeaderValue::from_str(&c) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Err(e @ AppError::TooMany { .. }) => error_page(&e),
        Err(AppError::Invalid(v)) => login_form(&app, v.first().map(|v| v.message.as_str())),
        Err(e) => error_page(&e),
    }
}

/// `POST /logout`
pub async fn logout(State(app): State<App>, CsrfForm { console: c, form: _ }: CsrfForm) -> Response {
    if let Err(e) = app.logout(&c.cookie, &c.who).await {
        return error_page(&e);
    }
    let mut res = Redirect::to("/login").into_response();
    let gone = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}", secure(&app));
    if let Ok(v) = HeaderValue::from_str(&gone) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}
