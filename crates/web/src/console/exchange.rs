//! The exchange with the upper level, for the center (issue 13 §4): what waits, what was accepted, what the
//! province refused and why — with a button to send the refused items again once the data is corrected —
//! and the evaluations pulled from the province that could not be stored as they came.

use super::CsrfForm;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hcp_app::App;
use hcp_domain::calendar::display_cst;

use super::{Console, console_page};
use crate::pages::layout::{error_page, esc};

fn kind_zh(kind: &str) -> &'static str {
    hcp_domain::upstream::ItemKind::parse(kind).map_or("", hcp_domain::upstream::ItemKind::name_zh)
}

async fn page(app: &App, c: &Console, notice: &str) -> Response {
    let o = match app.exchange_overview(&c.who).await {
        Ok(o) => o,
        Err(e) => return error_page(&e),
    };
    let upper = match &o.upper_level {
        Some((url, mark)) => format!("已对接上级平台 <code>{}</code>(appMark {})。", esc(url), esc(mark)),
        None => "未配置上级平台:数据在队列中保留,配置后自动上报(见 docs/upstream.md)。".into(),
    };
    let kinds: String = o
        .status
        .kinds
        .iter()
        .map(|k| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                k.name,
                k.waiting,
                k.sent,
                k.accepted,
                k.rejected,
                k.oldest_waiting.map(display_cst).map(|t| esc(&t)).unwrap_or_else(|| "—".into())
            )
        })
        .collect();
    let rejected = if o.rejected.is_empty() {
        r#"<p class="notice" role="status">没有被拒收的数据。</p>"#.to_string()
    } else {
        let rows: String = o
            .rejected
            .iter()
            .map(|r| {
                format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    kind_zh(&r.kind),
                    esc(&r.record_number),
                    esc(&r.key().to_string()),
                    r.attempts,
                    esc(r.reason.as_deref().unwrap_or(""))
                )
            })
            .collect();
        format!(
            r#"<table><thead><tr><th>类别</th><th>办件编号</th><th>上报键</th><th>已发送次数</th><th>上级平台的拒收原因</th></tr></thead><tbody>{rows}</tbody></table>
<form method="post" action="/console/exchange/resend">{csrf}<p>修正数据(如在“基础信息”中补充机构的统一社会信用代码)后,按当前数据重新上报全部被拒收的项目:</p><button type="submit">重新上报被拒收的项目</button></form>"#,
            csrf = super::csrf_field(c),
        )
    };
    let pulled: String =
        o.pulled.iter().map(|(state, n)| format!("{}:{n} 条", pulled_state(state))).collect::<Vec<_>>().join(";");
    let aside = if o.aside.is_empty() {
        String::new()
    } else {
        let rows: String = o
            .aside
            .iter()
            .map(|r| {
                format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&r.project_no),
                    r.assess_number,
                    pulled_state(&r.state),
                    esc(r.reason.as_deref().unwrap_or("")),
                    esc(&display_cst(r.updated_at))
                )
            })
            .collect();
        format!(
            "<table><thead><tr><th>办件编号</th><th>评价次序</th><th>状态</th><th>原因</th><th>时间</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    };
    let body = format!(
        r#"<h2>与省平台对接</h2>{notice}<p>{upper}</p>
<h3>上报</h3><table><thead><tr><th>类别</th><th>待上报</th><th>发送中</th><th>已接收</th><th>被拒收</th><th>最早待报</th></tr></thead><tbody>{kinds}</tbody></table>
<h3>被拒收的数据</h3>{rejected}
<h3>省平台回流的评价</h3><p>{pulled_line}</p>{aside}"#,
        pulled_line = if pulled.is_empty() { "尚无回流的评价。".to_string() } else { pulled },
    );
    console_page(c, StatusCode::OK, "与省平台对接", &body)
}

fn pulled_state(state: &str) -> &'static str {
    match state {
        "stored" => "已记录",
        "conflict" => "冲突(本系统已有评价,以首次评价为准)",
        "unmatched" => "暂无对应办件(办件到达后自动匹配)",
        "invalid" => "代码无法识别",
        _ => "其他",
    }
}

/// `GET /console/exchange`
pub async fn show(State(app): State<App>, c: Console) -> Response {
    page(&app, &c, "").await
}

/// `POST /console/exchange/resend`
pub async fn resend(State(app): State<App>, CsrfForm { console: c, form: _ }: CsrfForm) -> Response {
    match app.exchange_resend_by(&c.who).await {
        Ok(n) => {
            page(&app, &c, &format!(r#"<p class="notice" role="status">已将 {n} 条被拒收的项目重新排队上报。</p>"#))
                .await
        }
        Err(e) => error_page(&e),
    }
}
