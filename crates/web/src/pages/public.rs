//! The public portal (R10.1, R6.2): published reports, without login. Only what was published is shown, and
//! reports hold figures of units, never a person's data.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use hcp_app::reports::ReportView;
use hcp_app::{App, AppError};
use hcp_domain::calendar::display_cst;
use hcp_domain::metrics::{percent, score};
use serde::Deserialize;

use crate::controllers::download::page_download;
use maud::{Markup, html};

use crate::html::{PageResult, page, table};

/// The body of a report as people read it (and print it): the rule, the units in rank order, the total.
/// What the figures rest on, stated with the report (issue 30 §4): the points per level, the fewest evaluations
/// to be ranked, and what is left out — each number the county's option, named.
fn basis(b: &hcp_app::reports::ReportBody) -> Markup {
    let levels = ["非常满意", "满意", "基本满意", "不满意", "非常不满意"];
    html! {
        p.notice role="note" {
            strong { "统计口径:" }
            "统计期 " (b.from) " 至 " (b.to) "(北京时间)。"
            @if let Some(w) = b.weights {
                "满意度按等级计分:"
                @for (i, (l, p)) in levels.iter().zip(w).enumerate() { @if i > 0 { "、" } (l) " " (p) " 分" }
                ",取平均(县级设定,参数 --level-weights)。"
            }
            @if let Some(n) = b.min_evaluations { "有效评价少于 " (n) " 条的不参与排名(参数 --ranking-min-evaluations)。" }
            "申诉成立作废的评价、经核查认定为虚假好评或恶意差评的评价不计入任何统计;7 日内未评价的按“基本满意”计入。"
        }
    }
}

pub fn report_content(r: &ReportView) -> Markup {
    let b = &r.body;
    let t = &b.total;
    // Only the annex's criteria go public: words of comments could carry a name.
    let criteria: Vec<_> = b.themes.iter().filter(|t| t.kind == hcp_domain::themes::ThemeKind::Criterion).collect();
    html! {
        @if !r.note.is_empty() { p { strong { "更正说明:" } (r.note) } }
        p {
            "统计期:" (b.from) " 至 " (b.to) "(北京时间)。全" (b.org_name) "共收到评价 " (t.evaluations)
            " 条,满意度 " (score(t.satisfaction)) ",好评率 " (percent(t.good_rate)) ",差评 " (t.bad_reviews)
            " 条,差评整改率 " (percent(t.rectification_rate)) "。"
        }
        @if let Some(issuer) = &b.issuer {
            p { "发文单位:" (issuer) @if let Some(n) = &r.number { " · 文号:" (n) } }
        }
        p.notice role="note" { strong { "排名规则:" } (b.rule) }
        (basis(b))
        div.scroll tabindex="0" {
            (table(
                &["名次", "单位", "评价数", "满意度", "好评率", "差评数", "差评率", "主动评价率", "差评整改率", "1个工作日联系按时率"],
                html! {
                    @for l in &b.lines {
                        tr {
                            td { (hcp_app::stats::rank_label(l.rank, l.tied, l.unranked_reason.as_deref())) }
                            th scope="row" { (l.name) }
                            td { (l.figures.evaluations) }
                            td { (score(l.figures.satisfaction)) }
                            td { (percent(l.figures.good_rate)) }
                            td { (l.figures.bad_reviews) }
                            td { (percent(l.figures.bad_rate)) }
                            td { (percent(l.figures.active_rate)) }
                            td { (percent(l.figures.rectification_rate)) }
                            td { (percent(l.figures.on_time_rate[0])) }
                        }
                    }
                },
            ))
        }
        @if !b.platforms.is_empty() {
            h2 { "按服务平台" }
            div.scroll tabindex="0" {
                (table(
                    &["平台", "运行单位", "评价数", "满意度", "好评率", "差评数", "差评率"],
                    html! {
                        @for p in &b.platforms {
                            tr {
                                th scope="row" { (p.name) }
                                td { (p.context) }
                                td { (p.figures.evaluations) }
                                td { (score(p.figures.satisfaction)) }
                                td { (percent(p.figures.good_rate)) }
                                td { (p.figures.bad_reviews) }
                                td { (percent(p.figures.bad_rate)) }
                            }
                        }
                    },
                ))
            }
        }
        @if !criteria.is_empty() {
            h2 { "差评反映的主要问题" }
            ul {
                @for t in &criteria {
                    li { (t.sentence()) @if t.recurring { " " strong.late { "连续三个月" } } }
                }
            }
        }
        @if let Some(s) = &b.inspections {
            h2 { "暗访评价" }
            p.muted { "县政府办公室组织的调查暗访,单独统计,不计入上表。" }
            p { "安排暗访 " (s.planned) " 次,录入暗访评价 " (s.recorded) " 次,发现问题 " (s.bad_findings) " 次(已生成整改工单)。" }
        }
    }
}

/// `GET /public`: published reports, newest first.
pub async fn index(State(app): State<App>) -> PageResult {
    let list = app.reports(None).await?;
    let body = html! {
        h2 { "评价结果公开" }
        p { "政务服务“好差评”月度、季度和年度通报。" }
        @if list.is_empty() {
            p.notice { "暂无已发布的通报。" }
        } @else {
            ul {
                @for r in &list {
                    li {
                        a href={ "/public/reports/" (r.id) } { (r.title()) }
                        " " span.muted { "发布于 " (r.published_at.map(display_cst).unwrap_or_default()) }
                    }
                }
            }
        }
        h2 { "差评及整改情况" }
        p { "每一条差评由哪个单位办理、如何整改、何时办结:" a href="/public/bad-reviews" { "查看差评整改公示" } }
    };
    Ok(page(StatusCode::OK, "评价结果公开", body))
}

#[derive(Deserialize)]
pub struct PageQuery {
    pub before: Option<String>,
}

/// `GET /public/bad-reviews[?before=ID]`: every closed bad review — the problem in the annex's words, the
/// unit, how and when it was handled. Nothing that identifies the evaluator or the staff member.
pub async fn bad_reviews(State(app): State<App>, Query(q): Query<PageQuery>) -> PageResult {
    let before = match q.before.as_deref().map(str::parse::<i64>) {
        None => None,
        Some(Ok(b)) => Some(b),
        Some(Err(_)) => {
            return Err(AppError::invalid("before", "invalid_page", "翻页参数有误,请从第一页重新查看。").into());
        }
    };
    let (list, next) = app.public_bad_reviews(before).await?;
    let body = html! {
        h2 { "差评整改公示" }
        p.muted {
            "已办结的差评及其整改情况,最新的在前。为保护评价人和工作人员,不公开姓名、证件、电话和评价原文。"
            a href="/public" { "返回评价结果公开" }
        }
        @if list.is_empty() {
            p.notice { "暂无已办结的差评。" }
        } @else {
            div.scroll tabindex="0" {
                (table(
                    &["评价日期", "办理事项", "评价", "反映的问题", "承办单位", "整改情况", "办结日期"],
                    html! {
                        @for r in &list {
                            tr {
                                td { (r.evaluated_on) }
                                td { (r.item_name) }
                                td { (r.level_name) }
                                td {
                                    @if r.problems.is_empty() { "评价人以文字说明了问题" } @else { (r.problems.join(";")) }
                                }
                                td { (r.unit_name) }
                                td { (r.handling) }
                                td {
                                    (r.closed_on.map(|d| d.to_string()).unwrap_or_default())
                                    @if r.overdue { br; span.late { "超过办理时限" } }
                                }
                            }
                        }
                    },
                ))
            }
        }
        @if let Some(n) = next { p { a href={ "/public/bad-reviews?before=" (n) } { "更早的差评" } } }
    };
    Ok(page(StatusCode::OK, "差评整改公示", body))
}

#[derive(Deserialize)]
pub struct FormatQuery {
    pub format: Option<String>,
}

/// `GET /public/reports/{id}[?format=xlsx]`: a published report, printable.
pub async fn report(State(app): State<App>, Path(raw): Path<String>, Query(q): Query<FormatQuery>) -> PageResult {
    let id = raw.parse::<i64>().map_err(|_| AppError::not_found("report_not_found", "通报不存在或尚未发布。"))?;
    let r = app.report(None, id).await?;
    if let Some(format) = q.format.as_deref() {
        return Ok(page_download(format, &r.file_name(), || r.table()));
    }
    let versions: Vec<ReportView> = app
        .reports(None)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|v| v.period == r.period && v.org_name == r.org_name && v.id != r.id)
        .collect();
    let newer = versions.iter().filter(|v| v.version > r.version).max_by_key(|v| v.version);
    let older: Vec<&ReportView> = versions.iter().filter(|v| v.version < r.version).collect();
    let body = html! {
        h2 { (r.title()) }
        @if let Some(n) = newer {
            p.alert role="alert" {
                "本通报已被更正,请以" a href={ "/public/reports/" (n.id) } { "第" (n.version) "版" } "为准。"
            }
        }
        p.muted {
            "发布时间:" (r.published_at.map(display_cst).unwrap_or_default()) "。"
            a href={ "/public/reports/" (r.id) "?format=xlsx" } { "下载 Excel" }
            " · " a href="/public" { "全部通报" }
        }
        (report_content(&r))
        @if !older.is_empty() {
            p.muted { "此前版本:" @for v in &older { " " a href={ "/public/reports/" (v.id) } { "第" (v.version) "版" } } }
        }
    };
    Ok(page(StatusCode::OK, &r.title(), body))
}
