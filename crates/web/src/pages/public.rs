//! The public portal (R10.1, R6.2): published reports, without login. Only what was published is shown, and
//! reports hold figures of units, never a person's data.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcp_app::reports::ReportView;
use hcp_app::{App, AppError};
use hcp_domain::calendar::display_cst;
use hcp_domain::metrics::{percent, score};
use serde::Deserialize;

use crate::controllers::download::page_download;
use crate::pages::layout::{error_page, esc, page};

/// The body of a report as people read it (and print it): the rule, the units in rank order, the total.
pub fn report_content(r: &ReportView) -> String {
    let b = &r.body;
    let mut rows = String::new();
    for l in &b.lines {
        let rank = esc(&hcp_app::stats::rank_label(l.rank, l.tied, l.unranked_reason.as_deref()));
        let f = &l.figures;
        rows.push_str(&format!(
            r#"<tr><td>{rank}</td><th scope="row">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            esc(&l.name),
            f.evaluations,
            score(f.satisfaction),
            percent(f.good_rate),
            f.bad_reviews,
            percent(f.bad_rate),
            percent(f.active_rate),
            percent(f.rectification_rate),
            percent(f.on_time_rate[0]),
        ));
    }
    let platforms = if b.platforms.is_empty() {
        String::new()
    } else {
        let mut rows = String::new();
        for p in &b.platforms {
            let f = &p.figures;
            rows.push_str(&format!(
                r#"<tr><th scope="row">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                esc(&p.name),
                esc(&p.context),
                f.evaluations,
                score(f.satisfaction),
                percent(f.good_rate),
                f.bad_reviews,
                percent(f.bad_rate),
            ));
        }
        format!(
            r#"<h2>按服务平台</h2><div class="scroll" tabindex="0"><table><thead><tr><th>平台</th><th>运行单位</th><th>评价数</th><th>满意度</th><th>好评率</th><th>差评数</th><th>差评率</th></tr></thead><tbody>{rows}</tbody></table></div>"#
        )
    };
    // Only the annex's criteria go public: words of comments could carry a name.
    let criteria: Vec<_> = b.themes.iter().filter(|t| t.kind == hcp_domain::themes::ThemeKind::Criterion).collect();
    let themes = if criteria.is_empty() {
        String::new()
    } else {
        let items: String = criteria
            .iter()
            .map(|t| {
                let recurring = if t.recurring { r#" <strong class="late">连续三个月</strong>"# } else { "" };
                format!("<li>{}{recurring}</li>", esc(&t.sentence()))
            })
            .collect();
        format!(r#"<h2>差评反映的主要问题</h2><ul>{items}</ul>"#)
    };
    let inspections = b.inspections.as_ref().map_or(String::new(), |s| {
        format!(
            r#"<h2>暗访评价</h2><p class="muted">县政府办公室组织的调查暗访,单独统计,不计入上表。</p><p>安排暗访 {} 次,录入暗访评价 {} 次,发现问题 {} 次(已生成整改工单)。</p>"#,
            s.planned, s.recorded, s.bad_findings
        )
    });
    let t = &b.total;
    let correction = if r.note.is_empty() {
        String::new()
    } else {
        format!("<p><strong>更正说明:</strong>{}</p>", esc(&r.note))
    };
    format!(
        r#"{correction}<p>统计期:{from} 至 {to}(北京时间)。全{org}共收到评价 {n} 条,满意度 {sat},好评率 {good},差评 {bad} 条,差评整改率 {rect}。</p>
<p class="notice" role="note"><strong>排名规则:</strong>{rule}</p>
<div class="scroll" tabindex="0"><table><thead><tr><th>名次</th><th>单位</th><th>评价数</th><th>满意度</th><th>好评率</th><th>差评数</th><th>差评率</th><th>主动评价率</th><th>差评整改率</th><th>1个工作日联系按时率</th></tr></thead><tbody>{rows}</tbody></table></div>{platforms}{themes}{inspections}"#,
        from = b.from,
        to = b.to,
        org = esc(&b.org_name),
        n = t.evaluations,
        sat = score(t.satisfaction),
        good = percent(t.good_rate),
        bad = t.bad_reviews,
        rect = percent(t.rectification_rate),
        rule = esc(&b.rule),
    )
}

/// `GET /public`: published reports, newest first.
pub async fn index(State(app): State<App>) -> Response {
    let list = match app.reports(None).await {
        Ok(l) => l,
        Err(e) => return error_page(&e),
    };
    let mut items = String::new();
    for r in &list {
        items.push_str(&format!(
            r#"<li><a href="/public/reports/{}">{}</a> <span class="muted">发布于 {}</span></li>"#,
            r.id,
            esc(&r.title()),
            r.published_at.map(display_cst).unwrap_or_default()
        ));
    }
    let list = if items.is_empty() {
        r#"<p class="notice">暂无已发布的通报。</p>"#.to_string()
    } else {
        format!("<ul>{items}</ul>")
    };
    page(
        StatusCode::OK,
        "评价结果公开",
        &format!(
            r#"<h2>评价结果公开</h2><p>政务服务“好差评”月度、季度和年度通报。</p>{list}
<h2>差评及整改情况</h2><p>每一条差评由哪个单位办理、如何整改、何时办结:<a href="/public/bad-reviews">查看差评整改公示</a></p>"#
        ),
    )
}

#[derive(Deserialize)]
pub struct PageQuery {
    pub before: Option<String>,
}

/// `GET /public/bad-reviews[?before=ID]`: every closed bad review — the problem in the annex's words, the
/// unit, how and when it was handled. Nothing that identifies the evaluator or the staff member.
pub async fn bad_reviews(State(app): State<App>, Query(q): Query<PageQuery>) -> Response {
    let before = match q.before.as_deref().map(str::parse::<i64>) {
        None => None,
        Some(Ok(b)) => Some(b),
        Some(Err(_)) => {
            return error_page(&AppError::invalid("before", "invalid_page", "翻页参数有误,请从第一页重新查看。"));
        }
    };
    let (list, next) = match app.public_bad_reviews(before).await {
        Ok(x) => x,
        Err(e) => return error_page(&e),
    };
    let mut rows = String::new();
    for r in &list {
        let problems = if r.problems.is_empty() {
            "评价人以文字说明了问题".to_string()
        } else {
            r.problems.iter().map(|p| esc(p)).collect::<Vec<_>>().join(";")
        };
        rows.push_str(&format!(
            r#"<tr><td>{on}</td><td>{item}</td><td>{level}</td><td>{problems}</td><td>{unit}</td><td>{handling}</td><td>{closed}{late}</td></tr>"#,
            on = r.evaluated_on,
            item = esc(&r.item_name),
            level = esc(r.level_name),
            unit = esc(&r.unit_name),
            handling = esc(&r.handling),
            closed = r.closed_on.map(|d| d.to_string()).unwrap_or_default(),
            late = if r.overdue { r#"<br><span class="late">超过办理时限</span>"# } else { "" },
        ));
    }
    let table = if rows.is_empty() {
        r#"<p class="notice">暂无已办结的差评。</p>"#.to_string()
    } else {
        format!(
            r#"<div class="scroll" tabindex="0"><table><thead><tr><th>评价日期</th><th>办理事项</th><th>评价</th><th>反映的问题</th><th>承办单位</th><th>整改情况</th><th>办结日期</th></tr></thead><tbody>{rows}</tbody></table></div>"#
        )
    };
    let more =
        next.map(|n| format!(r#"<p><a href="/public/bad-reviews?before={n}">更早的差评</a></p>"#)).unwrap_or_default();
    let body = format!(
        r#"<h2>差评整改公示</h2><p class="muted">已办结的差评及其整改情况,最新的在前。为保护评价人和工作人员,不公开姓名、证件、电话和评价原文。<a href="/public">返回评价结果公开</a></p>{table}{more}"#
    );
    page(StatusCode::OK, "差评整改公示", &body)
}

#[derive(Deserialize)]
pub struct FormatQuery {
    pub format: Option<String>,
}

/// `GET /public/reports/{id}[?format=xlsx]`: a published report, printable.
pub async fn report(State(app): State<App>, Path(raw): Path<String>, Query(q): Query<FormatQuery>) -> Response {
    let Ok(id) = raw.parse::<i64>() else {
        return error_page(&AppError::not_found("report_not_found", "通报不存在或尚未发布。"));
    };
    let r = match app.report(None, id).await {
        Ok(r) => r,
        Err(e) => return error_page(&e),
    };
    if let Some(format) = q.format.as_deref() {
        return page_download(format, &r.file_name(), || r.table());
    }
    let versions: Vec<ReportView> = app
        .reports(None)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|v| v.period == r.period && v.org_name == r.org_name && v.id != r.id)
        .collect();
    let newer = versions.iter().filter(|v| v.version > r.version).max_by_key(|v| v.version);
    let superseded = match newer {
        Some(n) => format!(
            r#"<p class="alert" role="alert">本通报已被更正,请以<a href="/public/reports/{}">第{}版</a>为准。</p>"#,
            n.id, n.version
        ),
        None => String::new(),
    };
    let older: String = versions
        .iter()
        .filter(|v| v.version < r.version)
        .map(|v| format!(r#" <a href="/public/reports/{}">第{}版</a>"#, v.id, v.version))
        .collect();
    let older = if older.is_empty() { String::new() } else { format!("<p class=\"muted\">此前版本:{older}</p>") };
    let body = format!(
        r#"<h2>{title}</h2>{superseded}<p class="muted">发布时间:{published}。<a href="/public/reports/{id}?format=xlsx">下载 Excel</a> · <a href="/public">全部通报</a></p>{content}{older}"#,
        title = esc(&r.title()),
        published = r.published_at.map(display_cst).unwrap_or_default(),
        content = report_content(&r),
    );
    page(StatusCode::OK, &r.title(), &body)
}
