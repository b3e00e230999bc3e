//! `/console/evaluations`: the evaluations a person may see, filtered and paged, and one evaluation with its
//! record, criteria, case history and appeal (issue 6 §3).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcp_app::browse::{EvaluationDetail, EvaluationQuery, PAGE_SIZE};
use hcp_app::pickers::Pickers;
use hcp_app::{App, AppError};
use hcp_domain::calendar::display_cst;
use hcp_domain::{Category, Channel, Level};

use super::pickers::{Pick, datalists, field as picker};
use super::results::options;
use super::{Console, FormData, console_page};
use crate::pages::layout::{error_page, esc};

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

fn yes_no_select(name: &str, label: &str, chosen: &str) -> String {
    let opt = |v: &str, text: &str| {
        format!(r#"<option value="{v}"{}>{text}</option>"#, if chosen == v { " selected" } else { "" })
    };
    format!(
        r#"<label>{label} <select name="{name}">{}{}{}</select></label>"#,
        opt("", "不限"),
        opt("yes", "是"),
        opt("no", "否")
    )
}

fn filter_form(form: &FormData, p: &Pickers) -> String {
    let text = |name: &str, label: &str, hint: &str| {
        format!(
            r#"<label>{label} <input name="{name}" value="{}" placeholder="{hint}" size="10"></label>"#,
            esc(form.get(name))
        )
    };
    let select = |name: &str, label: &str, opts: String| {
        format!(r#"<label>{label} <select name="{name}"><option value="">不限</option>{opts}</select></label>"#)
    };
    format!(
        r#"<form method="get" action="/console/evaluations" class="filters">
{period}{org}{window}{staff}{item}{lists}
{category}{channel}{level}{default}{invalidated}{comment}
<button type="submit">筛选</button> <a href="/console/evaluations">清除条件</a></form>
<p class="muted">评价期默认本月,可写作 2026-11、2026-Q4、2026 或 2026-11-05;机构含其下级。</p>"#,
        period = text("period", "评价期", "本月"),
        org = picker(p, Pick::Org, "org", "机构", form.get("org"), false),
        window = picker(p, Pick::Window, "window", "窗口", form.get("window"), false),
        staff = picker(p, Pick::Staff, "staff", "工作人员", form.get("staff"), false),
        item = picker(p, Pick::Item, "item", "事项", form.get("item"), false),
        lists = datalists(p),
        category = select(
            "category",
            "事项类别",
            options(Category::ALL, Category::parse(form.get("category")), Category::as_str, Category::name_zh)
        ),
        channel = select(
            "channel",
            "渠道",
            options(Channel::ALL, Channel::parse(form.get("channel")), Channel::as_str, Channel::name_zh)
        ),
        level = select(
            "level",
            "等级",
            options(&Level::ALL, Level::parse(form.get("level")), Level::as_str, Level::name_zh)
        ),
        default = yes_no_select("default", "默认评价", form.get("default")),
        invalidated = yes_no_select("invalidated", "已作废", form.get("invalidated")),
        comment = text("comment", "评论含", "关键词"),
    )
}

/// `GET /console/evaluations`
pub async fn list(State(app): State<App>, c: Console, RawQuery(raw): RawQuery) -> Response {
    let mut form = FormData::parse(raw.unwrap_or_default().as_bytes());
    // Names typed into the pickers become codes (the organization's narrows the others' lists).
    let pickers = match app.pickers(&c.who, Some(form.get("org"))).await {
        Ok(p) => p,
        Err(e) => return error_page(&e),
    };
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
            let mut rows = String::new();
            for r in &page.rows {
                let level = Level::parse(&r.level);
                let mut marks = Vec::new();
                if r.is_default {
                    marks.push("默认".to_string());
                }
                if r.invalidated {
                    marks.push(r#"<span class="late">已作废</span>"#.to_string());
                }
                if let (Some(id), Some(state)) = (r.case_id, &r.case_state) {
                    let name = hcp_domain::case::CaseState::parse(state).map(|s| s.name_zh()).unwrap_or("");
                    marks.push(format!(r#"工单:<a href="/console/cases/{id}">{}</a>"#, esc(name)));
                }
                rows.push_str(&format!(
                    r#"<tr{bad}><td><a href="/console/evaluations/{id}">{at}</a></td><td>{level}</td><td>{channel}</td><td>{item}</td><td>{org}{window}</td><td>{staff}</td><td>{marks}</td></tr>"#,
                    bad = if level.is_some_and(Level::is_bad_review) { r#" class="overdue""# } else { "" },
                    id = r.id,
                    at = esc(&display_cst(r.created_at)),
                    level = esc(level.map(Level::name_zh).unwrap_or("")),
                    channel = esc(Channel::parse(&r.channel).map(Channel::name_zh).unwrap_or("")),
                    item = esc(&r.item_name),
                    org = esc(&r.org_name),
                    window = r.window_name.as_deref().map(|w| format!(" · {}", esc(w))).unwrap_or_default(),
                    staff = esc(&match (&r.staff_name, &r.staff_number) {
                        (Some(n), Some(no)) => format!("{n}({no})"),
                        _ => "—".into(),
                    }),
                    marks = marks.join(" "),
                ));
            }
            let mut next = String::new();
            if let Some(before) = page.next_before {
                let mut pairs = form_urlencoded::Serializer::new(String::new());
                for k in FIELDS {
                    if !form.get(k).is_empty() {
                        pairs.append_pair(k, form.get(k));
                    }
                }
                pairs.append_pair("before", &before);
                next =
                    format!(r#"<p><a href="/console/evaluations?{}">下一页(更早的评价)</a></p>"#, esc(&pairs.finish()));
            }
            let table = if rows.is_empty() {
                r#"<p class="notice" role="status">没有符合条件的评价。</p>"#.to_string()
            } else {
                format!(
                    r#"<table><thead><tr><th>评价时间</th><th>等级</th><th>渠道</th><th>事项</th><th>机构 · 窗口</th><th>工作人员</th><th>状态</th></tr></thead><tbody>{rows}</tbody></table>"#
                )
            };
            (
                StatusCode::OK,
                format!(
                    r#"<p class="muted">{} · 每页 {PAGE_SIZE} 条,最新的在前。</p>{table}{next}"#,
                    esc(&page.period.label_zh())
                ),
            )
        }
        Err(e @ AppError::Invalid(_)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, crate::pages::layout::alert(&e.message(), None))
        }
        Err(e) => return error_page(&e),
    };
    let body = format!("<h2>评价查询</h2>{}{results}", filter_form(&form, &pickers));
    console_page(&c, status, "评价查询", &body)
}

/// `GET /console/evaluations/{id}`
pub async fn show(State(app): State<App>, c: Console, Path(raw): Path<String>) -> Response {
    let id = match raw.parse::<i64>() {
        Ok(id) => id,
        Err(_) => return error_page(&AppError::not_found("evaluation_not_found", format!("评价“{raw}”不存在。"))),
    };
    match app.evaluation_detail(&c.who, id).await {
        Ok(d) => console_page(&c, StatusCode::OK, "评价详情", &detail_html(&d)),
        Err(e) => error_page(&e),
    }
}

fn list_or_dash(items: &[String]) -> String {
    if items.is_empty() { "—".into() } else { items.iter().map(|t| format!("<li>{}</li>", esc(t))).collect() }
}

fn detail_html(d: &EvaluationDetail) -> String {
    let e = &d.facts.evaluation;
    let r = &d.record;
    let level = Level::parse(&e.level);
    let mut s = format!(
        r#"<h2>评价 {id}:{level}</h2>
<dl class="facts"><dt>评价时间</dt><dd>{at}</dd><dt>渠道</dt><dd>{channel}{recorded}</dd><dt>方式</dt><dd>{kind}</dd>
<dt>办件</dt><dd><a href="/console/records/{rid}">{number}</a> {item}</dd><dt>机构</dt><dd>{org}</dd>
<dt>申请人</dt><dd>{name}</dd>
<dt>办理事项指标</dt><dd><ul>{criteria}</ul></dd><dt>工作人员指标</dt><dd><ul>{staff_criteria}</ul></dd>
<dt>评价意见</dt><dd>{comment}</dd></dl>"#,
        id = e.id,
        level = esc(level.map(Level::name_zh).unwrap_or("")),
        at = esc(&display_cst(e.created_at)),
        channel = esc(Channel::parse(&e.channel).map(Channel::name_zh).unwrap_or("")),
        recorded = d.facts.recorded_by.as_deref().map(|u| format!(",记录人 {}", esc(u))).unwrap_or_default(),
        kind = if e.is_default { "超过 7 日未评价,系统默认" } else { "评价人主动评价" },
        rid = r.id,
        number = esc(&r.record_number),
        item = esc(&r.item.name),
        org = esc(&r.org.name),
        name = esc(&r.applicant.name),
        criteria = list_or_dash(&d.criteria),
        staff_criteria = list_or_dash(&d.staff_criteria),
        comment = esc(e.comment.as_deref().filter(|c| !c.is_empty()).unwrap_or("—")),
    );
    if let Some(at) = d.facts.invalidated_at {
        s.push_str(&format!(
            r#"<p class="alert">该评价已于 {} 因申诉成立而作废(申诉 {}),不计入统计。</p>"#,
            esc(&display_cst(at)),
            d.facts.invalidating_appeal_id.map(|a| a.to_string()).unwrap_or_default()
        ));
    }
    if let Some(case) = &d.case {
        let k = &case.case;
        s.push_str(&format!(
            r#"<h2>差评工单</h2><p><a href="/console/cases/{}">工单 {}</a>:{}{}</p>"#,
            k.id,
            k.id,
            esc(k.state_name),
            if k.overdue { r#" <strong class="late">逾期</strong>"# } else { "" }
        ));
        s.push_str(&super::cases::history_table(&case.steps));
    }
    if let Some(a) = &d.appeal {
        s.push_str(&format!(
            r#"<h2>申诉</h2><p><a href="/console/appeals/{}">申诉 {}</a>:{}(提出于 {})</p><p>理由:{}</p>"#,
            a.appeal.id,
            a.appeal.id,
            esc(a.appeal.state_name),
            esc(&display_cst(a.appeal.filed_at)),
            esc(&a.appeal.reasons)
        ));
        if !a.decisions.is_empty() {
            s.push_str("<table><thead><tr><th>时间</th><th>阶段</th><th>结果</th><th>理由</th><th>办理人</th></tr></thead><tbody>");
            for dec in &a.decisions {
                s.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&display_cst(dec.at)),
                    esc(dec.stage_name),
                    esc(dec.result),
                    esc(&dec.reasons),
                    esc(&dec.decided_by)
                ));
            }
            s.push_str("</tbody></table>");
        }
    }
    s.push_str(r#"<p><a href="/console/evaluations">返回评价查询</a></p>"#);
    s
}
