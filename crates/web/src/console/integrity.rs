//! The county office's queue of integrity flags (issue 16 §4): what the checks found, explained; opening an
//! investigation; concluding it. Auditors see the same pages without the forms.

use super::CsrfForm;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Duration;
use hcp_app::integrity::{ConclusionInput, FlagView, parse_pattern};
use hcp_app::policy::Action;
use hcp_app::{App, AppError};
use hcp_domain::calendar::{business_date, display_cst, parse_date};
use hcp_domain::integrity::{Conclusion, Pattern};
use serde::Deserialize;

use super::{Console, console_page, csrf_field};
use crate::pages::layout::{error_page, esc};

#[derive(Deserialize)]
pub struct FlagsQuery {
    from: Option<String>,
    to: Option<String>,
    pattern: Option<String>,
}

fn state_name(state: &str) -> &'static str {
    match state {
        "open" => "待核查",
        "investigating" => "核查中",
        "concluded" => "已办结",
        _ => "",
    }
}

fn flag_id(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>().map_err(|_| AppError::not_found("flag_not_found", format!("线索“{raw}”不存在。")))
}

/// `GET /console/integrity?from=&to=&pattern=`: the last 30 days by default, strongest first.
pub async fn list(State(app): State<App>, c: Console, Query(q): Query<FlagsQuery>) -> Response {
    let today = business_date(app.now());
    let date =
        |field: &str, raw: &Option<String>, default| match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(default),
            Some(s) => parse_date(field, s).map_err(|v| AppError::Invalid(vec![v])),
        };
    let result = async {
        let from = date("from", &q.from, today - Duration::days(30))?;
        let to = date("to", &q.to, today)?;
        let pattern = parse_pattern(q.pattern.as_deref())?;
        Ok::<_, AppError>((from, to, pattern, app.integrity_flags(&c.who, from, to, pattern).await?))
    }
    .await;
    let (from, to, pattern, flags) = match result {
        Ok(r) => r,
        Err(e) => return error_page(&e),
    };
    let options: String = Pattern::ALL
        .iter()
        .map(|p| {
            let selected = if Some(*p) == pattern { " selected" } else { "" };
            format!(r#"<option value="{}"{selected}>{}</option>"#, p.as_str(), p.name_zh())
        })
        .collect();
    let rows: String = flags
        .iter()
        .map(|f| {
            format!(
                r#"<tr><td><a href="/console/integrity/{id}">{id}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{:.0}%</td><td>{}</td><td>{}</td></tr>"#,
                esc(f.pattern_name),
                esc(&f.explanation),
                esc(&f.staff_numbers.join("、")),
                f.score * 100.0,
                state_name(&f.state),
                esc(&display_cst(f.last_at)),
                id = f.id,
            )
        })
        .collect();
    let table = if flags.is_empty() {
        r#"<p class="notice" role="status">该期间没有发现线索。</p>"#.to_string()
    } else {
        format!(
            r#"<div class="scroll" tabindex="0"><table><thead><tr><th>编号</th><th>类型</th><th>说明</th><th>涉及人员</th><th>可疑程度</th><th>状态</th><th>最近评价</th></tr></thead><tbody>{rows}</tbody></table></div>"#
        )
    };
    let body = format!(
        r#"<h2>评价真实性线索</h2>
<p class="muted">系统按评价行为(谁评、何时、从哪里、多频繁)发现的可疑评价,须经人工核查后才能认定;认定为虚假好评或恶意差评的评价不计入任何统计。</p>
<form method="get" action="/console/integrity" class="filters"><label for="from">从</label> <input id="from" name="from" type="date" value="{from}">
<label for="to">到</label> <input id="to" name="to" type="date" value="{to}">
<label for="pattern">类型</label> <select id="pattern" name="pattern"><option value="">全部</option>{options}</select>
<button type="submit">筛选</button></form>{table}"#
    );
    console_page(&c, StatusCode::OK, "评价真实性线索", &body)
}

/// `GET /console/integrity/{id}`
pub async fn show(State(app): State<App>, c: Console, Path(raw): Path<String>) -> Response {
    render(&app, &c, &raw, StatusCode::OK, "").await
}

async fn render(app: &App, c: &Console, raw: &str, status: StatusCode, notice: &str) -> Response {
    let flag = match async { app.integrity_flag(&c.who, flag_id(raw)?).await }.await {
        Ok(f) => f,
        Err(e) => return error_page(&e),
    };
    let context = match app.outlier_context(&c.who, &flag).await {
        Ok(c) => c,
        Err(e) => return error_page(&e),
    };
    let body = format!("{notice}{}{}", flag_body(c, &flag), context_table(&context));
    console_page(c, status, &format!("线索 {}", flag.id), &body)
}

fn flag_body(c: &Console, f: &FlagView) -> String {
    let evaluations: String = f
        .evaluation_ids
        .iter()
        .map(|id| format!(r#"<a href="/console/evaluations/{id}">{id}</a>"#))
        .collect::<Vec<_>>()
        .join("、");
    let mut facts = vec![
        ("类型", esc(f.pattern_name)),
        ("说明", esc(&f.explanation)),
        ("可疑程度", format!("{:.0}%", f.score * 100.0)),
        ("状态", state_name(&f.state).to_string()),
        ("涉及评价", evaluations),
        ("涉及人员", esc(&f.staff_numbers.join("、"))),
        ("窗口", esc(&f.window_codes.join("、"))),
        ("评价设备", esc(&f.device_codes.join("、"))),
        ("评价时间", format!("{} 至 {}", esc(&display_cst(f.first_at)), esc(&display_cst(f.last_at)))),
    ];
    if let Some(note) = &f.investigation_note {
        facts.push(("核查说明", format!("{}({})", esc(note), esc(f.investigated_by.as_deref().unwrap_or("")))));
    }
    if let Some(conclusion) = &f.conclusion {
        let name = Conclusion::parse(conclusion).map_or("", Conclusion::name_zh);
        facts.push(("结论", format!("{name}:{}", esc(f.findings.as_deref().unwrap_or("")))));
        facts.push((
            "办结",
            format!(
                "{} {}",
                esc(f.concluded_by.as_deref().unwrap_or("")),
                f.concluded_at.map(display_cst).map(|t| esc(&t)).unwrap_or_default()
            ),
        ));
    }
    let dl: String = facts.iter().map(|(k, v)| format!("<dt>{k}</dt><dd>{v}</dd>")).collect();
    let mut forms = String::new();
    if c.who.may(Action::InvestigateIntegrity, None) {
        let csrf = csrf_field(c);
        if f.state == "open" {
            forms.push_str(&format!(
                r#"<form method="post" action="/console/integrity/{id}/investigation">{csrf}<h3>立案核查</h3>
<label for="note">核查安排</label><textarea id="note" name="note" required maxlength="500"></textarea>
<button type="submit">立案核查</button></form>"#,
                id = f.id
            ));
        }
        if f.state != "concluded" {
            let options: String = Conclusion::ALL
                .iter()
                .map(|k| format!(r#"<option value="{}">{}</option>"#, k.as_str(), k.name_zh()))
                .collect();
            let boxes: String = f
                .evaluation_ids
                .iter()
                .map(|id| format!(r#"<label><input type="checkbox" name="evaluation_ids" value="{id}" checked> 评价 {id}</label> "#))
                .collect();
            forms.push_str(&format!(
                r#"<form method="post" action="/console/integrity/{id}/conclusion">{csrf}<h3>核查结论</h3>
<label for="conclusion">结论</label> <select id="conclusion" name="conclusion" required><option value="">请选择</option>{options}</select>
<fieldset><legend>认定的评价(虚假好评、恶意差评时作废,不计入统计)</legend>{boxes}</fieldset>
<label for="findings">核查情况</label><textarea id="findings" name="findings" required maxlength="2000"></textarea>
<button type="submit">提交结论</button></form>"#,
                id = f.id
            ));
        }
    }
    // The office may check a window on the spot (调查暗访) before it concludes.
    if c.who.may(Action::PlanInspection, None) && f.state != "concluded" {
        for w in &f.window_codes {
            let q: String = form_urlencoded::Serializer::new(String::new()).append_pair("window_code", w).finish();
            forms.push_str(&format!(r#"<p><a href="/console/inspections?{q}">对窗口 {} 安排暗访</a></p>"#, esc(w)));
        }
    }
    format!(
        r#"<h2>线索 {} · {}</h2><dl>{dl}</dl>{forms}<p><a href="/console/integrity">返回线索列表</a></p>"#,
        f.id,
        esc(f.pattern_name)
    )
}

/// The flag's windows against the county, as context: not evidence, and never a finding by itself.
fn context_table(lines: &[hcp_app::integrity::OutlierContext]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let rows: String = lines
        .iter()
        .map(|l| {
            format!(
                "<tr><th scope=\"row\">{} {}</th><td>{}</td><td>{}</td><td>{:.1}%</td><td>{:.1}%</td><td>{:.1}% – {:.1}%</td><td>{}</td></tr>",
                esc(&l.window_code),
                esc(&l.window_name),
                esc(&l.period),
                l.evaluations,
                l.top_share * 100.0,
                l.county_share * 100.0,
                l.lower * 100.0,
                l.upper * 100.0,
                if l.outside { "超出" } else { "在范围内" }
            )
        })
        .collect();
    format!(
        r#"<h3>同期对比(仅供参考)</h3><p class="muted">窗口“非常满意”占比与全县的比较;按评价数计算的波动范围(漏斗图 ±3 倍标准差)内的差异可能只是偶然。对比不是认定依据。</p>
<div class="scroll" tabindex="0"><table><thead><tr><th>窗口</th><th>期间</th><th>主动评价数</th><th>非常满意占比</th><th>全县</th><th>正常波动范围</th><th>是否超出</th></tr></thead><tbody>{rows}</tbody></table></div>"#
    )
}

/// `POST /console/integrity/{id}/investigation`
pub async fn investigate(
    State(app): State<App>,
    Path(raw): Path<String>,
    CsrfForm { console: c, form }: CsrfForm,
) -> Response {
    let result = async { app.open_investigation(&c.who, flag_id(&raw)?, form.get("note")).await }.await;
    after(&app, &c, &raw, result).await
}

/// `POST /console/integrity/{id}/conclusion`
pub async fn conclude(
    State(app): State<App>,
    Path(raw): Path<String>,
    CsrfForm { console: c, form }: CsrfForm,
) -> Response {
    let ids: Vec<i64> = form.all("evaluation_ids").iter().filter_map(|s| s.parse().ok()).collect();
    let input = ConclusionInput {
        conclusion: form.get("conclusion").to_string(),
        findings: form.get("findings").to_string(),
        evaluation_ids: if ids.is_empty() { None } else { Some(ids) },
    };
    let result = async { app.conclude_flag(&c.who, flag_id(&raw)?, &input).await }.await;
    after(&app, &c, &raw, result).await
}

async fn after(app: &App, c: &Console, raw: &str, result: Result<FlagView, AppError>) -> Response {
    match result {
        Ok(f) => Redirect::to(&format!("/console/integrity/{}", f.id)).into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            let notice = crate::pages::layout::alert(&e.message(), None);
            render(app, c, raw, crate::error::status_of(&e), &notice).await
        }
        Err(e) => error_page(&e),
    }
}
