use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hcp_app::{App, AppError};

use super::{Console, FormData, console_page, csrf_field, csrf_refusal};
use crate::pages::layout::{error_page, esc};

fn form(c: &Console, error: &str) -> String {
    format!(
        r#"<h2>修改密码</h2>{error}<form method="post" action="/console/password">{csrf}
<p><label for="old_password">原密码</label><br><input id="old_password" name="old_password" type="password" autocomplete="current-password" required></p>
<p><label for="new_password">新密码(至少 10 个字符)</label><br><input id="new_password" name="new_password" type="password" autocomplete="new-password" required></p>
<button type="submit" class="primary">修改</button></form>"#,
        csrf = csrf_field(c)
    )
}

/// `GET /console/password`
pub async fn show(c: Console) -> Response {
    console_page(&c, StatusCode::OK, "修改密码", &form(&c, ""))
}

/// `POST /console/password`: every session of the account ends; log in again with the new password.
pub async fn change(State(app): State<App>, c: Console, body: Bytes) -> Response {
    let f = FormData::parse(&body);
    if let Some(r) = csrf_refusal(&c, &f) {
        return r;
    }
    match app.change_password(&c.who, f.get("old_password"), f.get("new_password")).await {
        Ok(()) => Redirect::to("/login").into_response(),
        Err(AppError::Invalid(v)) => {
            let msg = format!(r#"<p class="alert" role="alert">{}</p>"#, esc(&v[0].message));
            console_page(&c, StatusCode::UNPROCESSABLE_ENTITY, "修改密码", &form(&c, &msg))
        }
        Err(e) => error_page(&e),
    }
}
