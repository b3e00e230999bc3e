use axum::extract::State;
use axum::http::StatusCode;
use hcp_app::policy::Action;
use hcp_app::{App, AppError};
use maud::{Markup, html};

use super::{Console, CsrfForm, console_page, csrf_field, gate};
use crate::html::{PageResult, alert, notice};

fn form(app: &App, c: &Console, message: Markup) -> Markup {
    let years: Vec<String> = app.calendar().loaded_years().iter().map(i32::to_string).collect();
    html! {
        h2 { "节假日安排" }
        @for w in app.warnings() { p.alert role="alert" { (w.message) } }
        (message)
        p { "已载入年份:" (years.join("、")) }
        form method="post" action="/console/calendar" {
            (csrf_field(c))
            p {
                label for="csv" { "国务院办公厅通知(每行“日期,holiday 或 workday,名称”)" } br;
                textarea #csv name="csv" rows="10" required {}
            }
            p { label.choice { input type="checkbox" name="local" value="1"; " 本县临时调整(而非国务院通知)" } }
            button.primary type="submit" { "导入" }
        }
    }
}

/// `GET /console/calendar` (center admin)
pub async fn show(State(app): State<App>, c: Console) -> PageResult {
    gate(&c, &[Action::ImportCalendar])?;
    Ok(console_page(&c, StatusCode::OK, "节假日安排", form(&app, &c, html! {})))
}

/// `POST /console/calendar`: a bad file is refused whole, with its line and reason.
pub async fn import(State(app): State<App>, CsrfForm { console: c, form: f }: CsrfForm) -> PageResult {
    match app.import_calendar_as(&c.who, f.get("csv"), f.get("local") == "1").await {
        Ok(report) => {
            let years: Vec<String> = report.years.iter().map(i32::to_string).collect();
            let msg = notice(&format!(
                "已导入 {} 年:放假 {} 天,调休上班 {} 天。",
                years.join("、"),
                report.holidays,
                report.workdays
            ));
            Ok(console_page(&c, StatusCode::OK, "节假日安排", form(&app, &c, msg)))
        }
        Err(AppError::Invalid(v)) => {
            let msg = alert(&v[0].message, None);
            Ok(console_page(&c, StatusCode::UNPROCESSABLE_ENTITY, "节假日安排", form(&app, &c, msg)))
        }
        Err(e) => Err(e.into()),
    }
}
