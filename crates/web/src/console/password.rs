use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hcp_app::{App, AppError};
use maud::{Markup, html};

use super::{Console, CsrfForm, console_page, csrf_field};
use crate::html::{PageResult, alert};

fn form(c: &Console, error: Option<&str>) -> Markup {
    html! {
        h2 { "修改密码" }
        @if let Some(e) = error { (alert(e, None)) }
        form method="post" action="/console/password" {
            (csrf_field(c))
            p {
                label for="old_password" { "原密码" } br;
                input #old_password name="old_password" type="password" autocomplete="current-password" required;
            }
            p {
                label for="new_password" { "新密码(至少 10 个字符)" } br;
                input #new_password name="new_password" type="password" autocomplete="new-password" required;
            }
            button.primary type="submit" { "修改" }
        }
    }
}

/// `GET /console/password`
pub async fn show(c: Console) -> Response {
    console_page(&c, StatusCode::OK, "修改密码", form(&c, None))
}

/// `POST /console/password`: every session of the account ends; log in again with the new password.
pub async fn change(State(app): State<App>, CsrfForm { console: c, form: f }: CsrfForm) -> PageResult {
    match app.change_password(&c.who, f.get("old_password"), f.get("new_password")).await {
        Ok(()) => Ok(Redirect::to("/login").into_response()),
        Err(AppError::Invalid(v)) => {
            Ok(console_page(&c, StatusCode::UNPROCESSABLE_ENTITY, "修改密码", form(&c, Some(&v[0].message))))
        }
        Err(e) => Err(e.into()),
    }
}
