//! The county office's queue of integrity flags (issue 16 §4): what the checks found, explained; opening an
//! investigation; concluding it. Auditors see the same pages without the forms.

use super::CsrfForm;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use chrono::Duration;
use hcp_app::integrity::{ConclusionInput, FlagView, parse_pattern};
use hcp_app::policy::Action;
use hcp_app::{App, AppError};
use hcp_domain::calendar::{business_date, display_cst, parse_date};
use hcp_domain::integrity::{Conclusion, Pattern};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Console, console_page, csrf_field};
use crate::html::{PageResult, error_alert, notice, options, query, table};

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
        "proposed" => "结论待确认",
        "concluded" => "已办结",
        _ => "",
    }
}

fn flag_id(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>().map_err(|_| AppError::not_found("flag_not_found", format!("线索“{raw}”不存在。")))
}

/// `GET /console/integrity?from=&to=&pattern=`: the last 30 days by default, strongest first.
pub async fn list(State(app): State<App>, c: Console, Query(q): Query<FlagsQuery>) -> PageResult {
    let today = business_date(app.now());
    let date =
        |field: &str, raw: &Option<String>, default| match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(default),
            Some(s) => parse_date(field, s).map_err(|v| AppError::Invalid(vec![v])),
        };
    let from = date("from", &q.from, today - Duration::days(30))?;
    let to = date("to", &q.to, today)?;
    let pattern = parse_pattern(q.pattern.as_deref())?;
    let flags = app.integrity_flags(&c.who, from, to, pattern).await?;
    let body = html! {
        h2 { "评价真实性线索" }
        p.muted {
            "系统按评价行为(谁评、何时、从哪里、多频繁)发现的可疑评价,须经人工核查后才能认定;认定为虚假好评或恶意差评的评价不计入任何统计。"
        }
        form.filters method="get" action="/console/integrity" {
            label for="from" { "从" } " " input #from name="from" type="date" value=(from);
            " " label for="to" { "到" } " " input #to name="to" type="date" value=(to);
            " " label for="pattern" { "类型" } " "
            select #pattern name="pattern" {
                option value="" { "全部" }
                (options(Pattern::ALL, pattern, Pattern::as_str, Pattern::name_zh))
            }
            " " button type="submit" { "筛选" }
        }
        @if flags.is_empty() {
            (notice("该期间没有发现线索。"))
        } @else {
            div.scroll tabindex="0" {
                (table(&["编号", "类型", "说明", "涉及人员", "可疑程度", "状态", "最近评价"], html! {
                    @for f in &flags {
                        tr {
                            td { a href={ "/console/integrity/" (f.id) } { (f.id) } }
                            td { (f.pattern_name) }
                            td { (f.explanation) }
                            td { (f.staff_numbers.join("、")) }
                            td { (format!("{:.0}%", f.score * 100.0)) }
                            td { (state_name(&f.state)) }
                            td { (display_cst(f.last_at)) }
                        }
                    }
                }))
            }
        }
    };
    Ok(console_page(&c, StatusCode::OK, "评价真实性线索", body))
}

/// `GET /console/integrity/{id}`
pub async fn show(State(app): State<App>, c: Console, Path(raw): Path<String>) -> PageResult {
    render(&app, &c, &raw, StatusCode::OK, html! {}).await
}

async fn render(app: &App, c: &Console, raw: &str, status: StatusCode, notice: Markup) -> PageResult {
    let flag = app.integrity_flag(&c.who, flag_id(raw)?).await?;
    let context = app.outlier_context(&c.who, &flag).await?;
    let body = html! { (notice) (flag_body(c, &flag)) (context_table(&context)) };
    Ok(console_page(c, status, &format!("线索 {}", flag.id), body))
}

fn flag_body(c: &Console, f: &FlagView) -> Markup {
    let text = |k: &'static str, v: String| (k, html! { (v) });
    let mut facts = vec![
        text("类型", f.pattern_name.to_string()),
        text("说明", f.explanation.clone()),
        text("可疑程度", format!("{:.0}%", f.score * 100.0)),
        text("状态", state_name(&f.state).to_string()),
        (
            "涉及评价",
            html! {
                @for (i, id) in f.evaluation_ids.iter().enumerate() {
                    @if i > 0 { "、" }
                    a href={ "/console/evaluations/" (id) } { (id) }
                }
            },
        ),
        text("涉及人员", f.staff_numbers.join("、")),
        text("窗口", f.window_codes.join("、")),
        text("评价设备", f.device_codes.join("、")),
        text("评价时间", format!("{} 至 {}", display_cst(f.first_at), display_cst(f.last_at))),
    ];
    if let Some(note) = &f.investigation_note {
        facts.push(text("核查说明", format!("{}({})", note, f.investigated_by.as_deref().unwrap_or(""))));
    }
    if let Some(p) = f.proposal.as_ref().filter(|_| f.state == "proposed") {
        let name = Conclusion::parse(&p.conclusion).map_or("", Conclusion::name_zh);
        facts.push(text("待确认结论", format!("{name}:{}", p.findings)));
        facts.push(text("拟作废评价", p.evaluation_ids.iter().map(i64::to_string).collect::<Vec<_>>().join("、")));
        facts.push(text("提出", format!("{} {}", p.proposed_by, display_cst(p.proposed_at))));
    }
    if let Some(conclusion) = &f.conclusion {
        let name = Conclusion::parse(conclusion).map_or("", Conclusion::name_zh);
        facts.push(text("结论", format!("{name}:{}", f.findings.as_deref().unwrap_or(""))));
        facts.push(text(
            "办结",
            format!(
                "{} {}",
                f.concluded_by.as_deref().unwrap_or(""),
                f.concluded_at.map(display_cst).unwrap_or_default()
            ),
        ));
        if let Some(by) = &f.confirmed_by {
            facts.push(text("确认", by.clone()));
        }
    }
    let may_investigate = c.who.may(Action::InvestigateIntegrity, None);
    let proposer = f.proposal.as_ref().filter(|_| f.state == "proposed").map(|p| p.proposed_by.as_str());
    let may_confirm = c.who.may(Action::ConfirmIntegrity, None) && proposer.is_some_and(|p| p != c.who.username);
    html! {
        h2 { "线索 " (f.id) " · " (f.pattern_name) }
        dl { @for (k, v) in &facts { dt { (k) } dd { (v) } } }
        @if may_investigate && f.state == "open" {
            form method="post" action={ "/console/integrity/" (f.id) "/investigation" } {
                (csrf_field(c))
                h3 { "立案核查" }
                label for="note" { "核查安排" }
                textarea #note name="note" required maxlength="500" {}
                button type="submit" { "立案核查" }
            }
        }
        @if proposer.is_some() && !may_confirm {
            p.muted { "“虚假好评”“恶意差评”的结论须由另一名县政务服务管理办公室人员或审计员确认后生效,生效前相关评价照常计入。" }
        }
        @if may_confirm {
            form method="post" action={ "/console/integrity/" (f.id) "/confirmation" } {
                (csrf_field(c))
                h3 { "确认核查结论" }
                p { "确认后,上列评价作废,不再计入统计和排名,并报送上级平台;退回则回到核查中。" }
                label for="confirm_note" { "确认意见(退回时必填)" }
                textarea #confirm_note name="note" maxlength="500" {}
                button.primary type="submit" name="confirm" value="true" { "确认结论" } " "
                button type="submit" name="confirm" value="false" { "退回" }
            }
        }
        @if may_investigate && f.state == "investigating" {
            form method="post" action={ "/console/integrity/" (f.id) "/conclusion" } {
                (csrf_field(c))
                h3 { "核查结论" }
                label for="conclusion" { "结论" } " "
                select #conclusion name="conclusion" required {
                    option value="" { "请选择" }
                    (options(Conclusion::ALL, None, Conclusion::as_str, Conclusion::name_zh))
                }
                fieldset {
                    legend { "认定的评价(虚假好评、恶意差评时作废,不计入统计)" }
                    @for id in &f.evaluation_ids {
                        label { input type="checkbox" name="evaluation_ids" value=(id) checked; " 评价 " (id) } " "
                    }
                }
                label for="findings" { "核查情况" }
                textarea #findings name="findings" required maxlength="2000" {}
                p.muted { "“虚假好评”“恶意差评”须由另一名人员确认后生效。" }
                button type="submit" { "提交结论" }
            }
        }
        // The office may check a window on the spot (调查暗访) before it concludes.
        @if c.who.may(Action::PlanInspection, None) && f.state != "concluded" {
            @for w in &f.window_codes {
                p { a href={ "/console/inspections?" (query(&[("window_code", w)])) } { "对窗口 " (w) " 安排暗访" } }
            }
        }
        (super::referrals::refer_link(c, "flag", f.id))
        p { a href="/console/integrity" { "返回线索列表" } }
    }
}

/// The flag's windows against the county, as context: not evidence, and never a finding by itself.
fn context_table(lines: &[hcp_app::integrity::OutlierContext]) -> Markup {
    if lines.is_empty() {
        return html! {};
    }
    html! {
        h3 { "同期对比(仅供参考)" }
        p.muted {
            "窗口“非常满意”占比与全县的比较;按评价数计算的波动范围(漏斗图 ±3 倍标准差)内的差异可能只是偶然。对比不是认定依据。"
        }
        div.scroll tabindex="0" {
            (table(&["窗口", "期间", "主动评价数", "非常满意占比", "全县", "正常波动范围", "是否超出"], html! {
                @for l in lines {
                    tr {
                        th scope="row" { (l.window_code) " " (l.window_name) }
                        td { (l.period) }
                        td { (l.evaluations) }
                        td { (format!("{:.1}%", l.top_share * 100.0)) }
                        td { (format!("{:.1}%", l.county_share * 100.0)) }
                        td { (format!("{:.1}% – {:.1}%", l.lower * 100.0, l.upper * 100.0)) }
                        td { @if l.outside { "超出" } @else { "在范围内" } }
                    }
                }
            }))
        }
    }
}

/// `POST /console/integrity/{id}/investigation`
pub async fn investigate(
    State(app): State<App>,
    Path(raw): Path<String>,
    CsrfForm { console: c, form }: CsrfForm,
) -> PageResult {
    let result = async { app.open_investigation(&c.who, flag_id(&raw)?, form.get("note")).await }.await;
    after(&app, &c, &raw, result).await
}

/// `POST /console/integrity/{id}/conclusion`
pub async fn conclude(
    State(app): State<App>,
    Path(raw): Path<String>,
    CsrfForm { console: c, form }: CsrfForm,
) -> PageResult {
    let ids: Vec<i64> = form.all("evaluation_ids").iter().filter_map(|s| s.parse().ok()).collect();
    let input = ConclusionInput {
        conclusion: form.get("conclusion").to_string(),
        findings: form.get("findings").to_string(),
        evaluation_ids: if ids.is_empty() { None } else { Some(ids) },
    };
    let result = async { app.conclude_flag(&c.who, flag_id(&raw)?, &input).await }.await;
    after(&app, &c, &raw, result).await
}

/// `POST /console/integrity/{id}/confirmation`
pub async fn confirm(
    State(app): State<App>,
    Path(raw): Path<String>,
    CsrfForm { console: c, form }: CsrfForm,
) -> PageResult {
    let confirm = form.get("confirm") == "true";
    let note = Some(form.get("note"));
    let result = async { app.confirm_conclusion(&c.who, flag_id(&raw)?, confirm, note).await }.await;
    after(&app, &c, &raw, result).await
}

async fn after(app: &App, c: &Console, raw: &str, result: Result<FlagView, AppError>) -> PageResult {
    match result {
        Ok(f) => Ok(Redirect::to(&format!("/console/integrity/{}", f.id)).into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            render(app, c, raw, crate::error::status_of(&e), error_alert(&e)).await
        }
        Err(e) => Err(e.into()),
    }
}
