//! `/console/evaluations`: the evaluations a person may see, filtered and paged, and one evaluation with its
//! record, criteria, case history and appeal (issue 6 §3).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use hcp_app::browse::{EvaluationDetail, EvaluationQuery, PAGE_SIZE};
use hcp_app::pickers::Pickers;
use hcp_app::{App, AppError};
use hcp_domain::calendar::display_cst;
use hcp_domain::{Category, Channel, Level};
use maud::{Markup, html};

use super::pickers::{Pick, datalists, field as picker};
use super::{Console, FormData, console_page};
use crate::html::{PageResult, error_alert, notice, options, pair_options, query, table};

/// The filter fields, in the order of the form and of the paging link.
const FIELDS: [&str; 13] = [
    "period",
    "from",
    "to",
    "org",
    "window",
    "staff",
    "item",
    "category",
    "channel",
    "level",
    "default",
    "invalidated",
    "comment",
];

fn query_of(form: &FormData) -> EvaluationQuery {
    let get = |k: &str| Some(form.get(k).to_string()).filter(|v| !v.trim().is_empty());
    EvaluationQuery {
        period: get("period"),
        from: get("from"),
        to: get("to"),
        org: get("org"),
        window: get("window"),
        staff: get("staff"),
        item: get("item"),
        category: get("category"),
        channel: get("channel"),
        level: get("level"),
        default: get("default"),
        invalidated: get("invalidated"),
        comment: get("comment"),
        before: get("before"),
    }
}

fn yes_no_select(name: &str, label: &str, chosen: &str) -> Markup {
    html! {
        label { (label) " " select name=(name) { (pair_options(&[("", "不限"), ("yes", "是"), ("no", "否")], chosen)) } }
    }
}

fn filter_form(form: &FormData, p: &Pickers) -> Markup {
    let text = |name: &str, label: &str, hint: &str| {
        html! { label { (label) " " input name=(name) value=(form.get(name)) placeholder=(hint) size="10"; } }
    };
    let select = |name: &str, label: &str, opts: Markup| {
        html! { label { (label) " " select name=(name) { option value="" { "不限" } (opts) } } }
    };
    html! {
        form.filters method="get" action="/console/evaluations" {
            (text("period", "评价期", "本月"))
            (picker(p, Pick::Org, "org", "机构", form.get("org"), false))
            (picker(p, Pick::Window, "window", "窗口", form.get("window"), false))
            (picker(p, Pick::Staff, "staff", "工作人员", form.get("staff"), false))
            (picker(p, Pick::Item, "item", "事项", form.get("item"), false))
            (datalists(p))
            (select("category", "事项类别",
                options(Category::ALL, Category::parse(form.get("category")), Category::as_str, Category::name_zh)))
            (select("channel", "渠道",
                options(Channel::ALL, Channel::parse(form.get("channel")), Channel::as_str, Channel::name_zh)))
            (select("level", "等级", options(&Level::ALL, Level::parse(form.get("level")), Level::as_str, Level::name_zh)))
            (yes_no_select("default", "默认评价", form.get("default")))
            (yes_no_select("invalidated", "已作废", form.get("invalidated")))
            (text("comment", "评论含", "关键词"))
            " " button type="submit" { "筛选" } " " a href="/console/evaluations" { "清除条件" }
        }
        p.muted { "评价期默认本月,可写作 2026-11、2026-Q4、2026 或 2026-11-05;机构含其下级。" }
    }
}

fn row(r: &hcp_store::EvaluationListRow) -> Markup {
    let level = Level::parse(&r.level);
    html! {
        tr class=[level.is_some_and(Level::is_bad_review).then_some("overdue")] {
            td { a href={ "/console/evaluations/" (r.id) } { (display_cst(r.created_at)) } }
            td { (level.map(Level::name_zh).unwrap_or("")) }
            td { (Channel::parse(&r.channel).map(Channel::name_zh).unwrap_or("")) }
            td { (r.item_name) }
            td { (r.org_name) @if let Some(w) = &r.window_name { " · " (w) } }
            td {
                @match (&r.staff_name, &r.staff_number) {
                    (Some(n), Some(no)) => { (n) "(" (no) ")" }
                    _ => { "—" }
                }
            }
            td {
                @if r.is_default { "默认 " }
                @if r.invalidated { span.late { "已作废" } " " }
                @if let (Some(id), Some(state)) = (r.case_id, &r.case_state) {
                    "工单:" a href={ "/console/cases/" (id) } {
                        (hcp_domain::case::CaseState::parse(state).map(|s| s.name_zh()).unwrap_or(""))
                    }
                }
            }
        }
    }
}

/// `GET /console/evaluations`
pub async fn list(State(app): State<App>, c: Console, RawQuery(raw): RawQuery) -> PageResult {
    let mut form = FormData::parse(raw.unwrap_or_default().as_bytes());
    // Names typed into the pickers become codes (the organization's narrows the others' lists).
    let pickers = app.pickers(&c.who, Some(form.get("org"))).await?;
    let lists =
        [("org", &pickers.orgs), ("window", &pickers.windows), ("staff", &pickers.staff), ("item", &pickers.items)];
    for (field, list) in lists {
        if let Some(code) = Pickers::resolve(list, form.get(field)).map(str::to_string) {
            form.set(field, &code);
        }
    }
    let q = query_of(&form);
    let (status, results) = match app.browse_evaluations(&c.who, &q).await {
        Ok(page) => {
            let next = page.next_before.as_ref().map(|before| {
                let mut pairs: Vec<(&str, &str)> =
                    FIELDS.iter().map(|k| (*k, form.get(k))).filter(|(_, v)| !v.is_empty()).collect();
                pairs.push(("before", before));
                format!("/console/evaluations?{}", query(&pairs))
            });
            let results = html! {
                p.muted { (page.period.label_zh()) " · 每页 " (PAGE_SIZE) " 条,最新的在前。" }
                @if page.rows.is_empty() {
                    (notice("没有符合条件的评价。"))
                } @else {
                    (table(&["评价时间", "等级", "渠道", "事项", "机构 · 窗口", "工作人员", "状态"], html! {
                        @for r in &page.rows { (row(r)) }
                    }))
                }
                @if let Some(href) = next { p { a href=(href) { "下一页(更早的评价)" } } }
            };
            (StatusCode::OK, results)
        }
        Err(e @ AppError::Invalid(_)) => (StatusCode::UNPROCESSABLE_ENTITY, error_alert(&e)),
        Err(e) => return Err(e.into()),
    };
    let body = html! { h2 { "评价查询" } (filter_form(&form, &pickers)) (results) };
    Ok(console_page(&c, status, "评价查询", body))
}

/// `GET /console/evaluations/{id}`
pub async fn show(State(app): State<App>, c: Console, Path(raw): Path<String>) -> PageResult {
    let id =
        raw.parse::<i64>().map_err(|_| AppError::not_found("evaluation_not_found", format!("评价“{raw}”不存在。")))?;
    let d = app.evaluation_detail(&c.who, id).await?;
    let refer = super::referrals::refer_link(&c, "evaluation", id);
    Ok(console_page(&c, StatusCode::OK, "评价详情", html! { (detail_html(&d)) (refer) }))
}

fn list_or_dash(items: &[String]) -> Markup {
    html! { @if items.is_empty() { "—" } @else { ul { @for t in items { li { (t) } } } } }
}

fn detail_html(d: &EvaluationDetail) -> Markup {
    let e = &d.facts.evaluation;
    let r = &d.record;
    html! {
        h2 { "评价 " (e.id) ":" (Level::parse(&e.level).map(Level::name_zh).unwrap_or("")) }
        dl.facts {
            dt { "评价时间" } dd { (display_cst(e.created_at)) }
            dt { "渠道" }
            dd {
                (Channel::parse(&e.channel).map(Channel::name_zh).unwrap_or(""))
                @if let Some(u) = &d.facts.recorded_by { ",记录人 " (u) }
            }
            dt { "方式" } dd { @if e.is_default { "超过 7 日未评价,系统默认" } @else { "评价人主动评价" } }
            dt { "办件" } dd { a href={ "/console/records/" (r.id) } { (r.record_number) } " " (r.item.name) }
            dt { "机构" } dd { (r.org.name) }
            dt { "申请人" } dd { (r.applicant.name) }
            dt { "办理事项指标" } dd { (list_or_dash(&d.criteria)) }
            dt { "工作人员指标" } dd { (list_or_dash(&d.staff_criteria)) }
            dt { "评价意见" } dd { (e.comment.as_deref().filter(|c| !c.is_empty()).unwrap_or("—")) }
        }
        @if let Some(at) = d.facts.invalidated_at {
            p.alert {
                "该评价已于 " (display_cst(at)) " 因申诉成立而作废(申诉 "
                (d.facts.invalidating_appeal_id.map(|a| a.to_string()).unwrap_or_default()) "),不计入统计。"
            }
        }
        @if let Some(case) = &d.case {
            h2 { "差评工单" }
            p {
                a href={ "/console/cases/" (case.case.id) } { "工单 " (case.case.id) }
                ":" (case.case.state_name)
                @if case.case.overdue { " " strong.late { "逾期" } }
            }
            (super::cases::history_table(&case.steps))
        }
        @if let Some(a) = &d.appeal {
            h2 { "申诉" }
            p {
                a href={ "/console/appeals/" (a.appeal.id) } { "申诉 " (a.appeal.id) }
                ":" (a.appeal.state_name) "(提出于 " (display_cst(a.appeal.filed_at)) ")"
            }
            p { "理由:" (a.appeal.reasons) }
            @if !a.decisions.is_empty() {
                (table(&["时间", "阶段", "结果", "理由", "办理人"], html! {
                    @for dec in &a.decisions {
                        tr {
                            td { (display_cst(dec.at)) } td { (dec.stage_name) } td { (dec.result) }
                            td { (dec.reasons) } td { (dec.decided_by) }
                        }
                    }
                }))
            }
        }
        p { a href="/console/evaluations" { "返回评价查询" } }
    }
}
