use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hcp_app::App;
use hcp_app::policy::Action;

use super::{Console, console_page};
use crate::pages::layout::esc;

/// `GET /console`: what this person can do, and what operators must act on.
pub async fn show(State(app): State<App>, c: Console) -> Response {
    let mut links = String::new();
    let mut link = |action: Action, href: &str, text: &str| {
        if c.who.may(action, None) {
            links.push_str(&format!(r#"<li><a href="{href}">{}</a></li>"#, esc(text)));
        }
    };
    link(Action::ViewRecords, "/console/records", "查找办件(按手机号或办件编号)");
    link(Action::ViewRecords, "/console/cases", "差评工单(待我办理、逾期)");
    link(Action::ViewRecords, "/console/appeals", "申诉");
    link(Action::ViewFilingRegister, "/console/filing-register", "申诉处理备案");
    link(Action::ViewStats, "/console/stats", "统计分析(任意期间、任意维度,导出 Excel)");
    link(Action::ViewStats, "/console/rankings", "排名");
    link(Action::ViewStats, "/console/reports", "通报");
    link(Action::ViewAssessment, "/console/assessment", "绩效考核");
    link(Action::ViewOutbox, "/console/outbox", "通知发送情况");
    link(Action::ViewAudit, "/console/audit", "审计日志");
    link(Action::ImportCalendar, "/console/calendar", "节假日安排");
    if [Action::ManageResults, Action::ReportRectification, Action::ViewAssessment].iter().any(|a| c.who.may(*a, None))
    {
        links.push_str(r#"<li><a href="/console/orders">整改通知(连续排名靠后)</a></li>"#);
    }
    let warnings: String = if c.who.may(Action::ImportCalendar, None) {
        app.warnings().iter().map(|w| format!(r#"<p class="alert" role="alert">{}</p>"#, esc(&w.message))).collect()
    } else {
        String::new()
    };
    let body = format!("<h2>工作台</h2>{warnings}<ul>{links}</ul>");
    console_page(&c, StatusCode::OK, "工作台", &body)
}
