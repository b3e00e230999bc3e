//! Appeal queues, an appeal with its decisions, and the filing register (备案) with its CSV export.

use super::CsrfForm;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use hcp_app::appeals::{AppealView, register_csv};
use hcp_app::{App, AppError};
use hcp_domain::calendar::{business_date, display_cst, display_deadline};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Console, console_page, csrf_field};
use crate::html::{PageResult, error_alert, notice, query, table};

#[derive(Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    all: Option<String>,
}

fn row(app: &App, a: &AppealView) -> Markup {
    let due = a.stage_due_at.filter(|_| matches!(a.state.as_str(), "with_unit" | "with_center"));
    html! {
        tr {
            td { a href={ "/console/appeals/" (a.id) } { (a.id) } }
            td { (a.state_name) }
            td { (a.record_number) }
            td { (a.org_name) }
            td { (a.staff_name) }
            td { (display_cst(a.filed_at)) }
            td { @if let Some(d) = due { (display_deadline(d)) br; small { (app.time_left_zh(d)) } } }
        }
    }
}

/// `GET /console/appeals[?all=1]`
pub async fn queue(State(app): State<App>, c: Console, Query(q): Query<QueueQuery>) -> PageResult {
    let all = q.all.is_some();
    let list = app.appeal_queue(&c.who, !all).await?;
    let body = html! {
        h2 { "申诉" }
        p {
            @if all { a href="/console/appeals" { "待处理" } " · " strong { "全部" } }
            @else { strong { "待处理" } " · " a href="/console/appeals?all=1" { "全部" } }
        }
        @if list.is_empty() {
            (notice("没有申诉。"))
        } @else {
            (table(&["申诉", "状态", "办件", "单位", "工作人员", "提出时间", "本阶段期限"], html! {
                @for a in &list { (row(&app, a)) }
            }))
        }
    };
    Ok(console_page(&c, StatusCode::OK, "申诉", body))
}

fn appeal_id(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>().map_err(|_| AppError::not_found("appeal_not_found", format!("申诉“{raw}”不存在。")))
}

/// `GET /console/appeals/{id}`
pub async fn show(State(app): State<App>, c: Console, Path(raw): Path<String>) -> PageResult {
    render(&app, &c, appeal_id(&raw)?, StatusCode::OK, html! {}).await
}

async fn render(app: &App, c: &Console, id: i64, status: StatusCode, alert: Markup) -> PageResult {
    let d = app.appeal_detail(&c.who, id).await?;
    let a = &d.appeal;
    let (yes, no) = if a.state == "with_unit" {
        // The unit verifies and gives its opinion; the center decides either way (plan §八).
        ("支持申诉(报中心复核)", "不支持申诉(仍报中心复核,由中心决定)")
    } else {
        ("申诉成立,该差评作废", "申诉不成立,维持评价")
    };
    let body = html! {
        (alert)
        h2 { "申诉 " (a.id) ":" (a.state_name) }
        dl.facts {
            dt { "办件" } dd { (a.record_number) }
            dt { "单位" } dd { (a.org_name) }
            dt { "工作人员" } dd { (a.staff_name) }
            dt { "差评等级" } dd { (hcp_domain::Level::parse(&a.level).map(|l| l.name_zh()).unwrap_or("")) }
            dt { "提出时间" } dd { (display_cst(a.filed_at)) }
            dt { "申诉理由" } dd { (a.reasons) }
        }
        @if let Some(case) = a.case_id {
            p { a href={ "/console/cases/" (case) } { "查看差评工单 " (case) } }
        }
        h2 { "证明材料" }
        @if d.evidence.is_empty() {
            p.muted { "未提交证明材料。" }
        } @else {
            ul {
                @for e in &d.evidence {
                    li {
                        a href={ "/console/appeals/" (a.id) "/evidence/" (e.id) } { (e.file_name) }
                        " " small { ((e.size + 1023) / 1024) " KB · SM3 " (&e.sm3[..16.min(e.sm3.len())]) }
                    }
                }
            }
        }
        h2 { "处理记录" }
        @if d.decisions.is_empty() { p.muted { "尚未处理。" } }
        @for x in &d.decisions {
            p {
                strong { (x.stage_name) ":" (x.result) }
                "(" (x.decided_by) "," (display_cst(x.at)) ")" br;
                (x.reasons)
            }
        }
        @if d.may_decide {
            form method="post" action={ "/console/appeals/" (a.id) "/decision" } {
                (csrf_field(c))
                input type="hidden" name="version" value=(a.version);
                fieldset {
                    legend { "处理意见" }
                    label.choice { input type="radio" name="uphold" value="true" required; " " span { (yes) } }
                    label.choice { input type="radio" name="uphold" value="false"; " " span { (no) } }
                    p {
                        label for="reasons" { "意见(必填,将记入备案)" } br;
                        textarea #reasons name="reasons" maxlength="2000" required {}
                    }
                    button type="submit" { "提交" }
                }
            }
        }
        @if d.may_withdraw {
            form method="post" action={ "/console/appeals/" (a.id) "/withdraw" } {
                (csrf_field(c))
                p.hint { "中心复核前,您可以撤回申诉;撤回后不能再次申诉。" }
                button type="submit" { "撤回申诉" }
            }
        }
    };
    Ok(console_page(c, status, &format!("申诉 {id}"), body))
}

/// `POST /console/appeals/{id}/withdraw`
pub async fn withdraw(
    State(app): State<App>,
    Path(raw): Path<String>,
    CsrfForm { console: c, form: _ }: CsrfForm,
) -> PageResult {
    let id = appeal_id(&raw)?;
    match app.withdraw_appeal(&c.who, id).await {
        Ok(_) => Ok(Redirect::to(&format!("/console/appeals/{id}")).into_response()),
        Err(e @ AppError::Conflict { .. }) => render(&app, &c, id, crate::error::status_of(&e), error_alert(&e)).await,
        Err(e) => Err(e.into()),
    }
}

/// `POST /console/appeals/{id}/decision`
pub async fn decide(
    State(app): State<App>,
    Path(raw): Path<String>,
    CsrfForm { console: c, form }: CsrfForm,
) -> PageResult {
    let id = appeal_id(&raw)?;
    let uphold = match form.get("uphold") {
        "true" => true,
        "false" => false,
        _ => {
            let e = AppError::invalid("uphold", "decision_required", "请选择处理结论。");
            return render(&app, &c, id, StatusCode::UNPROCESSABLE_ENTITY, error_alert(&e)).await;
        }
    };
    match app.decide_appeal(&c.who, id, uphold, form.get("reasons"), form.get("version").parse().ok()).await {
        Ok(_) => Ok(Redirect::to(&format!("/console/appeals/{id}")).into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            render(&app, &c, id, crate::error::status_of(&e), error_alert(&e)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct RegisterQuery {
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

/// `GET /console/filing-register?from=&to=[&format=csv]`: this month by default.
pub async fn register(State(app): State<App>, c: Console, Query(q): Query<RegisterQuery>) -> PageResult {
    use chrono::Datelike;
    let today = business_date(app.now());
    let parse = |field: &str, s: Option<&str>, default| match s.filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(s) => hcp_domain::calendar::parse_date(field, s).map_err(|v| AppError::Invalid(vec![v])),
    };
    let from = parse("from", q.from.as_deref(), today.with_day(1).unwrap_or(today))?;
    let to = parse("to", q.to.as_deref(), today)?;
    let rows = app.filing_register(&c.who, from, to).await?;
    if q.format.as_deref() == Some("csv") {
        return Ok(crate::controllers::appeals::csv_download(
            &format!("申诉备案_{from}_{to}.csv"),
            register_csv(&rows),
        ));
    }
    let (from_s, to_s) = (from.to_string(), to.to_string());
    let body = html! {
        h2 { "申诉处理备案" }
        form method="get" action="/console/filing-register" {
            label { "自 " input type="date" name="from" value=(from); }
            " " label { "至 " input type="date" name="to" value=(to); }
            " " button type="submit" { "查询" }
        }
        p {
            "共 " (rows.len()) " 条。"
            a href={ "/console/filing-register?" (query(&[("from", &from_s), ("to", &to_s), ("format", "csv")])) } { "导出 CSV" }
        }
        (table(&["处理时间", "申诉", "办件", "单位", "工作人员", "阶段", "结论", "意见", "处理人", "按期"], html! {
            @for d in &rows {
                tr {
                    td { (display_cst(d.at)) }
                    td { a href={ "/console/appeals/" (d.appeal_id) } { (d.appeal_id) } }
                    td { (d.record_number) }
                    td { (d.org_name) }
                    td { (d.staff_name) }
                    td { (d.stage_name) }
                    td { (d.result) }
                    td { (d.reasons) }
                    td { (d.decided_by) }
                    td {
                        @match d.on_time {
                            Some(true) => { "是" }
                            Some(false) => { span.late { "否" } }
                            None => {}
                        }
                    }
                }
            }
        }))
    };
    Ok(console_page(&c, StatusCode::OK, "申诉处理备案", body))
}

/// `GET /console/appeals/{id}/evidence/{evidence}`
pub async fn evidence(State(app): State<App>, c: Console, Path((raw, eid)): Path<(String, String)>) -> PageResult {
    let (Ok(id), Ok(eid)) = (appeal_id(&raw), eid.parse::<i64>()) else {
        return Err(AppError::not_found("attachment_not_found", "附件不存在。").into());
    };
    let (name, content_type, data) = app.appeal_evidence_file(&c.who, id, eid).await?;
    Ok(crate::controllers::cases::download(&name, &content_type, data))
}
