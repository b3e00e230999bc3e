//! Results in the console (issue 7): statistics by any cut, rankings, reports (通报) with publishing,
//! rectification orders, and assessment — each page with its CSV and Excel download.

use super::CsrfForm;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use hcp_app::policy::Action;
use hcp_app::stats::{By, parse_by, parse_metric, parse_period, rank_label};
use hcp_app::{App, AppError};
use hcp_domain::calendar::{display_cst, display_deadline};
use hcp_domain::metrics::{Figures, percent, score};
use hcp_domain::ranking::Metric;
use maud::{Markup, html};
use serde::Deserialize;

use super::pickers::{Pick, datalists, field};
use super::{Console, FormData, console_page, csrf_field, gate};
use crate::controllers::download::page_download;
use crate::html::{PageResult, notice, options, pair_options, query, table};

/// The organization a page shows by default: the person's first binding.
async fn default_org(app: &App, c: &Console) -> String {
    for b in &c.who.bindings {
        if let Ok(Some(code)) = app.store.org_code_by_path(&b.org_path).await {
            return code;
        }
    }
    String::new()
}

#[derive(Deserialize, Default)]
pub struct CutQuery {
    pub org: Option<String>,
    pub period: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub by: Option<String>,
    pub metric: Option<String>,
    pub min: Option<String>,
    pub format: Option<String>,
}

/// What a results page shows, and the person's organizations for its picker (read once).
pub struct Scope {
    /// The organization asked for — a name typed into the picker becomes its code
    /// ([`hcp_app::pickers::Pickers::resolve`]), anything else is kept as typed for the use case to judge —
    /// or the person's own.
    pub org: String,
    /// The period asked for, or the page's default.
    pub period: String,
    pub orgs: hcp_app::pickers::Pickers,
}

/// The organization and period a page asks for, or the person's own organization and `period`.
pub async fn scope_of(app: &App, c: &Console, q: &CutQuery, period: String) -> Result<Scope, AppError> {
    let orgs = app.org_choices(&c.who).await?;
    let org = match q.org.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
        Some(o) => hcp_app::pickers::Pickers::resolve(&orgs.orgs, o).unwrap_or(o).to_string(),
        None => default_org(app, c).await,
    };
    Ok(Scope { org, period: q.period.clone().filter(|p| !p.trim().is_empty()).unwrap_or(period), orgs })
}

pub fn default_period_of(app: &App) -> String {
    default_period(app)
}

/// The organization a page shows by default (see [`default_org`]).
pub async fn default_org_of(app: &App, c: &Console) -> String {
    default_org(app, c).await
}

fn default_period(app: &App) -> String {
    hcp_domain::period::Period::month_of(hcp_domain::calendar::business_date(app.now())).code()
}

/// The header cells of the figures people read most.
const FIGURE_HEAD: [&str; 15] = [
    "评价数",
    "主动评价",
    "默认评价",
    "好评率",
    "差评数",
    "差评率",
    "满意度",
    "主动评价率",
    "差评整改率",
    "按时率 1/5/15",
    "回访满意率",
    "申诉/成立",
    "作废",
    "办理中评价",
    "中心按时交办率",
];

/// A table head: the columns before the figures, then the figures.
fn head_with_figures<'a>(first: &[&'a str]) -> Vec<&'a str> {
    first.iter().copied().chain(FIGURE_HEAD).collect()
}

fn figure_tds(f: &Figures) -> Markup {
    html! {
        td { (f.evaluations) }
        td { (f.active_evaluations) }
        td { (f.default_evaluations) }
        td { (percent(f.good_rate)) }
        td { (f.bad_reviews) }
        td {
            @match f.bad_rate {
                Some(r) if r > 0.05 => { span.late { (percent(Some(r))) } }
                r => { (percent(r)) }
            }
        }
        td { (score(f.satisfaction)) }
        td { (percent(f.active_rate)) }
        td { (percent(f.rectification_rate)) }
        td { (percent(f.on_time_rate[0])) " / " (percent(f.on_time_rate[1])) " / " (percent(f.on_time_rate[2])) }
        td { (percent(f.follow_up_satisfaction)) }
        td { (f.appeals_filed) " / " (f.appeals_upheld) }
        td { (f.invalidated) }
        td { (f.in_progress_evaluations) }
        td { (percent(f.dispatch_on_time_rate)) }
    }
}

/// The query form shared by the statistics and ranking pages.
fn cut_form(
    action: &str,
    orgs: &hcp_app::pickers::Pickers,
    org: &str,
    period: &str,
    by: Option<By>,
    metric: Option<Metric>,
) -> Markup {
    html! {
        form.filters method="get" action=(action) {
            (field(orgs, Pick::Org, "org", "机构", org, true))
            (datalists(orgs))
            label { "统计期 " input name="period" value=(period) placeholder="2026-11 / 2026-Q4 / 2026" required; }
            " "
            label {
                "分组 "
                select name="by" { option value="" selected[by.is_none()] { "不分组" } (options(&By::ALL, by, By::as_str, By::name_zh)) }
            }
            @if let Some(m) = metric {
                " " label { "排名指标 " select name="metric" { (options(&Metric::ALL, Some(m), Metric::as_str, Metric::name_zh)) } }
            }
            " " button type="submit" { "查询" }
        }
        p.muted { "统计期可写作月(2026-11)、季度(2026-Q4)、年(2026)、周(2026-W05)或日(2026-11-05),按北京时间计。" }
    }
}

/// The links that download a page's table, keeping its query.
fn downloads(path: &str, pairs: &[(&str, &str)]) -> Markup {
    let with = |format: &str| {
        let mut all = pairs.to_vec();
        all.push(("format", format));
        format!("{path}?{}", query(&all))
    };
    html! { a href=(with("xlsx")) { "导出 Excel" } " · " a href=(with("csv")) { "导出 CSV" } }
}

/// `GET /console/stats`
pub async fn stats(State(app): State<App>, c: Console, Query(q): Query<CutQuery>) -> PageResult {
    gate(&c, &[Action::ViewStats])?;
    let Scope { org, period: period_raw, orgs } = scope_of(&app, &c, &q, default_period(&app)).await?;
    let period = parse_period(Some(&period_raw), q.from.as_deref(), q.to.as_deref())?;
    let by = parse_by(q.by.as_deref())?;
    let cut = app.cut(&c.who, &org, period, by).await?;
    if let Some(format) = q.format.as_deref() {
        return Ok(page_download(format, &cut.file_name(), || cut.table()));
    }
    // "暗访评价" beside, never inside, the applicants' figures — for those who may see the visits.
    let inspections = if c.who.may(Action::ViewInspections, None) {
        let (from, to) = (cut.period.from.to_string(), cut.period.to.to_string());
        let (_, s) = app.inspections(&c.who, &from, &to).await?;
        Some(html! {
            (crate::console::inspections::summary_html(&s))
            p { a href={ "/console/inspections?" (query(&[("from", &from), ("to", &to)])) } { "查看暗访安排" } }
        })
    } else {
        None
    };
    let pairs =
        [("org", cut.org_code.as_str()), ("period", cut.period_code.as_str()), ("by", by.map_or("", By::as_str))];
    let body = html! {
        h2 { "统计分析" }
        (cut_form("/console/stats", &orgs, &cut.org_code, &cut.period_code, by, None))
        h3 { (cut.org_name) " · " (cut.period_label) "(" (cut.period.from) " 至 " (cut.period.to) ")" }
        p {
            (downloads("/console/stats", &pairs))
            " · " a href={ "/console/rankings?" (query(&pairs)) } { "查看排名" }
        }
        p.muted { "作废评价(申诉成立)单独列示,不计入任何比率;“—”表示没有可计算的数据。" }
        div.scroll tabindex="0" {
            (table(&head_with_figures(&["名称", "所属"]), html! {
                tr.total { th scope="row" { (cut.org_name) "(合计)" } td {} (figure_tds(&cut.total)) }
                @for l in &cut.lines {
                    tr { th scope="row" { (l.name) } td { (l.context) } (figure_tds(&l.figures)) }
                }
            }))
        }
        @if let Some(i) = inspections { (i) }
    };
    Ok(console_page(&c, StatusCode::OK, "统计分析", body))
}

/// `GET /console/rankings`
pub async fn rankings(State(app): State<App>, c: Console, Query(q): Query<CutQuery>) -> PageResult {
    gate(&c, &[Action::ViewStats])?;
    let Scope { org, period: period_raw, orgs } = scope_of(&app, &c, &q, default_period(&app)).await?;
    let period = parse_period(Some(&period_raw), q.from.as_deref(), q.to.as_deref())?;
    let by = parse_by(q.by.as_deref())?.unwrap_or(By::Unit);
    let metric = parse_metric(q.metric.as_deref())?;
    let min = match q.min.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        None => None,
        Some(m) => Some(
            m.parse::<u64>()
                .map_err(|_| AppError::invalid("min", "invalid_number", "最少评价数应为不小于 0 的整数。"))?,
        ),
    };
    let ranking = app.ranking(&c.who, &org, period, by, metric, min).await?;
    if let Some(format) = q.format.as_deref() {
        return Ok(page_download(format, &ranking.file_name(), || ranking.table()));
    }
    let pairs = [
        ("org", ranking.org_code.as_str()),
        ("period", ranking.period_code.as_str()),
        ("by", ranking.by.as_str()),
        ("metric", ranking.metric.as_str()),
    ];
    let form = cut_form(
        "/console/rankings",
        &orgs,
        &ranking.org_code,
        &ranking.period_code,
        Some(ranking.by),
        Some(ranking.metric),
    );
    let body = html! {
        h2 { "排名" }
        (form)
        h3 { (ranking.org_name) " · " (ranking.period_label) " · " (ranking.metric_name) "排名(" (ranking.by.name_zh()) ")" }
        p.notice role="note" { strong { "排名规则:" } (ranking.rule) }
        p { (downloads("/console/rankings", &pairs)) }
        div.scroll tabindex="0" {
            (table(&head_with_figures(&["名次", "名称", "所属", ranking.metric_name]), html! {
                @for l in &ranking.lines {
                    tr {
                        td { (rank_label(l.rank, l.tied, l.unranked_reason)) }
                        th scope="row" { (l.line.name) }
                        td { (l.line.context) }
                        td {
                            strong {
                                @match ranking.metric { Metric::Satisfaction => { (score(l.value)) } _ => { (percent(l.value)) } }
                            }
                        }
                        (figure_tds(&l.line.figures))
                    }
                }
            }))
        }
    };
    Ok(console_page(&c, StatusCode::OK, "排名", body))
}

/// `GET /console/reports`: the reports, and for the county office the form that drafts one.
pub async fn reports(State(app): State<App>, c: Console) -> PageResult {
    gate(&c, &[Action::ViewStats])?;
    let list = app.reports(Some(&c.who)).await?;
    let form = if c.who.may(Action::ManageResults, None) {
        let last_month =
            hcp_domain::period::Period::month_of(hcp_domain::calendar::business_date(app.now())).previous();
        let org = default_org(&app, &c).await;
        Some(html! {
            h3 { "生成通报" }
            form method="post" action="/console/reports" {
                (csrf_field(&c))
                label { "机构代码 " input name="org" value=(org) required; }
                " " label { "通报期 " input name="period" value=(last_month.code()) placeholder="2026-11 / 2026-Q4 / 2026" required; }
                " " label { "更正说明(重新生成已发布的通报时填写) " input name="note" maxlength="500"; }
                " " button type="submit" { "生成草稿" }
            }
            p.muted {
                "草稿可反复重新生成;发布后内容冻结并在公众页面公开,如需更正将生成新版本,原版本仍可查看。每月第一个工作日系统自动起草上月通报。"
            }
        })
    } else {
        None
    };
    let body = html! {
        h2 { "通报" }
        @if let Some(f) = form { (f) }
        @if list.is_empty() {
            (notice("暂无通报。"))
        } @else {
            (table(&["通报", "状态", "版本", "发布时间"], html! {
                @for r in &list {
                    tr {
                        td { a href={ "/console/reports/" (r.id) } { (r.title()) } }
                        td { (r.state_name) }
                        td { (r.version) }
                        td { (r.published_at.map(display_cst).unwrap_or_default()) }
                    }
                }
            }))
        }
    };
    Ok(console_page(&c, StatusCode::OK, "通报", body))
}

/// `POST /console/reports`: drafts a report (county office).
pub async fn generate(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> PageResult {
    gate(&c, &[Action::ManageResults])?;
    let r = app.generate_report(&c.who, form.get("org"), form.get("period"), form.get("note")).await?;
    Ok(Redirect::to(&format!("/console/reports/{}", r.id)).into_response())
}

fn report_id(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>().map_err(|_| AppError::not_found("report_not_found", "通报不存在。"))
}

/// `GET /console/reports/{id}[?format=xlsx]`
pub async fn report(
    State(app): State<App>,
    c: Console,
    Path(raw): Path<String>,
    Query(q): Query<CutQuery>,
) -> PageResult {
    gate(&c, &[Action::ViewStats])?;
    let r = app.report(Some(&c.who), report_id(&raw)?).await?;
    // The publication bundle's files (issue 30 §4): the page a portal posts as it is, and the figures as data.
    if let Some(format @ ("html" | "json")) = q.format.as_deref() {
        let name = if format == "html" { "index.html" } else { "report.json" };
        let file = crate::report_bundle::bundle(&r)?.into_iter().find(|f| f.name == name).map(|f| f.bytes);
        let kind = if format == "html" { "text/html; charset=utf-8" } else { "application/json" };
        let disposition = format!("attachment; filename=\"{name}\"");
        return Ok((
            [(header::CONTENT_TYPE, kind.to_string()), (header::CONTENT_DISPOSITION, disposition)],
            file.unwrap_or_default(),
        )
            .into_response());
    }
    if let Some(format) = q.format.as_deref() {
        return Ok(page_download(format, &r.file_name(), || r.table()));
    }
    let body = html! {
        h2 { (r.title()) }
        p {
            "状态:" (r.state_name)
            @if let Some(t) = r.published_at { ",发布于 " (display_cst(t)) }
            "。" a href={ "/console/reports/" (r.id) "?format=xlsx" } { "下载 Excel" }
            @if r.state == "published" {
                " · " a href={ "/public/reports/" (r.id) } { "公众页面" }
                " · 发布包(供门户网站、移动端发布,不含个人信息):"
                a href={ "/console/reports/" (r.id) "?format=html" } { "网页 index.html" } " · "
                a href={ "/console/reports/" (r.id) "?format=json" } { "数据 report.json" }
                "(命令行:hcp report export " (r.id) " 目录)"
            }
        }
        @if r.state == "draft" && c.who.may(Action::ManageResults, None) {
            form method="post" action={ "/console/reports/" (r.id) "/publish" } {
                (csrf_field(&c))
                button type="submit" { "发布(发布后不可修改)" }
            }
        }
        (crate::pages::public::report_content(&r))
    };
    Ok(console_page(&c, StatusCode::OK, &r.title(), body))
}

/// `POST /console/reports/{id}/publish`
pub async fn publish(
    State(app): State<App>,
    Path(raw): Path<String>,
    CsrfForm { console: c, form: _ }: CsrfForm,
) -> PageResult {
    gate(&c, &[Action::ManageResults])?;
    let id = report_id(&raw)?;
    app.publish_report(&c.who, id).await?;
    Ok(Redirect::to(&format!("/console/reports/{id}")).into_response())
}

const ORDER_ACTIONS: [Action; 3] = [Action::ManageResults, Action::ReportRectification, Action::ViewAssessment];

fn order_id(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>().map_err(|_| AppError::not_found("order_not_found", "整改通知不存在。"))
}

/// An order's deadline with the working time left, red when overdue.
fn order_due(o: &hcp_app::rectification::OrderView) -> Markup {
    html! {
        span class=[o.overdue.then_some("late")] { (display_deadline(o.due_at)) "(" (o.time_left) ")" }
    }
}

/// `GET /console/orders`: rectification orders, open ones first, overdue in red.
pub async fn orders(State(app): State<App>, c: Console) -> PageResult {
    gate(&c, &ORDER_ACTIONS)?;
    let list = app.orders(&c.who).await?;
    let body = html! {
        h2 { "整改通知" }
        p.muted {
            "月度通报发布时,连续 " (app.result_rules.consecutive_months) " 个月满意度排名"
            (app.result_rules.bottom.describe_zh()) "的工作人员和单位收到整改通知;逾期未办结的报县政府办公室督办。"
        }
        @if list.is_empty() {
            (notice("没有整改通知。"))
        } @else {
            (table(&["对象", "单位", "连续靠后月份", "状态", "整改期限"], html! {
                @for o in &list {
                    tr {
                        td { a href={ "/console/orders/" (o.id) } { (o.subject_name) } }
                        td { (o.org_name) }
                        td { (o.periods.join("、")) }
                        td { (o.state_name) }
                        td { (order_due(o)) }
                    }
                }
            }))
        }
    };
    Ok(console_page(&c, StatusCode::OK, "整改通知", body))
}

/// `GET /console/orders/{id}`
pub async fn order(State(app): State<App>, c: Console, Path(raw): Path<String>) -> PageResult {
    gate(&c, &ORDER_ACTIONS)?;
    let o = app.order(&c.who, order_id(&raw)?).await?;
    let closed = o
        .closed_at
        .map(|t| format!("{} {}", o.closed_by.clone().unwrap_or_default(), display_cst(t)))
        .unwrap_or_default();
    let escalated =
        o.escalated_at.map(|t| format!("逾期未办结,{} 已报县政府办公室", display_cst(t))).unwrap_or_default();
    let optional = [
        ("整改情况", o.report.as_deref().unwrap_or("")),
        ("报送人", o.reported_by.as_deref().unwrap_or("")),
        ("审核意见", o.review_note.as_deref().unwrap_or("")),
        ("办结", closed.as_str()),
        ("督办", escalated.as_str()),
    ];
    let body = html! {
        h2 { "整改通知 · " (o.subject_name) }
        dl {
            dt { "单位" } dd { (o.org_name) }
            dt { "原因" } dd { (o.reason) }
            dt { "状态" } dd { (o.state_name) }
            dt { "整改期限" } dd { (order_due(&o)) }
            @for (k, v) in optional { @if !v.is_empty() { dt { (k) } dd { (v) } } }
        }
        @if o.actions.contains(&"answer") {
            form method="post" action={ "/console/orders/" (o.id) "/answer" } {
                (csrf_field(&c))
                input type="hidden" name="version" value=(o.version);
                label { "整改情况 " textarea name="report" required maxlength="2000" rows="5" {} }
                button type="submit" { "报送" }
            }
        }
        @if o.actions.contains(&"accept") {
            form method="post" action={ "/console/orders/" (o.id) "/review" } {
                (csrf_field(&c))
                input type="hidden" name="version" value=(o.version);
                label { "审核意见 " textarea name="note" maxlength="1000" rows="3" {} }
                button type="submit" name="accept" value="true" { "通过,办结" }
                " "
                button type="submit" name="accept" value="false" { "退回重新整改" }
            }
        }
    };
    Ok(console_page(&c, StatusCode::OK, "整改通知", body))
}

fn form_version(form: &FormData) -> Option<i64> {
    form.get("version").parse().ok()
}

/// `POST /console/orders/{id}/answer`
pub async fn answer(
    State(app): State<App>,
    Path(raw): Path<String>,
    CsrfForm { console: c, form }: CsrfForm,
) -> PageResult {
    gate(&c, &[Action::ReportRectification])?;
    let id = order_id(&raw)?;
    app.answer_order(&c.who, id, form.get("report"), form_version(&form)).await?;
    Ok(Redirect::to(&format!("/console/orders/{id}")).into_response())
}

/// `POST /console/orders/{id}/review`
pub async fn review(
    State(app): State<App>,
    Path(raw): Path<String>,
    CsrfForm { console: c, form }: CsrfForm,
) -> PageResult {
    gate(&c, &[Action::ManageResults])?;
    let id = order_id(&raw)?;
    let accept = form.get("accept") == "true";
    app.review_order(&c.who, id, accept, form.get("note"), form_version(&form)).await?;
    Ok(Redirect::to(&format!("/console/orders/{id}")).into_response())
}

/// `GET /console/assessment`
pub async fn assessment(State(app): State<App>, c: Console, Query(q): Query<CutQuery>) -> PageResult {
    gate(&c, &[Action::ViewAssessment])?;
    let year = hcp_domain::calendar::business_date(app.now()).format("%Y").to_string();
    let Scope { org, period: period_raw, orgs } = scope_of(&app, &c, &q, year).await?;
    let by = match q.by.as_deref() {
        Some("staff") => By::Staff,
        _ => By::Unit,
    };
    let period = parse_period(Some(&period_raw), q.from.as_deref(), q.to.as_deref())?;
    let a = app.assessment(&c.who, &org, period, by).await?;
    if let Some(format) = q.format.as_deref() {
        return Ok(page_download(format, &a.file_name(), || a.table()));
    }
    let full = format!("得分(满分 {})", a.full_points);
    let body = html! {
        h2 { "绩效考核" }
        form.filters method="get" action="/console/assessment" {
            (field(&orgs, Pick::Org, "org", "机构", &org, true))
            (datalists(&orgs))
            label { "考核期 " input name="period" value=(a.period_code) required; }
            " "
            label {
                "对象 "
                select name="by" { (pair_options(&[("unit", "单位"), ("staff", "工作人员")], a.by.as_str())) }
            }
            " " button type="submit" { "查询" }
        }
        h3 { (a.org_name) " · " (a.period_label) }
        p.notice role="note" { (a.table().notes.join("")) }
        p { (downloads("/console/assessment", &[("org", &org), ("period", &a.period_code), ("by", a.by.as_str())])) }
        div.scroll tabindex="0" {
            (table(&["名称", "所属", "评价数", &full, "计分说明"], html! {
                @for l in &a.lines {
                    tr {
                        th scope="row" { (l.name) }
                        td { (l.context) }
                        td { (l.evaluations) }
                        td { strong { (l.assessment.points.map_or("—".to_string(), |p| format!("{p:.2}"))) } }
                        td {
                            ul.breakdown {
                                @match &l.assessment.note {
                                    Some(n) => { li { (n) } }
                                    None => {
                                        @for x in &l.assessment.lines {
                                            li { (x.item) ":" (x.basis) " → " (format!("{:+}", x.points)) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }))
        }
    };
    Ok(console_page(&c, StatusCode::OK, "绩效考核", body))
}
