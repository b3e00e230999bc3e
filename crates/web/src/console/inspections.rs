//! Mystery-shopper visits (调查暗访, issue 16 §5) in the console: the county office's list and plan form, and
//! the inspector's page — sized for a phone, like the evaluation page: the five levels as large buttons, then
//! the annex criteria of the chosen level, findings, who served, photos.

use super::CsrfForm;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Duration;
use hcp_app::attachments::Upload;
use hcp_app::inspections::{InspectionInput, InspectionPlan, InspectionSummary, InspectionView};
use hcp_app::policy::Action;
use hcp_app::{App, AppError};
use hcp_domain::Level;
use hcp_domain::calendar::{business_date, display_cst};
use hcp_domain::indicators::Annex;
use serde::Deserialize;

use super::cases::read_multipart;
use super::{Console, FormData, console_page, csrf_field, csrf_refusal};
use crate::controllers::cases::download;
use crate::pages::layout::{alert, error_page, esc};

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
pub async fn list(State(app): State<App>, c: Console, Query(q): Query<ListQuery>) -> Response {
    let prefill: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("window_code", q.window_code.as_deref().unwrap_or(""))
        .finish();
    render_list(&app, &c, q, StatusCode::OK, "", &FormData::parse(prefill.as_bytes())).await
}

async fn render_list(
    app: &App,
    c: &Console,
    q: ListQuery,
    status: StatusCode,
    notice: &str,
    form: &FormData,
) -> Response {
    let today = business_date(app.now());
    let pick = |raw: Option<String>, default: chrono::NaiveDate| {
        raw.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).unwrap_or_else(|| default.to_string())
    };
    let from = pick(q.from, today - Duration::days(30));
    let to = pick(q.to, today + Duration::days(30));
    let (visits, summary) = match app.inspections(&c.who, &from, &to).await {
        Ok(r) => r,
        Err(e) => return error_page(&e),
    };
    let rows: String = visits
        .iter()
        .map(|v| {
            format!(
                r#"<tr><td><a href="/console/inspections/{id}">{id}</a></td><td>{window}</td><td>{from} 至 {to}</td><td>{inspector}</td><td>{state}</td><td>{level}</td><td>{case}</td></tr>"#,
                id = v.id,
                window = esc(&format!("{} {}", v.window_code, v.window_name)),
                from = esc(&v.from),
                to = esc(&v.to),
                inspector = esc(&v.inspector),
                state = esc(v.state_name),
                level = esc(v.evaluation.as_ref().map_or("—", |e| e.level_name)),
                case = v.case_id.map_or("—".to_string(), |k| format!(r#"<a href="/console/cases/{k}">工单 {k}</a>"#)),
            )
        })
        .collect();
    let table = if visits.is_empty() {
        r#"<p class="notice" role="status">该期间没有暗访安排。</p>"#.to_string()
    } else {
        format!(
            r#"<div class="scroll" tabindex="0"><table><thead><tr><th>编号</th><th>窗口</th><th>暗访日期</th><th>暗访人员</th><th>状态</th><th>暗访评价</th><th>整改工单</th></tr></thead><tbody>{rows}</tbody></table></div>"#
        )
    };
    let plan = if c.who.may(Action::PlanInspection, None) {
        format!(
            r#"<form method="post" action="/console/inspections" class="step">{csrf}<h3>安排暗访</h3>
<label for="window_code">窗口编码</label> <input id="window_code" name="window_code" required value="{window}">
<label for="from">开始日期</label> <input id="from" name="from" type="date" required value="{pfrom}">
<label for="to">结束日期</label> <input id="to" name="to" type="date" required value="{pto}">
<label for="inspector">暗访人员账号</label> <input id="inspector" name="inspector" required value="{inspector}">
<p class="muted">暗访人员须为县政府办公室账号;只有本人能在安排的日期内录入一次暗访评价。被暗访的单位和窗口看不到暗访安排。</p>
<button type="submit">安排暗访</button></form>"#,
            csrf = csrf_field(c),
            window = esc(form.get("window_code")),
            pfrom = esc(form.get("from")),
            pto = esc(form.get("to")),
            inspector = esc(form.get("inspector")),
        )
    } else {
        String::new()
    };
    let body = format!(
        r#"{notice}<h2>调查暗访</h2>
<p class="muted">暗访评价单独统计,不计入办事群众的评价;暗访发现的问题(不满意、非常不满意)生成整改工单,按“1、5、15”时限办理。</p>
<form method="get" action="/console/inspections" class="filters"><label for="lfrom">从</label> <input id="lfrom" name="from" type="date" value="{from}">
<label for="lto">到</label> <input id="lto" name="to" type="date" value="{to}"> <button type="submit">筛选</button></form>
{summary}{table}{plan}"#,
        from = esc(&from),
        to = esc(&to),
        summary = summary_html(&summary),
    );
    console_page(c, status, "调查暗访", &body)
}

/// The period's "暗访评价", apart from applicants' figures.
pub fn summary_html(s: &InspectionSummary) -> String {
    let levels: String =
        Level::ALL.iter().map(|l| format!("<td>{}</td>", s.levels.get(l.as_str()).copied().unwrap_or(0))).collect();
    let heads: String = Level::ALL.iter().map(|l| format!("<th>{}</th>", esc(l.name_zh()))).collect();
    format!(
        r#"<h3>暗访评价</h3><div class="scroll" tabindex="0"><table><thead><tr><th>安排</th><th>已录入</th><th>逾期未录入</th>{heads}<th>发现问题</th></tr></thead>
<tbody><tr><td>{}</td><td>{}</td><td>{}</td>{levels}<td>{}</td></tr></tbody></table></div>"#,
        s.planned, s.recorded, s.missed, s.bad_findings
    )
}

/// `POST /console/inspections`: plan a visit.
pub async fn plan(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> Response {
    let plan = InspectionPlan {
        window_code: form.get("window_code").to_string(),
        from: form.get("from").to_string(),
        to: form.get("to").to_string(),
        inspector: form.get("inspector").to_string(),
    };
    match app.plan_inspection(&c.who, &plan).await {
        Ok(v) => Redirect::to(&format!("/console/inspections/{}", v.id)).into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            let notice = alert(&e.message(), None);
            let q = ListQuery { from: None, to: None, window_code: None };
            render_list(&app, &c, q, crate::error::status_of(&e), &notice, &form).await
        }
        Err(e) => error_page(&e),
    }
}

/// `GET /console/inspections/{id}?level=`: the visit; for its inspector within its dates, the form.
pub async fn show(State(app): State<App>, c: Console, Path(raw): Path<String>, Query(q): Query<ShowQuery>) -> Response {
    let level = q.level.as_deref().and_then(Level::parse);
    render(&app, &c, &raw, level, StatusCode::OK, "").await
}

async fn render(app: &App, c: &Console, raw: &str, level: Option<Level>, status: StatusCode, notice: &str) -> Response {
    let v = match async { app.inspection(&c.who, inspection_id(raw)?).await }.await {
        Ok(v) => v,
        Err(e) => return error_page(&e),
    };
    let today = business_date(app.now()).to_string();
    let may_record =
        v.evaluation.is_none() && v.inspector == c.who.username && v.from.as_str() <= today.as_str() && today <= v.to;
    let form = if may_record { record_form(c, &v, level) } else { String::new() };
    let body = format!("{notice}{}{form}", facts(&v));
    console_page(c, status, &format!("暗访 {}", v.id), &body)
}

fn facts(v: &InspectionView) -> String {
    let mut dl = vec![
        ("窗口", esc(&format!("{} {}({})", v.window_code, v.window_name, v.org_name))),
        ("暗访日期", esc(&format!("{} 至 {}", v.from, v.to))),
        ("暗访人员", esc(&v.inspector)),
        ("安排人", format!("{}({})", esc(&v.planned_by), esc(&display_cst(v.created_at)))),
        ("状态", esc(v.state_name)),
    ];
    if let Some(e) = &v.evaluation {
        dl.push(("暗访评价", esc(e.level_name)));
        let annex = Annex::get();
        let criteria: Vec<String> = e
            .indicator_ids
            .iter()
            .chain(&e.staff_indicator_ids)
            .map(|id| annex.text(id).map_or_else(|| id.clone(), str::to_string))
            .collect();
        if !criteria.is_empty() {
            dl.push(("评价指标", esc(&criteria.join(";"))));
        }
        if let Some(staff) = &e.staff_number {
            dl.push(("接待人员", esc(&format!("{staff} {}", e.staff_name.as_deref().unwrap_or("")))));
        }
        dl.push(("暗访发现", esc(&e.findings)));
        if let Some(comment) = &e.comment {
            dl.push(("意见建议", esc(comment)));
        }
        dl.push(("录入", format!("{}({})", esc(&e.recorded_by), esc(&display_cst(e.recorded_at)))));
    }
    if let Some(k) = v.case_id {
        dl.push(("整改工单", format!(r#"<a href="/console/cases/{k}">工单 {k}</a>"#)));
    }
    if !v.photos.is_empty() {
        let links: String = v
            .photos
            .iter()
            .map(|p| format!(r#"<a href="/console/inspections/{}/photos/{}">{}</a>"#, v.id, p.id, esc(&p.file_name)))
            .collect::<Vec<_>>()
            .join("、");
        dl.push(("照片", links));
    }
    let dl: String = dl.iter().map(|(k, v)| format!("<dt>{k}</dt><dd>{v}</dd>")).collect();
    format!(
        r#"<h2>调查暗访 {} · {}</h2><dl class="facts">{dl}</dl><p><a href="/console/inspections">返回暗访列表</a></p>"#,
        v.id,
        esc(v.state_name)
    )
}

/// The inspector's form: first the five levels (large buttons), then that level's criteria and the rest.
fn record_form(c: &Console, v: &InspectionView, level: Option<Level>) -> String {
    let Some(level) = level else {
        let buttons: String = Level::ALL
            .iter()
            .map(|l| {
                format!(
                    r#"<button type="submit" name="level" value="{}"{}>{}</button>"#,
                    l.as_str(),
                    if l.is_bad_review() { r#" class="bad""# } else { "" },
                    esc(l.name_zh())
                )
            })
            .collect();
        return format!(
            r#"<form method="get" action="/console/inspections/{id}"><fieldset><legend>暗访评价:请选择一项</legend>
<div class="levels">{buttons}</div></fieldset></form>"#,
            id = v.id
        );
    };
    let lc = Annex::get().for_level(level);
    let check = |name: &str, id: &str, text: &str| {
        format!(
            r#"<label class="choice"><input type="checkbox" name="{name}" value="{id}"> <span>{text}</span></label>"#,
            id = esc(id),
            text = esc(text)
        )
    };
    let service: String = lc
        .service_criteria
        .iter()
        .map(|k| check("indicator_ids", &k.id, &format!("{}:{}", k.sub_dimension_name, k.text)))
        .collect();
    let staff: String = lc.staff_criteria.iter().map(|k| check("staff_indicator_ids", &k.id, &k.text)).collect();
    format!(
        r#"<form method="post" action="/console/inspections/{id}/evaluations" enctype="multipart/form-data" class="step">{csrf}
<p>暗访评价:<strong>{name}</strong> <a href="/console/inspections/{id}">重新选择</a></p>
<input type="hidden" name="level" value="{code}">
<fieldset><legend>对办理事项的评价</legend>{service}</fieldset>
<fieldset><legend>对工作人员的评价</legend>{staff}</fieldset>
<label for="staff_number">接待人员工号(选填)</label> <input id="staff_number" name="staff_number" inputmode="latin">
<label for="findings"><strong>暗访发现</strong>(必填)</label><textarea id="findings" name="findings" required maxlength="2000"></textarea>
<label for="comment">意见建议(选填,最多 500 字)</label><textarea id="comment" name="comment" maxlength="500"></textarea>
<label for="photos">照片(选填,JPG、PNG 或 PDF,每个不超过 5 MB,最多 5 个)</label> <input id="photos" name="photos" type="file" accept="image/jpeg,image/png,application/pdf" capture="environment" multiple>
<button type="submit" class="primary">提交暗访评价</button>
</form>"#,
        id = v.id,
        csrf = csrf_field(c),
        name = esc(level.name_zh()),
        code = level.as_str(),
    )
}

/// `POST /console/inspections/{id}/evaluations` (multipart: fields and photos).
pub async fn record(
    State(app): State<App>,
    c: Console,
    Path(raw): Path<String>,
    m: Result<Multipart, MultipartRejection>,
) -> Response {
    let id = match inspection_id(&raw) {
        Ok(id) => id,
        Err(e) => return error_page(&e),
    };
    let posted = match read_multipart(m).await {
        Ok(p) => p,
        Err(e) => return render(&app, &c, &raw, None, crate::error::status_of(&e), &alert(&e.message(), None)).await,
    };
    if let Some(r) = csrf_refusal(&c, &posted.form) {
        return r;
    }
    let f = &posted.form;
    let input = InspectionInput {
        level: f.get("level").to_string(),
        indicator_ids: f.all("indicator_ids"),
        staff_indicator_ids: f.all("staff_indicator_ids"),
        comment: Some(f.get("comment").to_string()),
        findings: f.get("findings").to_string(),
        staff_number: Some(f.get("staff_number").to_string()),
    };
    let photos: Vec<Upload> = posted.files.into_iter().map(|(_, u)| u).collect();
    match app.record_inspection(&c.who, id, &input, &photos).await {
        Ok(v) => Redirect::to(&format!("/console/inspections/{}", v.id)).into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            let level = Level::parse(f.get("level"));
            render(&app, &c, &raw, level, crate::error::status_of(&e), &alert(&e.message(), None)).await
        }
        Err(e) => error_page(&e),
    }
}

/// `GET /console/inspections/{id}/photos/{photo}`
pub async fn photo(State(app): State<App>, c: Console, Path((raw, pid)): Path<(String, String)>) -> Response {
    let result = async {
        let photo_id = pid.parse::<i64>().map_err(|_| AppError::not_found("photo_not_found", "照片不存在。"))?;
        app.inspection_photo(&c.who, inspection_id(&raw)?, photo_id).await
    }
    .await;
    match result {
        Ok((name, content_type, data)) => download(&name, &content_type, data),
        Err(e) => error_page(&e),
    }
}
