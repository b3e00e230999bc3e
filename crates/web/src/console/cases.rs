//! Case inboxes and the case page (issue 5 §8): each role sees what waits for it, due dates with the working
//! time left (overdue in red), the history, notifications, and a form for each step it may take now.

use super::CsrfForm;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hcp_app::attachments::Upload;
use hcp_app::cases::{CaseDetail, CaseView, Inbox, StepInput};
use hcp_app::{App, AppError};
use hcp_domain::calendar::{display_cst, display_deadline};
use hcp_domain::case::CaseState;
use serde::Deserialize;

use super::{Console, FormData, console_page, csrf_field, csrf_refusal};
use crate::pages::layout::{error_page, esc};

#[derive(Deserialize)]
pub struct InboxQuery {
    #[serde(default)]
    inbox: Option<String>,
    #[serde(default)]
    page: Option<i64>,
}

fn due_cell(app: &App, due: Option<chrono::DateTime<chrono::Utc>>, missed: bool) -> String {
    match due {
        None => "—".into(),
        Some(d) => {
            let left = app.time_left_zh(d);
            let late = missed || left.starts_with("已逾期");
            format!(
                r#"<span class="{}">{}<br><small>{}</small></span>"#,
                if late { "late" } else { "" },
                esc(&display_deadline(d)),
                esc(&left)
            )
        }
    }
}

/// Closed (handled or appealed), by the state machine's own rule.
fn is_closed(c: &CaseView) -> bool {
    CaseState::parse(c.state).is_some_and(CaseState::is_closed)
}

fn case_row(app: &App, c: &CaseView) -> String {
    let open = !is_closed(c);
    let (contact, handling) = if open && c.state != "unassigned" {
        (
            if c.state == "assigned" { due_cell(app, c.contact_due_at, c.contact_missed) } else { "已联系".into() },
            if matches!(c.state, "assigned" | "contacted" | "rectifying") {
                due_cell(app, c.handling_due_at, c.handling_missed)
            } else {
                "已办理".into()
            },
        )
    } else {
        ("—".into(), "—".into())
    };
    format!(
        r#"<tr{cls}><td><a href="/console/cases/{id}">{id}</a></td><td>{state}{overdue}</td><td>{record}<br><small>{item}</small></td><td>{unit}</td><td>{level}</td><td>{contact}</td><td>{handling}</td></tr>"#,
        cls = if c.overdue { r#" class="overdue""# } else { "" },
        id = c.id,
        state = esc(c.state_name),
        overdue = if c.overdue { r#" <strong class="late">逾期</strong>"# } else { "" },
        record = esc(&c.record_number),
        item = esc(&c.item_name),
        unit = esc(c.unit_name.as_deref().unwrap_or("(待交办)")),
        level = esc(c.level_name),
    )
}

/// `GET /console/cases?inbox=mine|overdue|all`
pub async fn inbox(State(app): State<App>, c: Console, Query(q): Query<InboxQuery>) -> Response {
    let inbox = match q.inbox.as_deref() {
        Some("overdue") => Inbox::Overdue,
        Some("all") => Inbox::All,
        _ => Inbox::Mine,
    };
    let page = q.page.unwrap_or(0).max(0);
    let cases = match app.case_inbox(&c.who, inbox, page).await {
        Ok(v) => v,
        Err(e) => return error_page(&e),
    };
    let tab = |i: Inbox, key: &str, name: &str| {
        if i == inbox {
            format!("<strong>{name}</strong>")
        } else {
            format!(r#"<a href="/console/cases?inbox={key}">{name}</a>"#)
        }
    };
    let rows: String = cases.iter().map(|x| case_row(&app, x)).collect();
    let table = if cases.is_empty() {
        r#"<p class="notice" role="status">没有工单。</p>"#.to_string()
    } else {
        format!(
            r#"<table><thead><tr><th>工单</th><th>状态</th><th>办件</th><th>承办单位</th><th>评价</th><th>联系期限(1)</th><th>整改期限(5/15)</th></tr></thead><tbody>{rows}</tbody></table>"#
        )
    };
    let key = match inbox {
        Inbox::Mine => "mine",
        Inbox::Overdue => "overdue",
        Inbox::All => "all",
    };
    let more = if cases.len() == 50 {
        format!(r#"<p><a href="/console/cases?inbox={key}&page={}">下一页</a></p>"#, page + 1)
    } else {
        String::new()
    };
    let body = format!(
        r#"<h2>差评工单</h2><p>{} · {} · {}</p>{table}{more}"#,
        tab(Inbox::Mine, "mine", "待我办理"),
        tab(Inbox::Overdue, "overdue", "逾期"),
        tab(Inbox::All, "all", "全部"),
    );
    console_page(&c, StatusCode::OK, "差评工单", &body)
}

fn case_id(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>().map_err(|_| AppError::not_found("case_not_found", format!("工单“{raw}”不存在。")))
}

/// `GET /console/cases/{id}`
pub async fn show(State(app): State<App>, c: Console, Path(raw): Path<String>) -> Response {
    let id = match case_id(&raw) {
        Ok(id) => id,
        Err(e) => return error_page(&e),
    };
    render(&app, &c, id, StatusCode::OK, "").await
}

async fn render(app: &App, c: &Console, id: i64, status: StatusCode, alert: &str) -> Response {
    let d = match app.case_detail(&c.who, id).await {
        Ok(d) => d,
        Err(e) => return error_page(&e),
    };
    let appeal = app.appeal_of_case(&c.who, d.case.id).await.ok().flatten();
    let body = detail_html(app, c, &d, appeal.as_ref(), alert);
    console_page(c, status, &format!("工单 {id}"), &body)
}

/// A case's steps, oldest first, with each deadline met or missed.
pub fn history_table(steps: &[hcp_app::cases::StepView]) -> String {
    let mut s = String::from(
        "<h2>办理记录</h2><table><thead><tr><th>时间</th><th>轮次</th><th>步骤</th><th>办理人</th><th>内容</th><th>期限</th></tr></thead><tbody>",
    );
    for st in steps {
        let due = match (st.due_at, st.on_time) {
            (Some(due), Some(true)) => format!("{}(按期)", display_deadline(due)),
            (Some(due), Some(false)) => format!(r#"<span class="late">{}(超期)</span>"#, esc(&display_deadline(due))),
            (Some(due), None) => format!(r#"<span class="late">{}</span>"#, esc(&display_deadline(due))),
            _ => String::new(),
        };
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&display_cst(st.at)),
            st.round,
            esc(st.name),
            esc(&st.actor),
            esc(&st.text),
            due
        ));
    }
    s.push_str("</tbody></table>");
    s
}

fn detail_html(
    app: &App,
    c: &Console,
    d: &CaseDetail,
    appeal: Option<&hcp_app::appeals::AppealView>,
    alert: &str,
) -> String {
    let k = &d.case;
    let mut s = format!(
        r#"{alert}<h2>差评工单 {id}:{state}{overdue}</h2>
<dl class="facts"><dt>办件</dt><dd>{record} {item}</dd>
<dt>办件单位</dt><dd>{org}</dd><dt>承办单位</dt><dd>{unit}</dd><dt>工作人员</dt><dd>{staff}</dd>
<dt>评价</dt><dd>{level}({evaluated})</dd><dt>评价意见</dt><dd>{comment}</dd>
<dt>办理轮次</dt><dd>第 {round} 轮{provisional}</dd>
<dt>联系评价人</dt><dd>{contact}</dd><dt>整改反馈(5 个工作日)</dt><dd>{rectify}</dd>
<dt>回复解决方案(15 个工作日)</dt><dd>{reply}</dd></dl>"#,
        alert = alert,
        id = k.id,
        state = esc(k.state_name),
        overdue = if k.overdue { r#" <strong class="late">逾期</strong>"# } else { "" },
        // A visit's page is the county office's (the visit was unannounced); the unit sees the findings here.
        record = match (k.service_record_id, k.inspection_id) {
            (Some(r), _) => format!(r#"<a href="/console/records/{r}">{}</a>"#, esc(&k.record_number)),
            (None, Some(i)) if c.who.may(hcp_app::policy::Action::ViewInspections, None) => {
                format!(r#"<a href="/console/inspections/{i}">{}</a>"#, esc(&k.record_number))
            }
            _ => esc(&k.record_number),
        },
        item = esc(&k.item_name),
        org = esc(&k.org_name),
        unit = esc(k.unit_name.as_deref().unwrap_or("(待交办)")),
        staff = esc(k.staff_name.as_deref().unwrap_or("—")),
        level = esc(k.level_name),
        evaluated = esc(&display_cst(k.evaluated_at)),
        comment = esc(k.comment.as_deref().unwrap_or("—")),
        round = k.round,
        provisional = if k.deadlines_provisional { "(次年节假日安排未公布,期限为暂定)" } else { "" },
        contact = due_cell(app, k.contact_due_at, k.contact_missed),
        rectify = due_cell(app, k.rectify_due_at, k.handling_missed && !k.long_term),
        reply = due_cell(app, k.reply_due_at, k.handling_missed && k.long_term),
    );
    if let Some(a) = appeal {
        s.push_str(&format!(
            r#"<p class="notice">申诉:<a href="/console/appeals/{}">{}</a></p>"#,
            a.id,
            esc(a.state_name)
        ));
    }
    if let Some(e) = &d.second_evaluation {
        s.push_str(&format!(
            r#"<p class="notice">评价人对整改结果的二次评价:<strong>{}</strong>({})</p>"#,
            esc(e.level_name),
            esc(&display_cst(e.created_at))
        ));
    }
    s.push_str(&forms(c, d));
    s.push_str(&history_table(&d.steps));
    // Attachments.
    s.push_str("<h2>附件</h2>");
    if d.attachments.is_empty() {
        s.push_str(r#"<p class="muted">暂无附件。</p>"#);
    } else {
        s.push_str("<ul>");
        for a in &d.attachments {
            s.push_str(&format!(
                r#"<li><a href="/console/cases/{}/attachments/{}">{}</a> <small>{} KB · {} · {}</small></li>"#,
                k.id,
                a.id,
                esc(&a.file_name),
                (a.size + 1023) / 1024,
                esc(&a.uploaded_by),
                esc(&display_cst(a.at))
            ));
        }
        s.push_str("</ul>");
    }
    if !d.actions.is_empty() {
        s.push_str(&format!(
            r#"<form method="post" action="/console/cases/{}/attachments" enctype="multipart/form-data">{}
<p><label for="file">上传照片或扫描件(JPG、PNG、PDF,每个不超过 5 MB)</label><br><input id="file" type="file" name="file" accept=".jpg,.jpeg,.png,.pdf" required></p>
<button type="submit">上传附件</button></form>"#,
            k.id,
            csrf_field(c)
        ));
    }
    // Notifications.
    s.push_str(
        "<h2>通知</h2><table><thead><tr><th>时间</th><th>对象</th><th>内容</th><th>发送</th></tr></thead><tbody>",
    );
    for m in &d.messages {
        let to = match m.recipient_kind.as_str() {
            "unit" => "单位",
            "staff" => "工作人员",
            "evaluator" => "评价人",
            _ => "其他",
        };
        let sent = match (m.delivered_at, &m.last_error) {
            (Some(t), _) => format!("已发送 {}", display_cst(t)),
            (None, Some(err)) => format!("发送失败 {} 次,将重试({err})", m.attempts),
            (None, None) => "待发送".into(),
        };
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&display_cst(m.created_at)),
            to,
            esc(&m.body),
            esc(&sent)
        ));
    }
    s.push_str("</tbody></table>");
    s
}

/// One form per step allowed now.
fn forms(c: &Console, d: &CaseDetail) -> String {
    let k = &d.case;
    let mut s = String::new();
    let form = |step: &str, title: &str, fields: &str, button: &str| {
        format!(
            r#"<form method="post" action="/console/cases/{id}/steps" class="step">{csrf}
<input type="hidden" name="step" value="{step}"><input type="hidden" name="version" value="{version}">
<fieldset><legend>{title}</legend>{fields}<button type="submit">{button}</button></fieldset></form>"#,
            id = k.id,
            csrf = csrf_field(c),
            version = k.version,
        )
    };
    let text = |label: &str, required: bool| {
        format!(
            r#"<p><label for="text-{label}">{label}</label><br><textarea id="text-{label}" name="text" maxlength="2000"{}></textarea></p>"#,
            if required { " required" } else { "" }
        )
    };
    if !d.actions.is_empty() {
        s.push_str("<h2>办理</h2>");
    }
    for a in &d.actions {
        s.push_str(&match *a {
            "assign" => {
                let reason_label = if k.state == "escalated" {
                    "督办意见(必填)"
                } else if k.state == "unassigned" {
                    "交办说明(选填)"
                } else {
                    "改派原因(必填)"
                };
                let fields = format!(
                    r#"<p><label for="unit_code">承办单位代码(默认为办件所属单位)</label><br><input id="unit_code" name="unit_code" value="{}"></p>{}"#,
                    esc(&d.proposed_unit_code),
                    text(reason_label, k.state != "unassigned")
                );
                form("assign", if k.state == "unassigned" { "交办" } else { "改派 / 重新交办" }, &fields, "交办")
            }
            "solve_on_spot" => form("solve_on_spot", "立行立改", &text("立行立改情况", true), "提交"),
            "contact" => form("contact", "联系评价人(1 个工作日内)", &text("联系情况", true), "提交"),
            "finding" => {
                let fields = format!(
                    r#"<label class="choice"><input type="radio" name="real_problem" value="true" required> <span>确有问题,需整改</span></label>
<label class="choice"><input type="checkbox" name="long_term" value="true"> <span>不能立即整改(15 个工作日内回复解决方案)</span></label>
<label class="choice"><input type="radio" name="real_problem" value="false"> <span>无过错,作解释说明</span></label>{}"#,
                    text("核实情况或解释说明", true)
                );
                form("finding", "核实情况", &fields, "提交")
            }
            "rectified" => form("rectified", "整改反馈(5 个工作日内)", &text("整改情况", true), "提交"),
            "plan_replied" => {
                form("plan_replied", "回复解决方案(15 个工作日内)", &text("解决办法和回复", true), "提交")
            }
            "approve_plan" => form(
                "approve_plan",
                "审批:同意该问题属于短期内无法解决(承办单位可在 15 个工作日内回复解决方案)",
                "",
                "同意",
            ),
            "follow_up" => {
                let fields = format!(
                    r#"<label class="choice"><input type="radio" name="solved" value="true" required> <span>评价人认为已解决</span></label>
<label class="choice"><input type="radio" name="solved" value="false"> <span>未解决,退回承办单位重新办理</span></label>{}"#,
                    text("回访情况", true)
                );
                form("follow_up", "回访评价人", &fields, "提交")
            }
            "escalate" => form("escalate", "提请县政府办公室督办", &text("督办原因", true), "提请督办"),
            "close" => form("close", "办结", "", "办结工单"),
            _ => String::new(),
        });
    }
    if let (true, Some(record_id)) = (d.may_reveal, k.service_record_id) {
        s.push_str(&format!(
            r#"<p><a href="/console/records/{record_id}">查看评价人联系方式(需填写原因,将被记录)</a></p>"#
        ));
    }
    if k.appeal_state.is_none() && !is_closed(k) && c.who.staff_id.is_some() && k.inspection_id.is_none() {
        s.push_str(&format!(
            r#"<form method="post" action="/console/cases/{id}/appeal" enctype="multipart/form-data" class="step">{csrf}
<fieldset><legend>对此差评提出申诉(仅限本人经办业务,收到差评后规定工作日内)</legend>
<p><label for="reasons">申诉理由</label><br><textarea id="reasons" name="reasons" maxlength="2000" required></textarea></p>
<p><label for="evidence">证明材料(选填,最多 5 个,JPG、PNG、PDF)</label><br><input id="evidence" type="file" name="evidence" multiple accept=".jpg,.jpeg,.png,.pdf"></p>
<button type="submit">提交申诉</button></fieldset></form>"#,
            id = k.id,
            csrf = csrf_field(c),
        ));
    }
    s
}

/// `POST /console/cases/{id}/steps`
pub async fn step(
    State(app): State<App>,
    Path(raw): Path<String>,
    CsrfForm { console: c, form }: CsrfForm,
) -> Response {
    let id = match case_id(&raw) {
        Ok(id) => id,
        Err(e) => return error_page(&e),
    };
    let flag = |k: &str| match form.get(k) {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };
    let input = StepInput {
        step: form.get("step").to_string(),
        text: form.get("text").to_string(),
        unit_code: form.get("unit_code").to_string(),
        real_problem: flag("real_problem"),
        long_term: flag("long_term").unwrap_or(false),
        solved: flag("solved"),
        version: form.get("version").parse().ok(),
    };
    after(&app, &c, id, app.take_case_step(&c.who, id, &input).await.map(|_| ())).await
}

/// After a post: back to the case (so a reload does not post again), or the case with what went wrong.
async fn after(app: &App, c: &Console, id: i64, result: Result<(), AppError>) -> Response {
    match result {
        Ok(()) => Redirect::to(&format!("/console/cases/{id}")).into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            let alert = crate::pages::layout::alert(&e.message(), None);
            render(app, c, id, crate::error::status_of(&e), &alert).await
        }
        Err(e) => error_page(&e),
    }
}

/// A multipart form: its text fields and its files.
pub struct Posted {
    pub form: FormData,
    pub files: Vec<(String, Upload)>,
}

/// Reads a multipart form (uploads). A part too large, or a broken body, answers with a page.
pub async fn read_multipart(m: Result<Multipart, MultipartRejection>) -> Result<Posted, AppError> {
    let mut m = m.map_err(|_| AppError::invalid("file", "not_multipart", "请通过页面上的表单选择文件后提交。"))?;
    let mut fields = Vec::new();
    let mut files = Vec::new();
    loop {
        let field = match m.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return Err(if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::invalid("file", "file_too_large", "文件过大:每个文件不超过 5 MB,每次最多 5 个。")
                } else {
                    AppError::invalid("file", "unreadable_body", "上传未完成,请重新选择文件后提交。")
                });
            }
        };
        let name = field.name().unwrap_or("").to_string();
        match field.file_name().map(str::to_string) {
            Some(file_name) => {
                let bytes = field.bytes().await.map_err(|_| {
                    AppError::invalid("file", "file_too_large", "文件过大:每个文件不超过 5 MB,每次最多 5 个。")
                })?;
                if !(file_name.is_empty() && bytes.is_empty()) {
                    files.push((name, Upload { file_name, bytes: bytes.to_vec() }));
                }
            }
            None => {
                let text = field.text().await.unwrap_or_default();
                fields.push((name, text));
            }
        }
    }
    let encoded: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    Ok(Posted { form: FormData::parse(encoded.as_bytes()), files })
}

/// A multipart form posted about a case: its id, and its fields and files once the CSRF token checked out;
/// otherwise the page to answer with.
async fn posted_multipart(
    app: &App,
    c: &Console,
    raw: &str,
    m: Result<Multipart, MultipartRejection>,
) -> Result<(i64, Posted), Response> {
    let id = case_id(raw).map_err(|e| error_page(&e))?;
    let posted = match read_multipart(m).await {
        Ok(p) => p,
        Err(e) => return Err(after(app, c, id, Err(e)).await),
    };
    if let Some(r) = csrf_refusal(c, &posted.form) {
        return Err(r);
    }
    Ok((id, posted))
}

/// `POST /console/cases/{id}/attachments` (multipart)
pub async fn attach(
    State(app): State<App>,
    c: Console,
    Path(raw): Path<String>,
    m: Result<Multipart, MultipartRejection>,
) -> Response {
    let (id, posted) = match posted_multipart(&app, &c, &raw, m).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some((_, upload)) = posted.files.into_iter().next() else {
        return after(&app, &c, id, Err(AppError::invalid("file", "file_empty", "请选择要上传的文件。"))).await;
    };
    after(&app, &c, id, app.attach_to_case(&c.who, id, &upload).await.map(|_| ())).await
}

/// `GET /console/cases/{id}/attachments/{attachment}`
pub async fn attachment(State(app): State<App>, c: Console, Path((raw, aid)): Path<(String, String)>) -> Response {
    let (Ok(id), Ok(aid)) = (case_id(&raw), aid.parse::<i64>()) else {
        return error_page(&AppError::not_found("attachment_not_found", "附件不存在。"));
    };
    match app.case_attachment(&c.who, id, aid).await {
        Ok((name, content_type, data)) => crate::controllers::cases::download(&name, &content_type, data),
        Err(e) => error_page(&e),
    }
}

/// `POST /console/cases/{id}/appeal` (multipart: reasons and evidence files)
pub async fn appeal(
    State(app): State<App>,
    c: Console,
    Path(raw): Path<String>,
    m: Result<Multipart, MultipartRejection>,
) -> Response {
    let (id, posted) = match posted_multipart(&app, &c, &raw, m).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let evidence: Vec<Upload> = posted.files.into_iter().map(|(_, u)| u).collect();
    match app.file_appeal(&c.who, id, posted.form.get("reasons"), &evidence).await {
        Ok(a) => Redirect::to(&format!("/console/appeals/{}", a.id)).into_response(),
        Err(e) => after(&app, &c, id, Err(e)).await,
    }
}
