//! The exchange with the upper level, for the center (issue 13 §4): what waits, what was accepted, what the
//! province refused and why — with a button to send the refused items again once the data is corrected —
//! and the evaluations pulled from the province that could not be stored as they came.

use super::CsrfForm;
use axum::extract::State;
use axum::http::StatusCode;
use hcp_app::App;
use hcp_domain::calendar::display_cst;

use maud::{Markup, html};

use super::{Console, console_page, csrf_field};
use crate::html::{PageResult, table};

fn kind_zh(kind: &str) -> &'static str {
    hcp_domain::upstream::ItemKind::parse(kind).map_or("", hcp_domain::upstream::ItemKind::name_zh)
}

async fn page(app: &App, c: &Console, notice: Markup) -> PageResult {
    let o = app.exchange_overview(&c.who).await?;
    let pulled: String =
        o.pulled.iter().map(|(state, n)| format!("{}:{n} 条", pulled_state(state))).collect::<Vec<_>>().join(";");
    let body = html! {
        h2 { "与省平台对接" }
        (notice)
        @let h = &o.health;
        @let summary = h.summary(app.now());
        @match h.state {
            hcp_app::exchange_health::ExchangeState::Failing => { (crate::html::alert(&summary, Some("exchange-state"))) }
            _ => { p #exchange-state { (summary) } }
        }
        @if h.stalled {
            (crate::html::alert("有数据等待上报超过 30 分钟,期间没有任何上报被省平台接收,请检查网络和对接参数。", None))
        }
        (table(&["项目", "内容"], html! {
            tr { td { "状态" } td { (h.state.name_zh()) } }
            tr { td { "上级平台地址" } td {
                @match &o.upper_level {
                    Some((url, mark)) => { code { (url) } "(appMark " (mark) ")" }
                    None => { (h.url.as_deref().unwrap_or("未配置")) }
                }
            } }
            tr { td { "最近一次被接收的上报" } td { (h.last_accepted_at.map(display_cst).unwrap_or_else(|| "无".into())) } }
            tr { td { "最近一次失败" } td { (h.last_failure_at.map(display_cst).unwrap_or_else(|| "无".into())) } }
            tr { td { "失败原因" } td { (h.last_error.as_deref().unwrap_or("无")) } }
            tr { td { "下次重试" } td { (h.next_retry_at.map(display_cst).unwrap_or_else(|| "—".into())) } }
            tr { td { "最早待报项目" } td { (h.oldest_waiting_at.map(display_cst).unwrap_or_else(|| "—".into())) } }
        }))
        h3 { "上报" }
        (table(&["类别", "待上报", "发送中", "已接收", "被拒收", "最早待报"], html! {
            @for k in &o.status.kinds {
                tr {
                    td { (k.name) } td { (k.waiting) } td { (k.sent) } td { (k.accepted) } td { (k.rejected) }
                    td { (k.oldest_waiting.map(display_cst).unwrap_or_else(|| "—".into())) }
                }
            }
        }))
        h3 { "被拒收的数据" }
        @if o.rejected.is_empty() {
            (crate::html::notice("没有被拒收的数据。"))
        } @else {
            (table(&["类别", "办件编号", "上报键", "已发送次数", "上级平台的拒收原因"], html! {
                @for r in &o.rejected {
                    tr {
                        td { (kind_zh(&r.kind)) } td { (r.record_number) } td { (r.key().to_string()) }
                        td { (r.attempts) } td { (r.reason.as_deref().unwrap_or("")) }
                    }
                }
            }))
            form method="post" action="/console/exchange/resend" {
                (csrf_field(c))
                p { "修正数据(如在“基础信息”中补充机构的统一社会信用代码)后,按当前数据重新上报全部被拒收的项目:" }
                button type="submit" { "重新上报被拒收的项目" }
            }
        }
        h3 { "省平台回流的评价" }
        p { @if pulled.is_empty() { "尚无回流的评价。" } @else { (pulled) } }
        @if !o.aside.is_empty() {
            (table(&["办件编号", "评价次序", "状态", "原因", "时间"], html! {
                @for r in &o.aside {
                    tr {
                        td { (r.project_no) } td { (r.assess_number) } td { (pulled_state(&r.state)) }
                        td { (r.reason.as_deref().unwrap_or("")) } td { (display_cst(r.updated_at)) }
                    }
                }
            }))
        }
    };
    Ok(console_page(c, StatusCode::OK, "与省平台对接", body))
}

fn pulled_state(state: &str) -> &'static str {
    match state {
        "stored" => "已记录",
        "conflict" => "冲突(本系统已有评价,以首次评价为准)",
        "unmatched" => "暂无对应办件(办件到达后自动匹配)",
        "expired" => "长期无对应办件(已保存,不再自动匹配)",
        "invalid" => "代码无法识别",
        _ => "其他",
    }
}

/// `GET /console/exchange`
pub async fn show(State(app): State<App>, c: Console) -> PageResult {
    page(&app, &c, html! {}).await
}

/// `POST /console/exchange/resend`
pub async fn resend(State(app): State<App>, CsrfForm { console: c, form: _ }: CsrfForm) -> PageResult {
    let n = app.exchange_resend_by(&c.who).await?;
    page(&app, &c, crate::html::notice(&format!("已将 {n} 条被拒收的项目重新排队上报。"))).await
}
