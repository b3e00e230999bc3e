//! Notifications waiting at the gateway, for the center admin: what is stuck, since when, and why.

use axum::extract::State;
use axum::http::StatusCode;
use hcp_app::App;
use hcp_domain::calendar::display_cst;
use maud::html;

use super::{Console, console_page};
use crate::html::{PageResult, notice, table};

/// `GET /console/outbox`
pub async fn show(State(app): State<App>, c: Console) -> PageResult {
    let o = app.outbox_overview(&c.who).await?;
    let body = html! {
        h2 { "通知发送情况" }
        @if o.gateway == "webhook" {
            p {
                "发送方式:短信/消息平台。共 " (o.total) " 条,已处理 " (o.delivered) " 条,待发送 " (o.total - o.delivered)
                " 条。网关故障时通知保留并自动重试,不会丢失。"
            }
        } @else {
            (crate::html::alert(
                &format!(
                    "未配置短信平台:通知仅记录日志,没有发给任何人(共 {} 条,已记录日志 {} 条)。请在启动参数中设置 --sms-webhook(见 docs/上线指南.md)。",
                    o.total, o.delivered
                ),
                None,
            ))
        }
        @if o.waiting.is_empty() {
            (notice("没有待发送的通知。"))
        } @else {
            (table(&["产生时间", "工单", "对象", "内容", "已尝试", "最近失败原因", "下次发送"], html! {
                @for m in &o.waiting {
                    tr {
                        td { (display_cst(m.created_at)) }
                        td { @if let Some(id) = m.case_id { a href={ "/console/cases/" (id) } { (id) } } }
                        td { (m.recipient_kind) }
                        td { (m.body) }
                        td { (m.attempts) }
                        td { (m.last_error.as_deref().unwrap_or("")) }
                        td { (display_cst(m.next_attempt_at)) }
                    }
                }
            }))
        }
    };
    Ok(console_page(&c, StatusCode::OK, "通知发送情况", body))
}
