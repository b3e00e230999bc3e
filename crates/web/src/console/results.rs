//! Results in the console (issue 7): statistics by any cut, rankings, reports (通报) with publishing,
//! rectification orders, and assessment — each page with its CSV and Excel download.

use super::CsrfForm;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hcp_app::policy::Action;
use hcp_app::stats::{By, parse_by, parse_metric, parse_period, rank_label};
use hcp_app::{App, AppError};
use hcp_domain::calendar::{display_cst, display_deadline};
use hcp_domain::metrics::{Figures, percent, score};
use hcp_domain::ranking::Metric;
use serde::Deserialize;

use super::{Console, FormData, console_page, csrf_field};
use crate::controllers::download::page_download;
use crate::pages::layout::{error_page, esc};

/// 403 unless the person may do one of these actions somewhere.
pub fn gate(c: &Console, actions: &[Action]) -> Option<Response> {
    (!actions.iter().any(|a| c.who.may(*a, None))).then(|| error_page(&AppError::Forbidden))
}

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

/// The header cells and the cells of the figures people read most.
const FIGURE_TH: &str = "<th>评价数</th><th>主动评价</th><th>默认评价</th><th>好评率</th><th>差评数</th><th>差评率</th><th>满意度</th><th>主动评价率</th><th>差评整改率</th><th>按时率 1/5/15</th><th>回访满意率</th><th>申诉/成立</th><th>作废</th><th>办理中评价</th><th>中心按时交办率</th>";

fn figure_tds(f: &Figures) -> String {
    let bad_rate = match f.bad_rate {
        Some(r) if r > 0.05 => format!(r#"<span class="late">{}</span>"#, percent(Some(r))),
        r => percent(r),
    };
    format!(
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{bad_rate}</td><td>{}</td><td>{}</td><td>{}</td><td>{} / {} / {}</td><td>{}</td><td>{} / {}</td><td>{}</td><td>{}</td><td>{}</td>",
        f.evaluations,
        f.active_evaluations,
        f.default_evaluations,
        percent(f.good_rate),
        f.bad_reviews,
        score(f.satisfaction),
        percent(f.active_rate),
        percent(f.rectification_rate),
        percent(f.on_time_rate[0]),
        percent(f.on_time_rate[1]),
        percent(f.on_time_rate[2]),
        percent(f.follow_up_satisfaction),
        f.appeals_filed,
        f.appeals_upheld,
        f.invalidated,
        f.in_progress_evaluations,
        percent(f.dispatch_on_time_rate),
    )
}

pub fn options<T: Copy + PartialEq>(
    all: &[T],
    chosen: Option<T>,
    code: fn(T) -> &'static str,
    name: fn(T) -> &'static str,
) -> String {
    all.iter()
        .map(|x| {
            let sel = if Some(*x) == chosen { " selected" } else { "" };
            format!(r#"<option value="{}"{sel}>{}</option>"#, code(*x), name(*x))
        })
        .collect()
}

/// The query form shared by the statistics and ranking pages.
fn cut_form(
    action: &str,
    orgs: &hcp_app::pickers::Pickers,
    org: &str,
    period: &str,
    by: Option<By>,
    metric: Option<Metric>,
) -> String {
    let by_options = options(&By::ALL, by, By::as_str, By::name_zh);
    let metric_field = match metric {
        Some(m) => format!(
            r#"<label>排名指标 <select name="metric">{}</select></label>"#,
            options(&Metric::ALL, Some(m), Metric::as_str, Metric::name_zh)
        ),
        None => String::new(),
    };
    let none = if by.is_none() { " selected" } else { "" };
    format!(
        r#"<form method="get" action="{action}" class="filters">
{org}{lists}
<label>统计期 <input name="period" value="{period}" placeholder="2026-11 / 2026-Q4 / 2026" required></label>
<label>分组 <select name="by"><option value=""{none}>不分组</option>{by_options}</select></label>
{metric_field}<button type="submit">查询</button></form>
<p class="muted">统计期可写作月(2026-11)、季度(2026-Q4)、年(2026)、周(2026-W05)或日(2026-11-05),按北京时间计。</p>"#,
        org = super::pickers::field(orgs, super::pickers::Pick::Org, "org", "机构", org, true),
        lists = super::pickers::datalists(orgs),
        period = esc(period),
    )
}

/// `GET /console/stats`
pub async fn stats(State(app): State<App>, c: Console, Query(q): Query<CutQuery>) -> Response {
    if let Some(r) = gate(&c, &[Action::ViewStats]) {
        return r;
    }
    let Scope { org, period: period_raw, orgs } = match scope_of(&app, &c, &q, default_period(&app)).await {
        Ok(s) => s,
        Err(e) => return error_page(&e),
    };
    let result = async {
        let period = parse_period(Some(&period_raw), q.from.as_deref(), q.to.as_deref())?;
        let by = parse_by(q.by.as_deref())?;
        let cut = app.cut(&c.who, &org, period, by).await?;
        Ok::<_, AppError>((cut, by))
    }
    .await;
    let (cut, by) = match result {
        Ok(x) => x,
        Err(e) => return error_page(&e),
    };
    if let Some(format) = q.format.as_deref() {
        return page_download(format, &cut.file_name(), || cut.table());
    }
    let mut rows = format!(
        r#"<tr class="total"><th scope="row">{}(合计)</th><td></td>{}</tr>"#,
        esc(&cut.org_name),
        figure_tds(&cut.total)
    );
    for l in &cut.lines {
        rows.push_str(&format!(
            r#"<tr><th scope="row">{}</th><td>{}</td>{}</tr>"#,
            esc(&l.name),
            esc(&l.context),
            figure_tds(&l.figures)
        ));
    }
    let query =
        format!("org={}&amp;period={}&amp;by={}", esc(&cut.org_code), esc(&cut.period_code), by.map_or("", By::as_str));
    // "暗访评价" beside, never inside, the applicants' figures — for those who may see the visits.
    let inspections = if c.who.may(Action::ViewInspections, None) {
        match app.inspections(&c.who, &cut.period.from.to_string(), &cut.period.to.to_string()).await {
            Ok((_, s)) => format!(
                r#"{}<p><a href="/console/inspections?from={}&amp;to={}">查看暗访安排</a></p>"#,
                crate::console::inspections::summary_html(&s),
                cut.period.from,
                cut.period.to
            ),
            Err(e) => return error_page(&e),
        }
    } else {
        String::new()
    };
    let body = format!(
        r#"<h2>统计分析</h2>{form}
<h3>{org} · {label}({from} 至 {to})</h3>
<p><a href="/console/stats?{query}&amp;format=xlsx">导出 Excel</a> · <a href="/console/stats?{query}&amp;format=csv">导出 CSV</a> · <a href="/console/rankings?{query}">查看排名</a></p>
<p class="muted">作废评价(申诉成立)单独列示,不计入任何比率;“—”表示没有可计算的数据。</p>
<div class="scroll" tabindex="0"><table><thead><tr><th>名称</th><th>所属</th>{FIGURE_TH}</tr></thead><tbody>{rows}</tbody></table></div>{inspections}"#,
        form = cut_form("/console/stats", &orgs, &cut.org_code, &cut.period_code, by, None),
        org = esc(&cut.org_name),
        label = esc(&cut.period_label),
        from = cut.period.from,
        to = cut.period.to,
    );
    console_page(&c, StatusCode::OK, "统计分析", &body)
}

/// `GET /console/rankings`
pub async fn rankings(State(app): State<App>, c: Console, Query(q): Query<CutQuery>) -> Response {
    if let Some(r) = gate(&c, &[Action::ViewStats]) {
        return r;
    }
    let Scope { org, period: period_raw, orgs } = match scope_of(&app, &c, &q, default_period(&app)).await {
        Ok(s) => s,
        Err(e) => return error_page(&e),
    };
    let result = async {
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
        app.ranking(&c.who, &org, period, by, metric, min).await
    }
    .await;
    let ranking = match result {
        Ok(r) => r,
        Err(e) => return error_page(&e),
    };
    if let Some(format) = q.format.as_deref() {
        return page_download(format, &ranking.file_name(), || ranking.table());
    }
    let mut rows = String::new();
    for l in &ranking.lines {
        let rank = esc(&rank_label(l.rank, l.tied, l.unranked_reason));
        let value = match ranking.metric {
            Metric::Satisfaction => score(l.value),
            _ => percent(l.value),
        };
        rows.push_str(&format!(
            r#"<tr><td>{rank}</td><th scope="row">{}</th><td>{}</td><td><strong>{value}</strong></td>{}</tr>"#,
            esc(&l.line.name),
            esc(&l.line.context),
            figure_tds(&l.line.figures)
        ));
    }
    let query = format!(
        "org={}&amp;period={}&amp;by={}&amp;metric={}",
        esc(&ranking.org_code),
        esc(&ranking.period_code),
        ranking.by.as_str(),
        ranking.metric.as_str()
    );
    let body = format!(
        r#"<h2>排名</h2>{form}
<h3>{org} · {label} · {metric}排名({by})</h3>
<p class="notice" role="note"><strong>排名规则:</strong>{rule}</p>
<p><a href="/console/rankings?{query}&amp;format=xlsx">导出 Excel</a> · <a href="/console/rankings?{query}&amp;format=csv">导出 CSV</a></p>
<div class="scroll" tabindex="0"><table><thead><tr><th>名次</th><th>名称</th><th>所属</th><th>{metric}</th>{FIGURE_TH}</tr></thead><tbody>{rows}</tbody></table></div>"#,
        form = cut_form(
            "/console/rankings",
            &orgs,
            &ranking.org_code,
            &ranking.period_code,
            Some(ranking.by),
            Some(ranking.metric)
        ),
        org = esc(&ranking.org_name),
        label = esc(&ranking.period_label),
        metric = esc(ranking.metric_name),
        by = esc(ranking.by.name_zh()),
        rule = esc(&ranking.rule),
    );
    console_page(&c, StatusCode::OK, "排名", &body)
}

/// `GET /console/reports`: the reports, and for the county office the form that drafts one.
pub async fn reports(State(app): State<App>, c: Console) -> Response {
    if let Some(r) = gate(&c, &[Action::ViewStats]) {
        return r;
    }
    let list = match app.reports(Some(&c.who)).await {
        Ok(l) => l,
        Err(e) => return error_page(&e),
    };
    let mut rows = String::new();
    for r in &list {
        rows.push_str(&format!(
            r#"<tr><td><a href="/console/reports/{id}">{title}</a></td><td>{state}</td><td>{version}</td><td>{published}</td></tr>"#,
            id = r.id,
            title = esc(&r.title()),
            state = esc(r.state_name),
            version = r.version,
            published = r.published_at.map(display_cst).unwrap_or_default(),
        ));
    }
    let form = if c.who.may(Action::ManageResults, None) {
        let last_month =
            hcp_domain::period::Period::month_of(hcp_domain::calendar::business_date(app.now())).previous();
        format!(
            r#"<h3>生成通报</h3><form method="post" action="/console/reports">{csrf}
<label>机构代码 <input name="org" value="{org}" required></label>
<label>通报期 <input name="period" value="{period}" placeholder="2026-11 / 2026-Q4 / 2026" required></label>
<label>更正说明(重新生成已发布的通报时填写) <input name="note" maxlength="500"></label>
<button type="submit">生成草稿</button></form>
<p class="muted">草稿可反复重新生成;发布后内容冻结并在公众页面公开,如需更正将生成新版本,原版本仍可查看。每月第一个工作日系统自动起草上月通报。</p>"#,
            csrf = csrf_field(&c),
            org = esc(&default_org(&app, &c).await),
            period = last_month.code(),
        )
    } else {
        String::new()
    };
    let table = if list.is_empty() {
        r#"<p class="notice" role="status">暂无通报。</p>"#.to_string()
    } else {
        format!(
            "<table><thead><tr><th>通报</th><th>状态</th><th>版本</th><th>发布时间</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    };
    console_page(&c, StatusCode::OK, "通报", &format!("<h2>通报</h2>{form}{table}"))
}

/// `POST /console/reports`: drafts a report (county office).
pub async fn generate(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> Response {
    if let Some(r) = gate(&c, &[Action::ManageResults]) {
        return r;
    }
    match app.generate_report(&c.who, form.get("org"), form.get("period"), form.get("note")).await {
        Ok(r) => Redirect::to(&format!("/console/reports/{}", r.id)).into_response(),
        Err(e) => error_page(&e),
    }
}

/// `GET /console/reports/{id}[?format=xlsx]`
pub async fn report(
    State(app): State<App>,
    c: Console,
    Path(raw): Path<String>,
    Query(q): Query<CutQuery>,
) -> Response {
    if let Some(r) = gate(&c, &[Action::ViewStats]) {
        return r;
    }
    let Ok(id) = raw.parse::<i64>() else {
        return error_page(&AppError::not_found("report_not_found", "通报不存在。"));
    };
    let r = match app.report(Some(&c.who), id).await {
        Ok(r) => r,
        Err(e) => return error_page(&e),
    };
    if let Some(format) = q.format.as_deref() {
        return page_download(format, &r.file_name(), || r.table());
    }
    let publish = if r.state == "draft" && c.who.may(Action::ManageResults, None) {
        format!(
            r#"<form method="post" action="/console/reports/{id}/publish">{csrf}<button type="submit">发布(发布后不可修改)</button></form>"#,
            csrf = csrf_field(&c)
        )
    } else {
        String::new()
    };
    let body = format!(
        r#"<h2>{title}</h2><p>状态:{state}{published}。<a href="/console/reports/{id}?format=xlsx">下载 Excel</a>{public}</p>{publish}{content}"#,
        title = esc(&r.title()),
        state = esc(r.state_name),
        published = r.published_at.map(|t| format!(",发布于 {}", display_cst(t))).unwrap_or_default(),
        public = if r.state == "published" {
            format!(r#" · <a href="/public/reports/{id}">公众页面</a>"#)
        } else {
            String::new()
        },
        content = crate::pages::public::report_content(&r).into_string(),
    );
    console_page(&c, StatusCode::OK, &r.title(), &body)
}

/// `POST /console/reports/{id}/publish`
pub async fn publish(
    State(app): State<App>,
    Path(raw): Path<String>,
    CsrfForm { console: c, form: _ }: CsrfForm,
) -> Response {
    if let Some(r) = gate(&c, &[Action::ManageResults]) {
        return r;
    }
    let Ok(id) = raw.parse::<i64>() else {
        return error_page(&AppError::not_found("report_not_found", "通报不存在。"));
    };
    match app.publish_report(&c.who, id).await {
        Ok(_) => Redirect::to(&format!("/console/reports/{id}")).into_response(),
        Err(e) => error_page(&e),
    }
}

const ORDER_ACTIONS: [Action; 3] = [Action::ManageResults, Action::ReportRectification, Action::ViewAssessment];

/// `GET /console/orders`: rectification orders, open ones first, overdue in red.
pub async fn orders(State(app): State<App>, c: Console) -> Response {
    if let Some(r) = gate(&c, &ORDER_ACTIONS) {
        return r;
    }
    let list = match app.orders(&c.who).await {
        Ok(l) => l,
        Err(e) => return error_page(&e),
    };
    let mut rows = String::new();
    for o in &list {
        let due = if o.overdue {
            format!(r#"<span class="late">{}({})</span>"#, esc(&display_deadline(o.due_at)), esc(&o.time_left))
        } else {
            format!("{}({})", esc(&display_deadline(o.due_at)), esc(&o.time_left))
        };
        rows.push_str(&format!(
            r#"<tr><td><a href="/console/orders/{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{due}</td></tr>"#,
            o.id,
            esc(&o.subject_name),
            esc(&o.org_name),
            esc(&o.periods.join("、")),
            esc(o.state_name),
        ));
    }
    let table = if list.is_empty() {
        r#"<p class="notice" role="status">没有整改通知。</p>"#.to_string()
    } else {
        format!(
            "<table><thead><tr><th>对象</th><th>单位</th><th>连续靠后月份</th><th>状态</th><th>整改期限</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    };
    let body = format!(
        r#"<h2>整改通知</h2><p class="muted">月度通报发布时,连续 {k} 个月满意度排名{rule}的工作人员和单位收到整改通知;逾期未办结的报县政府办公室督办。</p>{table}"#,
        k = app.result_rules.consecutive_months,
        rule = esc(&app.result_rules.bottom.describe_zh()),
    );
    console_page(&c, StatusCode::OK, "整改通知", &body)
}

/// `GET /console/orders/{id}`
pub async fn order(State(app): State<App>, c: Console, Path(raw): Path<String>) -> Response {
    if let Some(r) = gate(&c, &ORDER_ACTIONS) {
        return r;
    }
    let Ok(id) = raw.parse::<i64>() else {
        return error_page(&AppError::not_found("order_not_found", "整改通知不存在。"));
    };
    let o = match app.order(&c.who, id).await {
        Ok(o) => o,
        Err(e) => return error_page(&e),
    };
    let mut forms = String::new();
    if o.actions.contains(&"answer") {
        forms.push_str(&format!(
            r#"<form method="post" action="/console/orders/{id}/answer">{csrf}<input type="hidden" name="version" value="{v}">
<label>整改情况 <textarea name="report" required maxlength="2000" rows="5"></textarea></label><button type="submit">报送</button></form>"#,
            csrf = csrf_field(&c),
            v = o.version
        ));
    }
    if o.actions.contains(&"accept") {
        forms.push_str(&format!(
            r#"<form method="post" action="/console/orders/{id}/review">{csrf}<input type="hidden" name="version" value="{v}">
<label>审核意见 <textarea name="note" maxlength="1000" rows="3"></textarea></label>
<button type="submit" name="accept" value="true">通过,办结</button> <button type="submit" name="accept" value="false">退回重新整改</button></form>"#,
            csrf = csrf_field(&c),
            v = o.version
        ));
    }
    let field = |label: &str, v: &str| {
        if v.is_empty() { String::new() } else { format!("<dt>{}</dt><dd>{}</dd>", esc(label), esc(v)) }
    };
    let due = if o.overdue {
        format!(r#"<span class="late">{}({})</span>"#, esc(&display_deadline(o.due_at)), esc(&o.time_left))
    } else {
        format!("{}({})", esc(&display_deadline(o.due_at)), esc(&o.time_left))
    };
    let body = format!(
        r#"<h2>整改通知 · {name}</h2><dl><dt>单位</dt><dd>{org}</dd><dt>原因</dt><dd>{reason}</dd><dt>状态</dt><dd>{state}</dd><dt>整改期限</dt><dd>{due}</dd>{report}{by}{note}{closed}{escalated}</dl>{forms}"#,
        name = esc(&o.subject_name),
        org = esc(&o.org_name),
        reason = esc(&o.reason),
        state = esc(o.state_name),
        report = field("整改情况", o.report.as_deref().unwrap_or("")),
        by = field("报送人", o.reported_by.as_deref().unwrap_or("")),
        note = field("审核意见", o.review_note.as_deref().unwrap_or("")),
        closed = field(
            "办结",
            &o.closed_at
                .map(|t| format!("{} {}", o.closed_by.clone().unwrap_or_default(), display_cst(t)))
                .unwrap_or_default()
        ),
        escalated = field(
            "督办",
            &o.escalated_at.map(|t| format!("逾期未办结,{} 已报县政府办公室", display_cst(t))).unwrap_or_default()
        ),
    );
    console_page(&c, StatusCode::OK, "整改通知", &body)
}

fn form_version(form: &FormData) -> Option<i64> {
    form.get("version").parse().ok()
}

/// `POST /console/orders/{id}/answer`
pub async fn answer(
    State(app): State<App>,
    Path(raw): Path<String>,
    CsrfForm { console: c, form }: CsrfForm,
) -> Response {
    if let Some(r) = gate(&c, &[Action::ReportRectification]) {
        return r;
    }
    let Ok(id) = raw.parse::<i64>() else {
        return error_page(&AppError::not_found("order_not_found", "整改通知不存在。"));
    };
    match app.answer_order(&c.who, id, form.get("report"), form_version(&form)).await {
        Ok(_) => Redirect::to(&format!("/console/orders/{id}")).into_response(),
        Err(e) => error_page(&e),
    }
}

/// `POST /console/orders/{id}/review`
pub async fn review(
    State(app): State<App>,
    Path(raw): Path<String>,
    CsrfForm { console: c, form }: CsrfForm,
) -> Response {
    if let Some(r) = gate(&c, &[Action::ManageResults]) {
        return r;
    }
    let Ok(id) = raw.parse::<i64>() else {
        return error_page(&AppError::not_found("order_not_found", "整改通知不存在。"));
    };
    let accept = form.get("accept") == "true";
    match app.review_order(&c.who, id, accept, form.get("note"), form_version(&form)).await {
        Ok(_) => Redirect::to(&format!("/console/orders/{id}")).into_response(),
        Err(e) => error_page(&e),
    }
}

/// `GET /console/assessment`
pub async fn assessment(State(app): State<App>, c: Console, Query(q): Query<CutQuery>) -> Response {
    if let Some(r) = gate(&c, &[Action::ViewAssessment]) {
        return r;
    }
    let year = hcp_domain::calendar::business_date(app.now()).format("%Y").to_string();
    let Scope { org, period: period_raw, orgs } = match scope_of(&app, &c, &q, year).await {
        Ok(s) => s,
        Err(e) => return error_page(&e),
    };
    let by = match q.by.as_deref() {
        Some("staff") => By::Staff,
        _ => By::Unit,
    };
    let result = async {
        let period = parse_period(Some(&period_raw), q.from.as_deref(), q.to.as_deref())?;
        app.assessment(&c.who, &org, period, by).await
    }
    .await;
    let a = match result {
        Ok(a) => a,
        Err(e) => return error_page(&e),
    };
    if let Some(format) = q.format.as_deref() {
        return page_download(format, &a.file_name(), || a.table());
    }
    let mut rows = String::new();
    for l in &a.lines {
        let how = match &l.assessment.note {
            Some(n) => format!("<li>{}</li>", esc(n)),
            None => l
                .assessment
                .lines
                .iter()
                .map(|x| format!("<li>{}:{} → {:+}</li>", esc(x.item), esc(&x.basis), x.points))
                .collect::<Vec<_>>()
                .join(""),
        };
        rows.push_str(&format!(
            r#"<tr><th scope="row">{}</th><td>{}</td><td>{}</td><td><strong>{}</strong></td><td><ul class="breakdown">{how}</ul></td></tr>"#,
            esc(&l.name),
            esc(&l.context),
            l.evaluations,
            l.assessment.points.map_or("—".to_string(), |p| format!("{p:.2}")),
        ));
    }
    let query = format!("org={}&amp;period={}&amp;by={}", esc(&org), esc(&a.period_code), a.by.as_str());
    let notes = a.table().notes.join("");
    let by_unit = if by == By::Unit { " selected" } else { "" };
    let by_staff = if by == By::Staff { " selected" } else { "" };
    let body = format!(
        r#"<h2>绩效考核</h2>
<form method="get" action="/console/assessment" class="filters">{org_field}{lists}
<label>考核期 <input name="period" value="{period}" required></label>
<label>对象 <select name="by"><option value="unit"{by_unit}>单位</option><option value="staff"{by_staff}>工作人员</option></select></label>
<button type="submit">查询</button></form>
<h3>{name} · {label}</h3><p class="notice" role="note">{notes}</p>
<p><a href="/console/assessment?{query}&amp;format=xlsx">导出 Excel</a> · <a href="/console/assessment?{query}&amp;format=csv">导出 CSV</a></p>
<div class="scroll" tabindex="0"><table><thead><tr><th>名称</th><th>所属</th><th>评价数</th><th>得分(满分 {full})</th><th>计分说明</th></tr></thead><tbody>{rows}</tbody></table></div>"#,
        org_field = super::pickers::field(&orgs, super::pickers::Pick::Org, "org", "机构", &org, true),
        lists = super::pickers::datalists(&orgs),
        period = esc(&a.period_code),
        name = esc(&a.org_name),
        label = esc(&a.period_label),
        notes = esc(&notes),
        full = a.full_points,
    );
    console_page(&c, StatusCode::OK, "绩效考核", &body)
}
