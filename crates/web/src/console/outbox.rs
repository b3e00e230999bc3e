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
    let gateway = if o.gateway == "webhook" { "短信/消息平台" } else { "仅写入日志(未配置短信平台)" };
    let body = html! {
        h2 { "通知发送情况" }
        p {
            "发送方式:" (gateway) "。共 " (o.total) " 条,已发送 " (o.delivered) " 条,待发送 " (o.total - o.delivered)
            " 条。网关故障时通知保留并自动重试,不会丢失。"
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
