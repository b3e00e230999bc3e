use axum::extract::{Query, State};
use axum::http::StatusCode;
use hcp_app::App;
use hcp_domain::calendar::display_cst;
use maud::html;
use serde::Deserialize;

use super::{Console, console_page};
use crate::html::{PageResult, query, table};

#[derive(Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    after: i64,
}

/// `GET /console/audit?action=…&after=…`: the auditor's view of the log, 200 entries a page.
pub async fn show(State(app): State<App>, c: Console, Query(q): Query<AuditQuery>) -> PageResult {
    let entries = app.audit_log(&c.who, &q.action, q.after).await?;
    let body = html! {
        h2 { "审计日志" }
        form method="get" action="/console/audit" {
            label for="action" { "操作类型前缀" } " "
            input #action name="action" value=(q.action);
            " " button type="submit" { "筛选" }
        }
        (table(&["序号", "时间", "操作人", "操作", "对象", "详情"], html! {
            @for e in &entries {
                tr {
                    td { (e.seq) }
                    td { (display_cst(e.at)) }
                    td { (e.actor) }
                    td { (e.action) }
                    td { (e.target) }
                    td { code { (e.details) } }
                }
            }
        }))
        @if let Some(last) = entries.last() {
            p { a href={ "/console/audit?" (query(&[("action", &q.action), ("after", &last.seq.to_string())])) } { "下一页" } }
        }
    };
    Ok(console_page(&c, StatusCode::OK, "审计日志", body))
}
