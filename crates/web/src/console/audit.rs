use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcp_app::App;
use hcp_domain::calendar::display_cst;
use serde::Deserialize;

use super::{Console, console_page};
use crate::pages::layout::{error_page, esc};

#[derive(Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    after: i64,
}

/// `GET /console/audit?action=…&after=…`: the auditor's view of the log, 200 entries a page.
pub async fn show(State(app): State<App>, c: Console, Query(q): Query<AuditQuery>) -> Response {
    let entries = match app.audit_log(&c.who, &q.action, q.after).await {
        Ok(e) => e,
        Err(e) => return error_page(&e),
    };
    let rows: String = entries
        .iter()
        .map(|e| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                e.seq,
                esc(&display_cst(e.at)),
                esc(&e.actor),
                esc(&e.action),
                esc(&e.target),
                esc(&e.details)
            )
        })
        .collect();
    let next = entries
        .last()
        .map(|e| format!(r#"<p><a href="/console/audit?action={}&after={}">下一页</a></p>"#, esc(&q.action), e.seq));
    let body = format!(
        r#"<h2>审计日志</h2>
<form method="get" action="/console/audit"><label for="action">操作类型前缀</label> <input id="action" name="action" value="{a}">
<button type="submit">筛选</button></form>
<table><thead><tr><th>序号</th><th>时间</th><th>操作人</th><th>操作</th><th>对象</th><th>详情</th></tr></thead><tbody>{rows}</tbody></table>{next}"#,
        a = esc(&q.action),
        next = next.unwrap_or_default()
    );
    console_page(&c, StatusCode::OK, "审计日志", &body)
}
