use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hcp_app::policy::Action;
use hcp_app::{App, AppError};

use super::{Console, FormData, console_page, csrf_field, csrf_refusal};
use crate::pages::layout::{error_page, esc};

fn form(app: &App, c: &Console, message: &str) -> String {
    let years: Vec<String> = app.calendar().loaded_years().iter().map(i32::to_string).collect();
    let warnings: String =
        app.warnings().iter().map(|w| format!(r#"<p class="alert" role="alert">{}</p>"#, esc(&w.message))).collect();
    format!(
        r#"<h2>节假日安排</h2>{warnings}{message}<p>已载入年份:{years}</p>
<form method="post" action="/console/calendar">{csrf}
<p><label for="csv">国务院办公厅通知(每行“日期,holiday 或 workday,名称”)</label><br>
<textarea id="csv" name="csv" rows="10" required></textarea></p>
<p><label class="choice"><input type="checkbox" name="local" value="1"> 本县临时调整(而非国务院通知)</label></p>
<button type="submit" class="primary">导入</button></form>"#,
        years = esc(&years.join("、")),
        csrf = csrf_field(c),
    )
}

/// `GET /console/calendar` (center admin)
pub async fn show(State(app): State<App>, c: Console) -> Response {
    if !c.who.may(Action::ImportCalendar, None) {
        return error_page(&AppError::Forbidden);
    }
    console_page(&c, StatusCode::OK, "节假日安排", &form(&app, &c, ""))
}

/// `POST /console/calendar`: a bad file is refused whole, with its line and reason.
pub async fn import(State(app): State<App>, c: Console, body: Bytes) -> Response {
    let f = FormData::parse(&body);
    if let Some(r) = csrf_refusal(&c, &f) {
        return r;
    }
    match app.import_calendar_as(&c.who, f.get("csv"), f.get("local") == "1").await {
        Ok(report) => {
            let years: Vec<String> = report.years.iter().map(i32::to_string).collect();
            let msg = format!(
                r#"<p class="notice" role="status">已导入 {} 年:放假 {} 天,调休上班 {} 天。</p>"#,
                esc(&years.join("、")),
                report.holidays,
                report.workdays
            );
            console_page(&c, StatusCode::OK, "节假日安排", &form(&app, &c, &msg))
        }
        Err(AppError::Invalid(v)) => {
            let msg = format!(r#"<p class="alert" role="alert">{}</p>"#, esc(&v[0].message));
            console_page(&c, StatusCode::UNPROCESSABLE_ENTITY, "节假日安排", &form(&app, &c, &msg))
        }
        Err(e) => error_page(&e),
    }
}
