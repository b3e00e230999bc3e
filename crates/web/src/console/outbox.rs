//! Notifications waiting at the gateway, for the center admin: what is stuck, since when, and why.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hcp_app::App;
use hcp_domain::calendar::display_cst;

use super::{Console, console_page};
use crate::pages::layout::{error_page, esc};

/// `GET /console/outbox`
pub async fn show(State(app): State<App>, c: Console) -> Response {
    let o = match app.outbox_overview(&c.who).await {
        Ok(o) => o,
        Err(e) => return error_page(&e),
    };
    let mut rows = String::new();
    for m in &o.waiting {
        let case = m.case_id.map(|id| format!(r#"<a href="/console/cases/{id}">{id}</a>"#)).unwrap_or_default();
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{case}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&display_cst(m.created_at)),
            esc(&m.recipient_kind),
            esc(&m.body),
            m.attempts,
            esc(m.last_error.as_deref().unwrap_or("")),
            esc(&display_cst(m.next_attempt_at)),
        ));
    }
    let table = if o.waiting.is_empty() {
        r#"<p class="notice" role="status">没有待发送的通知。</p>"#.to_string()
    } else {
        format!(
            "<table><thead><tr><th>产生时间</th><th>工单</th><th>对象</th><th>内容</th><th>已尝试</th><th>最近失败原因</th><th>下次发送</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    };
    let body = format!(
        r#"<h2>通知发送情况</h2><p>发送方式:{gateway}。共 {total} 条,已发送 {delivered} 条,待发送 {waiting} 条。网关故障时通知保留并自动重试,不会丢失。</p>{table}"#,
        gateway = if o.gateway == "webhook" { "短信/消息平台" } else { "仅写入日志(未配置短信平台)" },
        total = o.total,
        delivered = o.delivered,
        waiting = o.total - o.delivered,
    );
    console_page(&c, StatusCode::OK, "通知发送情况", &body)
}
