//! Mystery-shopper visits (调查暗访, issue 16 §5) in the console: the county office's list and plan form, and
//! the inspector's page — sized for a phone, like the evaluation page: the five levels as large buttons, then
//! the annex criteria of the chosen level, findings, who served, photos.

use super::CsrfForm;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use chrono::Duration;
use hcp_app::attachments::Upload;
use hcp_app::inspections::{InspectionInput, InspectionPlan, InspectionSummary, InspectionView};
use hcp_app::policy::Action;
use hcp_app::{App, AppError};
use hcp_domain::Level;
use hcp_domain::calendar::{business_date, display_cst};
use hcp_domain::indicators::Annex;
use maud::{Markup, html};
use serde::Deserialize;

use super::upload::CsrfMultipart;
use super::{Console, FormData, console_page, csrf_field};
use crate::controllers::cases::download;
use crate::html::{PageResult, error_alert, query, table};

#[derive(Deserialize)]
pub struct ListQuery {
    from: Option<String>,
    to: Option<String>,
    /// Prefills the plan form (a flag's page links here to order a visit of its window).
    window_code: Option<String>,
}

#[derive(Deserialize)]
pub struct ShowQuery {
    level: Option<String>,
}

fn inspection_id(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>().map_err(|_| AppError::not_found("inspection_not_found", format!("暗访安排“{raw}”不存在。")))
}

/// `GET /console/inspections?from=&to=`: the visits of the period (by default the 30 days either side of
/// today), their summary, and the plan form for the county office.
pub async fn list(State(app): State<App>, c: Console, Query(q): Query<ListQuery>) -> PageResult {
    let prefill = query(&[("window_code", q.window_code.as_deref().unwrap_or(""))]);
    render_list(&app, &c, q, StatusCode::OK, html! {}, &FormData::parse(prefill.as_bytes())).await
}

async fn render_list(
    app: &App,
    c: &Console,
    q: ListQuery,
    status: StatusCode,
    notice: Markup,
    form: &FormData,
) -> PageResult {
    let today = business_date(app.now());
    let pick = |raw: Option<String>, default: chrono::NaiveDate| {
        raw.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).unwrap_or_else(|| default.to_string())
    };
    let from = pick(q.from, today - Duration::days(30));
    let to = pick(q.to, today + Duration::days(30));
    let (visits, summary) = app.inspections(&c.who, &from, &to).await?;
    let body = html! {
        (notice)
        h2 { "调查暗访" }
        p.muted {
            "暗访评价单独统计,不计入办事群众的评价;暗访发现的问题(不满意、非常不满意)生成整改工单,按“1、5、15”时限办理。"
        }
        form.filters method="get" action="/console/inspections" {
            label for="lfrom" { "从" } " " input #lfrom name="from" type="date" value=(from);
            " " label for="lto" { "到" } " " input #lto name="to" type="date" value=(to);
            " " button type="submit" { "筛选" }
        }
        (summary_html(&summary))
        @if visits.is_empty() {
            (crate::html::notice("该期间没有暗访安排。"))
        } @else {
            div.scroll tabindex="0" {
                (table(&["编号", "窗口", "暗访日期", "暗访人员", "状态", "暗访评价", "整改工单"], html! {
                    @for v in &visits {
                        tr {
                            td { a href={ "/console/inspections/" (v.id) } { (v.id) } }
                            td { (v.window_code) " " (v.window_name) }
                            td { (v.from) " 至 " (v.to) }
                            td { (v.inspector) }
                            td { (v.state_name) }
                            td { (v.evaluation.as_ref().map_or("—", |e| e.level_name)) }
                            td {
                                @match v.case_id {
                                    Some(k) => { a href={ "/console/cases/" (k) } { "工单 " (k) } }
                                    None => { "—" }
                                }
                            }
                        }
                    }
                }))
            }
        }
        @if c.who.may(Action::PlanInspection, None) {
            form.step method="post" action="/console/inspections" {
                (csrf_field(c))
                h3 { "安排暗访" }
                label for="window_code" { "窗口编码" } " "
                input #window_code name="window_code" required value=(form.get("window_code"));
                " " label for="from" { "开始日期" } " " input #from name="from" type="date" required value=(form.get("from"));
                " " label for="to" { "结束日期" } " " input #to name="to" type="date" required value=(form.get("to"));
                " " label for="inspector" { "暗访人员账号" } " "
                input #inspector name="inspector" required value=(form.get("inspector"));
                p.muted {
                    "暗访人员须为县政府办公室账号;只有本人能在安排的日期内录入一次暗访评价。被暗访的单位和窗口看不到暗访安排。"
                }
                button type="submit" { "安排暗访" }
            }
        }
    };
    Ok(console_page(c, status, "调查暗访", body))
}

/// The period's "暗访评价", apart from applicants' figures.
pub fn summary_html(s: &InspectionSummary) -> Markup {
    let mut head = vec!["安排", "已录入", "逾期未录入"];
    head.extend(Level::ALL.iter().map(|l| l.name_zh()));
    head.push("发现问题");
    html! {
        h3 { "暗访评价" }
        div.scroll tabindex="0" {
            (table(&head, html! {
                tr {
                    td { (s.planned) } td { (s.recorded) } td { (s.missed) }
                    @for l in Level::ALL { td { (s.levels.get(l.as_str()).copied().unwrap_or(0)) } }
                    td { (s.bad_findings) }
                }
            }))
        }
    }
}

/// `POST /console/inspections`: plan a visit.
pub async fn plan(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> PageResult {
    let plan = InspectionPlan {
        window_code: form.get("window_code").to_string(),
        from: form.get("from").to_string(),
        to: form.get("to").to_string(),
        inspector: form.get("inspector").to_string(),
    };
    match app.plan_inspection(&c.who, &plan).await {
        Ok(v) => Ok(Redirect::to(&format!("/console/inspections/{}", v.id)).into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            let q = ListQuery { from: None, to: None, window_code: None };
            render_list(&app, &c, q, crate::error::status_of(&e), error_alert(&e), &form).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /console/inspections/{id}?level=`: the visit; for its inspector within its dates, the form.
pub async fn show(
    State(app): State<App>,
    c: Console,
    Path(raw): Path<String>,
    Query(q): Query<ShowQuery>,
) -> PageResult {
    let level = q.level.as_deref().and_then(Level::parse);
    render(&app, &c, &raw, level, StatusCode::OK, html! {}).await
}

async fn render(
    app: &App,
    c: &Console,
    raw: &str,
    level: Option<Level>,
    status: StatusCode,
    notice: Markup,
) -> PageResult {
    let v = app.inspection(&c.who, inspection_id(raw)?).await?;
    let today = business_date(app.now()).to_string();
    let may_record =
        v.evaluation.is_none() && v.inspector == c.who.username && v.from.as_str() <= today.as_str() && today <= v.to;
    let body = html! { (notice) (facts(&v)) @if may_record { (record_form(c, &v, level)) } };
    Ok(console_page(c, status, &format!("暗访 {}", v.id), body))
}

fn facts(v: &InspectionView) -> Markup {
    let text = |k: &'static str, s: String| (k, html! { (s) });
    let mut dl = vec![
        text("窗口", format!("{} {}({})", v.window_code, v.window_name, v.org_name)),
        text("暗访日期", format!("{} 至 {}", v.from, v.to)),
        text("暗访人员", v.inspector.clone()),
        text("安排人", format!("{}({})", v.planned_by, display_cst(v.created_at))),
        text("状态", v.state_name.to_string()),
    ];
    if let Some(e) = &v.evaluation {
        dl.push(text("暗访评价", e.level_name.to_string()));
        let annex = Annex::get();
        let criteria: Vec<String> = e
            .indicator_ids
            .iter()
            .chain(&e.staff_indicator_ids)
            .map(|id| annex.text(id).map_or_else(|| id.clone(), str::to_string))
            .collect();
        if !criteria.is_empty() {
            dl.push(text("评价指标", criteria.join(";")));
        }
        if let Some(staff) = &e.staff_number {
            dl.push(text("接待人员", format!("{staff} {}", e.staff_name.as_deref().unwrap_or(""))));
        }
        dl.push(text("暗访发现", e.findings.clone()));
        if let Some(comment) = &e.comment {
            dl.push(text("意见建议", comment.clone()));
        }
        dl.push(text("录入", format!("{}({})", e.recorded_by, display_cst(e.recorded_at))));
    }
    if let Some(k) = v.case_id {
        dl.push(("整改工单", html! { a href={ "/console/cases/" (k) } { "工单 " (k) } }));
    }
    if !v.photos.is_empty() {
        let links = html! {
            @for (i, p) in v.photos.iter().enumerate() {
                @if i > 0 { "、" }
                a href={ "/console/inspections/" (v.id) "/photos/" (p.id) } { (p.file_name) }
            }
        };
        dl.push(("照片", links));
    }
    html! {
        h2 { "调查暗访 " (v.id) " · " (v.state_name) }
        dl.facts { @for (k, d) in &dl { dt { (k) } dd { (d) } } }
        p { a href="/console/inspections" { "返回暗访列表" } }
    }
}

/// The inspector's form: first the five levels (large buttons), then that level's criteria and the rest.
fn record_form(c: &Console, v: &InspectionView, level: Option<Level>) -> Markup {
    let Some(level) = level else {
        return html! {
            form method="get" action={ "/console/inspections/" (v.id) } {
                fieldset {
                    legend { "暗访评价:请选择一项" }
                    div.levels {
                        @for l in Level::ALL {
                            button type="submit" name="level" value=(l.as_str()) class=[l.is_bad_review().then_some("bad")] {
                                (l.name_zh())
                            }
                        }
                    }
                }
            }
        };
    };
    let lc = Annex::get().for_level(level);
    let check = |name: &str, id: &str, text: &str| {
        html! { label.choice { input type="checkbox" name=(name) value=(id); " " span { (text) } } }
    };
    html! {
        form.step method="post" action={ "/console/inspections/" (v.id) "/evaluations" } enctype="multipart/form-data" {
            (csrf_field(c))
            p { "暗访评价:" strong { (level.name_zh()) } " " a href={ "/console/inspections/" (v.id) } { "重新选择" } }
            input type="hidden" name="level" value=(level.as_str());
            fieldset {
                legend { "对办理事项的评价" }
                @for k in &lc.service_criteria {
                    (check("indicator_ids", &k.id, &format!("{}:{}", k.sub_dimension_name, k.text)))
                }
            }
            fieldset {
                legend { "对工作人员的评价" }
                @for k in &lc.staff_criteria { (check("staff_indicator_ids", &k.id, &k.text)) }
            }
            label for="staff_number" { "接待人员工号(选填)" } " "
            input #staff_number name="staff_number" inputmode="latin";
            label for="findings" { strong { "暗访发现" } "(必填)" }
            textarea #findings name="findings" required maxlength="2000" {}
            label for="comment" { "意见建议(选填,最多 500 字)" }
            textarea #comment name="comment" maxlength="500" {}
            label for="photos" { "照片(选填,JPG、PNG 或 PDF,每个不超过 5 MB,最多 5 个)" } " "
            input #photos name="photos" type="file" accept="image/jpeg,image/png,application/pdf" capture="environment" multiple;
            button.primary type="submit" { "提交暗访评价" }
        }
    }
}

/// `POST /console/inspections/{id}/evaluations` (multipart: fields and photos).
pub async fn record(
    State(app): State<App>,
    Path(raw): Path<String>,
    CsrfMultipart { console: c, posted }: CsrfMultipart,
) -> PageResult {
    let id = inspection_id(&raw)?;
    let posted = match posted {
        Ok(p) => p,
        Err(e) => return render(&app, &c, &raw, None, crate::error::status_of(&e), error_alert(&e)).await,
    };
    let f = &posted.form;
    let input = InspectionInput {
        level: f.get("level").to_string(),
        indicator_ids: f.all("indicator_ids"),
        staff_indicator_ids: f.all("staff_indicator_ids"),
        comment: Some(f.get("comment").to_string()),
        findings: f.get("findings").to_string(),
        staff_number: Some(f.get("staff_number").to_string()),
    };
    let level = Level::parse(f.get("level"));
    let photos: Vec<Upload> = posted.files.into_iter().map(|(_, u)| u).collect();
    match app.record_inspection(&c.who, id, &input, &photos).await {
        Ok(v) => Ok(Redirect::to(&format!("/console/inspections/{}", v.id)).into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            render(&app, &c, &raw, level, crate::error::status_of(&e), error_alert(&e)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /console/inspections/{id}/photos/{photo}`
pub async fn photo(State(app): State<App>, c: Console, Path((raw, pid)): Path<(String, String)>) -> PageResult {
    let photo_id = pid.parse::<i64>().map_err(|_| AppError::not_found("photo_not_found", "照片不存在。"))?;
    let (name, content_type, data) = app.inspection_photo(&c.who, inspection_id(&raw)?, photo_id).await?;
    Ok(download(&name, &content_type, data))
}
