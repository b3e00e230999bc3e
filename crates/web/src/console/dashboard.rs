//! `/console/dashboard`: the figures of an organization for a period, and four charts drawn on the server —
//! levels, the monthly trend of the good-review rate, the bad-review rate by unit, the channel mix
//! (issue 6 §4). Printable: the charts are SVG with their values written on them.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcp_app::policy::Action;
use hcp_app::stats::{By, parse_period};
use hcp_app::{App, AppError};
use hcp_domain::Level;
use hcp_domain::metrics::{percent, score};
use hcp_domain::period::Period;

use super::results::{CutQuery, Scope, default_period_of, gate, scope_of};
use super::{Console, console_page};
use crate::charts::{Bar, Point, bars, trend};
use crate::pages::layout::{error_page, esc};

/// Months in the trend, ending with the period's last month.
const TREND_MONTHS: usize = 12;
/// Units in the bad-rate chart (the worst first).
const UNITS_SHOWN: usize = 20;

fn share(n: u64, total: u64) -> String {
    if total == 0 { "—".into() } else { format!("{n}({:.1}%)", n as f64 * 100.0 / total as f64) }
}

/// `GET /console/dashboard`
pub async fn show(State(app): State<App>, c: Console, Query(q): Query<CutQuery>) -> Response {
    if let Some(r) = gate(&c, &[Action::ViewStats]) {
        return r;
    }
    let Scope { org, period: period_raw, orgs } = match scope_of(&app, &c, &q, default_period_of(&app)).await {
        Ok(s) => s,
        Err(e) => return error_page(&e),
    };
    let result = async {
        let period = parse_period(Some(&period_raw), None, None)?;
        let total = app.cut(&c.who, &org, period, None).await?;
        let units = app.cut(&c.who, &org, period, Some(By::Unit)).await?;
        let channels = app.cut(&c.who, &org, period, Some(By::Channel)).await?;
        let mut months = vec![Period::month_of(period.to)];
        while months.len() < TREND_MONTHS {
            let prev = months.last().expect("one").previous();
            months.push(prev);
        }
        months.reverse();
        let mut points = Vec::new();
        for m in months {
            let cut = app.cut(&c.who, &org, m, None).await?;
            points.push(Point { label: format!("{}月", m.from.format("%-m")), value: cut.total.good_rate });
        }
        Ok::<_, AppError>((total, units, channels, points))
    }
    .await;
    let (total, units, channels, points) = match result {
        Ok(x) => x,
        Err(e) => return error_page(&e),
    };
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
    let themes = match app.bad_review_themes(&c.who, &total.org_code, total.period).await {
        Ok(t) => t,
        Err(e) => return error_page(&e),
    };
    let body = format!(
        r#"<h2>数据看板</h2>
<form method="get" action="/console/dashboard" class="filters">
{org_field}{lists}
<label>统计期 <input name="period" value="{period_code}" required></label>
<button type="submit">查看</button></form>
<h3>{org} · {label}</h3>
<dl class="facts"><dt>评价数</dt><dd>{n}(主动 {active},默认 {default},其中办理中评价 {in_progress})</dd><dt>满意度</dt><dd>{satisfaction}</dd>
<dt>好评率</dt><dd>{good}</dd><dt>差评</dt><dd>{bad} 条(差评率 {bad_rate})</dd><dt>主动评价率</dt><dd>{active_rate}</dd>
<dt>差评整改率</dt><dd>{rect}</dd></dl>
<div class="charts">{c1}{c2}{c3}{c4}</div>
<p class="muted">图表由服务器生成,可直接打印;“—”表示没有可计算的数据。单位差评率显示最高的 {UNITS_SHOWN} 个。</p>{themes}"#,
        themes = themes_html(&themes, &total.org_code),
        org_field = super::pickers::field(&orgs, super::pickers::Pick::Org, "org", "机构", &total.org_code, true),
        lists = super::pickers::datalists(&orgs),
        period_code = esc(&total.period_code),
        org = esc(&total.org_name),
        label = esc(&total.period_label),
        n = f.evaluations,
        active = f.active_evaluations,
        default = f.default_evaluations,
        in_progress = f.in_progress_evaluations,
        satisfaction = score(f.satisfaction),
        good = percent(f.good_rate),
        bad = f.bad_reviews,
        bad_rate = percent(f.bad_rate),
        active_rate = percent(f.active_rate),
        rect = percent(f.rectification_rate),
        c1 = bars("评价等级分布", &level_bars),
        c2 = trend(&format!("近 {TREND_MONTHS} 个月好评率"), &points, false),
        c3 = bars("各单位差评率", &unit_bars),
        c4 = bars("评价渠道构成", &channel_bars),
    );
    console_page(&c, StatusCode::OK, "数据看板", &body)
}

/// What the month's bad reviews said, per item — the annex criteria chosen, then the words the comments keep
/// using — each linking to those evaluations of the month (masked as everywhere); themes back three months
/// running are marked for the unit.
fn themes_html(themes: &[hcp_domain::themes::Theme], org: &str) -> String {
    use hcp_domain::themes::ThemeKind;
    let list = |kind: ThemeKind| -> String {
        themes
            .iter()
            .filter(|t| t.kind == kind)
            .map(|t| {
                let mut q = form_urlencoded::Serializer::new(String::new());
                q.append_pair("org", org).append_pair("item", &t.item_code);
                if kind == ThemeKind::Word {
                    q.append_pair("comment", &t.text);
                }
                let recurring = if t.recurring { r#" <strong class="late">连续三个月</strong>"# } else { "" };
                format!(
                    r#"<li><a href="/console/evaluations?{}">{}</a>{recurring}</li>"#,
                    esc(&q.finish()),
                    esc(&t.sentence())
                )
            })
            .collect()
    };
    let (criteria, words) = (list(ThemeKind::Criterion), list(ThemeKind::Word));
    let mut out = String::new();
    if !criteria.is_empty() {
        out.push_str(&format!(r#"<h3>本月差评反映的主要问题</h3><ul>{criteria}</ul>"#));
    }
    if !words.is_empty() {
        out.push_str(&format!(
            r#"<h3>差评评论中的高频词</h3><p class="muted">同一事项两条以上差评评论都提到的词(中文分词)。</p><ul>{words}</ul>"#
        ));
    }
    out
}
