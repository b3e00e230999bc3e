//! Appeal queues, an appeal with its decisions, and the filing register (备案) with its CSV export.

use super::CsrfForm;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hcp_app::appeals::{AppealView, register_csv};
use hcp_app::{App, AppError};
use hcp_domain::calendar::{business_date, display_cst, display_deadline};
use serde::Deserialize;

use super::{Console, console_page, csrf_field};
use crate::pages::layout::{error_page, esc};

#[derive(Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    all: Option<String>,
}

fn row(app: &App, a: &AppealView) -> String {
    let due = a
        .stage_due_at
        .filter(|_| matches!(a.state.as_str(), "with_unit" | "with_center"))
        .map(|d| format!("{}<br><small>{}</small>", esc(&display_deadline(d)), esc(&app.time_left_zh(d))))
        .unwrap_or_default();
    format!(
        r#"<tr><td><a href="/console/appeals/{id}">{id}</a></td><td>{state}</td><td>{record}</td><td>{org}</td><td>{staff}</td><td>{filed}</td><td>{due}</td></tr>"#,
        id = a.id,
        state = esc(a.state_name),
        record = esc(&a.record_number),
        org = esc(&a.org_name),
        staff = esc(&a.staff_name),
        filed = esc(&display_cst(a.filed_at)),
    )
}

/// `GET /console/appeals[?all=1]`
pub async fn queue(State(app): State<App>, c: Console, Query(q): Query<QueueQuery>) -> Response {
    let all = q.all.is_some();
    let list = match app.appeal_queue(&c.who, !all).await {
        Ok(l) => l,
        Err(e) => return error_page(&e),
    };
    let rows: String = list.iter().map(|a| row(&app, a)).collect();
    let table = if list.is_empty() {
        r#"<p class="notice" role="status">没有申诉。</p>"#.to_string()
    } else {
        format!(
            "<table><thead><tr><th>申诉</th><th>状态</th><th>办件</th><th>单位</th><th>工作人员</th><th>提出时间</th><th>本阶段期限</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    };
    let tabs = if all {
        r#"<a href="/console/appeals">待处理</a> · <strong>全部</strong>"#
    } else {
        r#"<strong>待处理</strong> · <a href="/console/appeals?all=1">全部</a>"#
    };
    console_page(&c, StatusCode::OK, "申诉", &format!("<h2>申诉</h2><p>{tabs}</p>{table}"))
}

fn appeal_id(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>().map_err(|_| AppError::not_found("appeal_not_found", format!("申诉“{raw}”不存在。")))
}

/// `GET /console/appeals/{id}`
pub async fn show(State(app): State<App>, c: Console, Path(raw): Path<String>) -> Response {
    match appeal_id(&raw) {
        Ok(id) => render(&app, &c, id, StatusCode::OK, "").await,
        Err(e) => error_page(&e),
    }
}

async fn render(app: &App, c: &Console, id: i64, status: StatusCode, alert: &str) -> Response {
    let d = match app.appeal_detail(&c.who, id).await {
        Ok(d) => d,
        Err(e) => return error_page(&e),
    };
    let a = &d.appeal;
    let mut s = format!(
        r#"{alert}<h2>申诉 {id}:{state}</h2>
<dl class="facts"><dt>办件</dt><dd>{record}</dd><dt>单位</dt><dd>{org}</dd><dt>工作人员</dt><dd>{staff}</dd>
<dt>差评等级</dt><dd>{level}</dd><dt>提出时间</dt><dd>{filed}</dd><dt>申诉理由</dt><dd>{reasons}</dd></dl>"#,
        id = a.id,
        state = esc(a.state_name),
        record = esc(&a.record_number),
        org = esc(&a.org_name),
        staff = esc(&a.staff_name),
        level = esc(hcp_domain::Level::parse(&a.level).map(|l| l.name_zh()).unwrap_or("")),
        filed = esc(&display_cst(a.filed_at)),
        reasons = esc(&a.reasons),
    );
    if let Some(case) = a.case_id {
        s.push_str(&format!(r#"<p><a href="/console/cases/{case}">查看差评工单 {case}</a></p>"#));
    }
    s.push_str("<h2>证明材料</h2>");
    if d.evidence.is_empty() {
        s.push_str(r#"<p class="muted">未提交证明材料。</p>"#);
    } else {
        s.push_str("<ul>");
        for e in &d.evidence {
            s.push_str(&format!(
                r#"<li><a href="/console/appeals/{}/evidence/{}">{}</a> <small>{} KB · SM3 {}</small></li>"#,
                a.id,
                e.id,
                esc(&e.file_name),
                (e.size + 1023) / 1024,
                esc(&e.sm3[..16.min(e.sm3.len())])
            ));
        }
        s.push_str("</ul>");
    }
    s.push_str("<h2>处理记录</h2>");
    if d.decisions.is_empty() {
        s.push_str(r#"<p class="muted">尚未处理。</p>"#);
    }
    for x in &d.decisions {
        s.push_str(&format!(
            "<p><strong>{}:{}</strong>({},{})<br>{}</p>",
            esc(x.stage_name),
            esc(x.result),
            esc(&x.decided_by),
            esc(&display_cst(x.at)),
            esc(&x.reasons)
        ));
    }
    if d.may_decide {
        let (yes, no) = if a.state == "with_unit" {
            // The unit verifies and gives its opinion; the center decides either way (plan §八).
            ("支持申诉(报中心复核)", "不支持申诉(仍报中心复核,由中心决定)")
        } else {
            ("申诉成立,该差评作废", "申诉不成立,维持评价")
        };
        s.push_str(&format!(
            r#"<form method="post" action="/console/appeals/{id}/decision">{csrf}
<input type="hidden" name="version" value="{version}">
<fieldset><legend>处理意见</legend>
<label class="choice"><input type="radio" name="uphold" value="true" required> <span>{yes}</span></label>
<label class="choice"><input type="radio" name="uphold" value="false"> <span>{no}</span></label>
<p><label for="reasons">意见(必填,将记入备案)</label><br><textarea id="reasons" name="reasons" maxlength="2000" required></textarea></p>
<button type="submit">提交</button></fieldset></form>"#,
            id = a.id,
            csrf = csrf_field(c),
            version = a.version,
        ));
    }
    if d.may_withdraw {
        s.push_str(&format!(
            r#"<form method="post" action="/console/appeals/{id}/withdraw">{csrf}
<p class="hint">中心复核前,您可以撤回申诉;撤回后不能再次申诉。</p>
<button type="submit">撤回申诉</button></form>"#,
            id = a.id,
            csrf = csrf_field(c),
        ));
    }
    console_page(c, status, &format!("申诉 {id}"), &s)
}

/// `POST /console/appeals/{id}/withdraw`
pub async fn withdraw(
    State(app): State<App>,
    Path(raw): Path<String>,
    CsrfForm { console: c, form: _ }: CsrfForm,
) -> Response {
    let id = match appeal_id(&raw) {
        Ok(id) => id,
        Err(e) => return error_page(&e),
    };
    match app.withdraw_appeal(&c.who, id).await {
        Ok(_) => Redirect::to(&format!("/console/appeals/{id}")).into_response(),
        Err(e @ AppError::Conflict { .. }) => render(&app, &c, id, crate::error::status_of(&e), &alert(&e)).await,
        Err(e) => error_page(&e),
    }
}

/// `POST /console/appeals/{id}/decision`
pub async fn decide(
    State(app): State<App>,
    Path(raw): Path<String>,
    CsrfForm { console: c, form }: CsrfForm,
) -> Response {
    let id = match appeal_id(&raw) {
        Ok(id) => id,
        Err(e) => return error_page(&e),
    };
    let uphold = match form.get("uphold") {
        "true" => true,
        "false" => false,
        _ => {
            let e = AppError::invalid("uphold", "decision_required", "请选择处理结论。");
            return render(&app, &c, id, StatusCode::UNPROCESSABLE_ENTITY, &alert(&e)).await;
        }
    };
    match app.decide_appeal(&c.who, id, uphold, form.get("reasons"), form.get("version").parse().ok()).await {
        Ok(_) => Redirect::to(&format!("/console/appeals/{id}")).into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            render(&app, &c, id, crate::error::status_of(&e), &alert(&e)).await
        }
        Err(e) => error_page(&e),
    }
}

fn alert(e: &AppError) -> String {
    crate::pages::layout::alert(&e.message(), None)
}

#[derive(Deserialize)]
pub struct RegisterQuery {
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

/// `GET /console/filing-register?from=&to=[&format=csv]`: this month by default.
pub async fn register(State(app): State<App>, c: Console, Query(q): Query<RegisterQuery>) -> Response {
    use chrono::Datelike;
    let today = business_date(app.now());
    let parse = |field: &str, s: Option<&str>, default| match s.filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(s) => hcp_domain::calendar::parse_date(field, s).map_err(|v| AppError::Invalid(vec![v])),
    };
    let (from, to) = match (
        parse("from", q.from.as_deref(), today.with_day(1).unwrap_or(today)),
        parse("to", q.to.as_deref(), today),
    ) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(e), _) | (_, Err(e)) => return error_page(&e),
    };
    let rows = match app.filing_register(&c.who, from, to).await {
        Ok(r) => r,
        Err(e) => return error_page(&e),
    };
    if q.format.as_deref() == Some("csv") {
        return crate::controllers::appeals::csv_download(&format!("申诉备案_{from}_{to}.csv"), register_csv(&rows));
    }
    let mut table = String::from(
        "<table><thead><tr><th>处理时间</th><th>申诉</th><th>办件</th><th>单位</th><th>工作人员</th><th>阶段</th><th>结论</th><th>意见</th><th>处理人</th><th>按期</th></tr></thead><tbody>",
    );
    for d in &rows {
        table.push_str(&format!(
            r#"<tr><td>{}</td><td><a href="/console/appeals/{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            esc(&display_cst(d.at)),
            d.appeal_id,
            d.appeal_id,
            esc(&d.record_number),
            esc(&d.org_name),
            esc(&d.staff_name),
            esc(d.stage_name),
            esc(d.result),
            esc(&d.reasons),
            esc(&d.decided_by),
            match d.on_time {
                Some(true) => "是",
                Some(false) => r#"<span class="late">否</span>"#,
                None => "",
            }
        ));
    }
    table.push_str("</tbody></table>");
    let body = format!(
        r#"<h2>申诉处理备案</h2>
<form method="get" action="/console/filing-register"><label>自 <input type="date" name="from" value="{from}"></label>
<label>至 <input type="date" name="to" value="{to}"></label> <button type="submit">查询</button></form>
<p>共 {n} 条。<a href="/console/filing-register?from={from}&amp;to={to}&amp;format=csv">导出 CSV</a></p>{table}"#,
        n = rows.len(),
    );
    console_page(&c, StatusCode::OK, "申诉处理备案", &body)
}

/// `GET /console/appeals/{id}/evidence/{evidence}`
pub async fn evidence(State(app): State<App>, c: Console, Path((raw, eid)): Path<(String, String)>) -> Response {
    let (Ok(id), Ok(eid)) = (appeal_id(&raw), eid.parse::<i64>()) else {
        return error_page(&AppError::not_found("attachment_not_found", "附件不存在。"));
    };
    match app.appeal_evidence_file(&c.who, id, eid).await {
        Ok((name, content_type, data)) => crate::controllers::cases::download(&name, &content_type, data),
        Err(e) => error_page(&e),
    }
}
