//! `/console/dashboard`: the figures of an organization for a period, and four charts drawn on the server —
//! levels, the monthly trend of the good-review rate, the bad-review rate by unit, the channel mix
//! (issue 6 §4). Printable: the charts are SVG with their values written on them.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use hcp_app::App;
use hcp_app::policy::Action;
use hcp_app::stats::{By, parse_period};
use hcp_domain::Level;
use hcp_domain::calendar::display_cst;
use hcp_domain::metrics::{percent, score};
use hcp_domain::period::Period;

use super::results::{CutQuery, Scope, default_period_of, scope_of};
use maud::{Markup, html};

use super::pickers::{Pick, datalists, field};
use super::{Console, console_page, gate};
use crate::charts::{Bar, Point, bars, trend};
use crate::html::{PageResult, query};

/// Months in the trend, ending with the period's last month.
const TREND_MONTHS: usize = 12;
/// Units in the bad-rate chart (the worst first).
const UNITS_SHOWN: usize = 20;

fn share(n: u64, total: u64) -> String {
    if total == 0 { "—".into() } else { format!("{n}({:.1}%)", n as f64 * 100.0 / total as f64) }
}

/// `GET /console/dashboard`
pub async fn show(State(app): State<App>, c: Console, Query(q): Query<CutQuery>) -> PageResult {
    gate(&c, &[Action::ViewStats])?;
    let Scope { org, period: period_raw, orgs } = scope_of(&app, &c, &q, default_period_of(&app)).await?;
    let period = parse_period(Some(&period_raw), None, None)?;
    let mut months = vec![Period::month_of(period.to)];
    while months.len() < TREND_MONTHS {
        let prev = months.last().expect("one").previous();
        months.push(prev);
    }
    months.reverse();
    // The four reads side by side (the pool has connections to spare); the units' cut carries the total.
    let (total, channels, figures, counted) = tokio::try_join!(
        app.cut(&c.who, &org, period, Some(By::Unit)),
        app.cut(&c.who, &org, period, Some(By::Channel)),
        app.monthly_figures(&c.who, &org, &months),
        app.bad_review_themes(&c.who, &org, period),
    )?;
    let units = &total;
    let points: Vec<Point> = months
        .iter()
        .zip(figures)
        .map(|(m, f)| Point { label: format!("{}月", m.from.format("%-m")), value: f.good_rate })
        .collect();
    let f = &total.total;
    let level_bars: Vec<Bar> = Level::ALL
        .iter()
        .enumerate()
        .map(|(i, l)| Bar {
            label: l.name_zh().into(),
            value: f.levels[i] as f64,
            text: share(f.levels[i], f.evaluations),
            bad: l.is_bad_review(),
        })
        .collect();
    let mut unit_lines: Vec<_> = units.lines.iter().filter(|l| l.figures.bad_rate.is_some()).collect();
    unit_lines.sort_by(|a, b| b.figures.bad_rate.partial_cmp(&a.figures.bad_rate).unwrap_or(std::cmp::Ordering::Equal));
    let unit_bars: Vec<Bar> = unit_lines
        .iter()
        .take(UNITS_SHOWN)
        .map(|l| Bar {
            label: l.name.clone(),
            value: l.figures.bad_rate.unwrap_or(0.0),
            text: format!("{}({} 条差评)", percent(l.figures.bad_rate), l.figures.bad_reviews),
            bad: l.figures.bad_reviews > 0,
        })
        .collect();
    let channel_bars: Vec<Bar> = channels
        .lines
        .iter()
        .filter(|l| l.figures.evaluations > 0)
        .map(|l| Bar {
            label: l.name.clone(),
            value: l.figures.evaluations as f64,
            text: share(l.figures.evaluations, f.evaluations),
            bad: false,
        })
        .collect();
    let facts: [(&str, String); 6] = [
        (
            "评价数",
            format!(
                "{}(主动 {},默认 {},其中办理中评价 {})",
                f.evaluations, f.active_evaluations, f.default_evaluations, f.in_progress_evaluations
            ),
        ),
        ("满意度", score(f.satisfaction)),
        ("好评率", percent(f.good_rate)),
        ("差评", format!("{} 条(差评率 {})", f.bad_reviews, percent(f.bad_rate))),
        ("主动评价率", percent(f.active_rate)),
        ("差评整改率", percent(f.rectification_rate)),
    ];
    let body = html! {
        h2 { "数据看板" }
        form.filters method="get" action="/console/dashboard" {
            (field(&orgs, Pick::Org, "org", "机构", &total.org_code, true))
            (datalists(&orgs))
            label { "统计期 " input name="period" value=(total.period_code) required; }
            " " button type="submit" { "查看" }
        }
        h3 { (total.org_name) " · " (total.period_label) }
        dl.facts { @for (k, v) in &facts { dt { (k) } dd { (v) } } }
        div.charts {
            (bars("评价等级分布", &level_bars))
            (trend(&format!("近 {TREND_MONTHS} 个月好评率"), &points, false))
            (bars("各单位差评率", &unit_bars))
            (bars("评价渠道构成", &channel_bars))
        }
        p.muted { "图表由服务器生成,可直接打印;“—”表示没有可计算的数据。单位差评率显示最高的 " (UNITS_SHOWN) " 个。" }
        (themes_html(&counted.themes, &total.org_code))
        @if !counted.themes.is_empty() {
            p.muted { "差评主题统计于 " (display_cst(counted.at)) ",每 10 分钟更新;通报起草时重新统计。" }
        }
    };
    Ok(console_page(&c, StatusCode::OK, "数据看板", body))
}

/// What the month's bad reviews said, per unit and item — the annex criteria chosen, then the words the comments keep
/// using — each linking to those evaluations of the month (masked as everywhere); themes back three months
/// running are marked for the unit.
fn themes_html(themes: &[hcp_domain::themes::Theme], org: &str) -> Markup {
    use hcp_domain::themes::ThemeKind;
    let list = |kind: ThemeKind| -> Vec<(String, String, bool)> {
        themes
            .iter()
            .filter(|t| t.kind == kind)
            .map(|t| {
                // The unit's own evaluations (reports drafted before themes were per unit have none: the page's).
                let unit = if t.unit_code.is_empty() { org } else { t.unit_code.as_str() };
                let mut pairs = vec![("org", unit), ("item", t.item_code.as_str())];
                if kind == ThemeKind::Word {
                    pairs.push(("comment", t.text.as_str()));
                }
                (format!("/console/evaluations?{}", query(&pairs)), t.sentence(), t.recurring)
            })
            .collect()
    };
    let (criteria, words) = (list(ThemeKind::Criterion), list(ThemeKind::Word));
    let items = |list: &[(String, String, bool)]| {
        html! {
            ul {
                @for (href, sentence, recurring) in list {
                    li { a href=(href) { (sentence) } @if *recurring { " " strong.late { "连续三个月" } } }
                }
            }
        }
    };
    html! {
        @if !criteria.is_empty() { h3 { "本月差评反映的主要问题" } (items(&criteria)) }
        @if !words.is_empty() {
            h3 { "差评评论中的高频词" }
            p.muted { "同一事项两条以上差评评论都提到的词(中文分词)。" }
            (items(&words))
        }
    }
}
