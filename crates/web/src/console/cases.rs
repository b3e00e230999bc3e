//! Case inboxes and the case page (issue 5 §8): each role sees what waits for it, due dates with the working
//! time left (overdue in red), the history, notifications, and a form for each step it may take now.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use hcp_app::attachments::Upload;
use hcp_app::cases::{CaseDetail, CaseView, Inbox, StepInput};
use hcp_app::{App, AppError};
use hcp_domain::calendar::{display_cst, display_deadline};
use hcp_domain::case::CaseState;
use maud::{Markup, html};
use serde::Deserialize;

use super::upload::CsrfMultipart;
use super::{Console, CsrfForm, console_page, csrf_field};
use crate::html::{PageResult, error_alert, notice, table};

#[derive(Deserialize)]
pub struct InboxQuery {
    #[serde(default)]
    inbox: Option<String>,
    #[serde(default)]
    page: Option<i64>,
}

fn due_cell(app: &App, due: Option<chrono::DateTime<chrono::Utc>>, missed: bool) -> Markup {
    match due {
        None => html! { "—" },
        Some(d) => {
            let left = app.time_left_zh(d);
            let late = missed || left.starts_with("已逾期");
            html! { span class=[late.then_some("late")] { (display_deadline(d)) br; small { (left) } } }
        }
    }
}

/// The unit is still working the case (a handling limit runs).
fn working(k: &CaseView) -> bool {
    matches!(k.state, "assigned" | "contacted" | "rectifying")
}

/// A limit of the current round on the case page: when the unit's step met it, the step's time and whether it
/// was on time (issue 30 §6: a contact made on time showed "已逾期 11 个工作日" in red, counted to now); while it
/// runs, the time left; a limit that does not apply (any more), a dash.
fn limit_cell(
    app: &App,
    d: &CaseDetail,
    due: Option<chrono::DateTime<chrono::Utc>>,
    missed: bool,
    running: bool,
) -> Markup {
    let k = &d.case;
    let met = due.and_then(|due| {
        d.steps.iter().find(|s| s.round == k.round && s.role == "unit" && s.due_at == Some(due) && s.on_time.is_some())
    });
    match (due, met) {
        (Some(due), Some(st)) => html! {
            (display_deadline(due)) br;
            small {
                "已于 " (display_cst(st.at)) " 完成"
                @if st.on_time == Some(false) { span.late { "(超期)" } } @else { "(按期)" }
            }
        },
        (Some(_), None) if running => due_cell(app, due, missed),
        (Some(due), None) if missed => html! { span.late { (display_deadline(due)) br; small { "逾期未办" } } },
        _ => html! { "—" },
    }
}

/// Closed (handled or appealed), by the state machine's own rule.
fn is_closed(c: &CaseView) -> bool {
    CaseState::parse(c.state).is_some_and(CaseState::is_closed)
}

fn case_row(app: &App, c: &CaseView) -> Markup {
    let open = !is_closed(c) && c.state != "unassigned";
    html! {
        tr class=[c.overdue.then_some("overdue")] {
            td { a href={ "/console/cases/" (c.id) } { (c.id) } }
            td { (c.state_name) @if c.overdue { " " strong.late { "逾期" } } }
            td { (c.record_number) br; small { (c.item_name) } }
            td { (c.unit_name.as_deref().unwrap_or("(待交办)")) }
            td { (c.level_name) }
            td {
                @if !open { "—" }
                @else if c.state == "assigned" { (due_cell(app, c.contact_due_at, c.contact_missed)) }
                @else { "已联系" }
            }
            td {
                @if !open { "—" }
                @else if matches!(c.state, "assigned" | "contacted" | "rectifying") {
                    (due_cell(app, c.handling_due_at, c.handling_missed))
                }
                @else { "已办理" }
            }
        }
    }
}

/// `GET /console/cases?inbox=mine|overdue|all`
pub async fn inbox(State(app): State<App>, c: Console, Query(q): Query<InboxQuery>) -> PageResult {
    let inbox = match q.inbox.as_deref() {
        Some("overdue") => Inbox::Overdue,
        Some("all") => Inbox::All,
        _ => Inbox::Mine,
    };
    let page = q.page.unwrap_or(0).max(0);
    let cases = app.case_inbox(&c.who, inbox, page).await?;
    let tabs = [(Inbox::Mine, "mine", "待我办理"), (Inbox::Overdue, "overdue", "逾期"), (Inbox::All, "all", "全部")];
    let key = tabs.iter().find(|(i, ..)| *i == inbox).map_or("mine", |(_, k, _)| *k);
    let body = html! {
        h2 { "差评工单" }
        p {
            @for (n, (i, k, name)) in tabs.iter().enumerate() {
                @if n > 0 { " · " }
                @if *i == inbox { strong { (name) } } @else { a href={ "/console/cases?inbox=" (k) } { (name) } }
            }
        }
        @if cases.is_empty() {
            (notice("没有工单。"))
        } @else {
            (table(&["工单", "状态", "办件", "承办单位", "评价", "联系期限(1)", "整改期限(5/15)"], html! {
                @for x in &cases { (case_row(&app, x)) }
            }))
        }
        @if cases.len() == 50 {
            p { a href={ "/console/cases?inbox=" (key) "&page=" (page + 1) } { "下一页" } }
        }
    };
    Ok(console_page(&c, StatusCode::OK, "差评工单", body))
}

fn case_id(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>().map_err(|_| AppError::not_found("case_not_found", format!("工单“{raw}”不存在。")))
}

/// `GET /console/cases/{id}`
pub async fn show(State(app): State<App>, c: Console, Path(raw): Path<String>) -> PageResult {
    render(&app, &c, case_id(&raw)?, StatusCode::OK, html! {}).await
}

async fn render(app: &App, c: &Console, id: i64, status: StatusCode, alert: Markup) -> PageResult {
    let d = app.case_detail(&c.who, id).await?;
    let appeal = app.appeal_of_case(&c.who, d.case.id).await.ok().flatten();
    let body = html! { (alert) (detail_html(app, c, &d, appeal.as_ref())) };
    Ok(console_page(c, status, &format!("工单 {id}"), body))
}

/// A case's steps, oldest first, with each deadline met or missed.
pub fn history_table(steps: &[hcp_app::cases::StepView]) -> Markup {
    html! {
        h2 { "办理记录" }
        (table(&["时间", "轮次", "步骤", "办理人", "内容", "期限"], html! {
            @for st in steps {
                tr {
                    td { (display_cst(st.at)) }
                    td { (st.round) }
                    td { (st.name) }
                    td { (st.actor) }
                    td { (st.text) }
                    td {
                        @match (st.due_at, st.on_time) {
                            (Some(due), Some(true)) => { (display_deadline(due)) "(按期)" }
                            (Some(due), Some(false)) => { span.late { (display_deadline(due)) "(超期)" } }
                            (Some(due), None) => { span.late { (display_deadline(due)) } }
                            _ => {}
                        }
                    }
                }
            }
        }))
    }
}

fn recipient_zh(kind: &str) -> &'static str {
    match kind {
        "unit" => "单位",
        "staff" => "工作人员",
        "evaluator" => "评价人",
        _ => "其他",
    }
}

fn detail_html(app: &App, c: &Console, d: &CaseDetail, appeal: Option<&hcp_app::appeals::AppealView>) -> Markup {
    let k = &d.case;
    html! {
        h2 { "差评工单 " (k.id) ":" (k.state_name) @if k.overdue { " " strong.late { "逾期" } } }
        (super::referrals::refer_link(c, "case", k.id))
        dl.facts {
            dt { "办件" }
            dd {
                // A visit's page is the county office's (the visit was unannounced); the unit sees the findings here.
                @match (k.service_record_id, k.inspection_id) {
                    (Some(r), _) => { a href={ "/console/records/" (r) } { (k.record_number) } }
                    (None, Some(i)) if c.who.may(hcp_app::policy::Action::ViewInspections, None) => {
                        a href={ "/console/inspections/" (i) } { (k.record_number) }
                    }
                    _ => { (k.record_number) }
                }
                " " (k.item_name)
            }
            dt { "办件单位" } dd { (k.org_name) }
            dt { "承办单位" } dd { (k.unit_name.as_deref().unwrap_or("(待交办)")) }
            dt { "工作人员" } dd { (k.staff_name.as_deref().unwrap_or("—")) }
            dt { "评价" } dd { (k.level_name) "(" (display_cst(k.evaluated_at)) ")" }
            dt { "评价意见" } dd { (k.comment.as_deref().unwrap_or("—")) }
            dt { "办理轮次" }
            dd { "第 " (k.round) " 轮" @if k.deadlines_provisional { "(次年节假日安排未公布,期限为暂定)" } }
            dt { "联系评价人" } dd { (limit_cell(app, d, k.contact_due_at, k.contact_missed, k.state == "assigned")) }
            dt { "整改反馈(5 个工作日)" }
            dd { (limit_cell(app, d, k.rectify_due_at, k.handling_missed && !k.long_term, working(k) && !k.long_term)) }
            dt { "回复解决方案(15 个工作日)" }
            dd { (limit_cell(app, d, k.reply_due_at, k.handling_missed && k.long_term, working(k) && k.long_term)) }
        }
        @if let Some(a) = appeal {
            p.notice { "申诉:" a href={ "/console/appeals/" (a.id) } { (a.state_name) } }
        }
        @if let Some(e) = &d.second_evaluation {
            p.notice { "评价人对整改结果的二次评价:" strong { (e.level_name) } "(" (display_cst(e.created_at)) ")" }
        }
        (forms(c, d))
        (history_table(&d.steps))
        h2 { "附件" }
        @if d.attachments.is_empty() {
            p.muted { "暂无附件。" }
        } @else {
            ul {
                @for a in &d.attachments {
                    li {
                        a href={ "/console/cases/" (k.id) "/attachments/" (a.id) } { (a.file_name) }
                        " " small { ((a.size + 1023) / 1024) " KB · " (a.uploaded_by) " · " (display_cst(a.at)) }
                    }
                }
            }
        }
        @if !d.actions.is_empty() {
            form method="post" action={ "/console/cases/" (k.id) "/attachments" } enctype="multipart/form-data" {
                (csrf_field(c))
                p {
                    label for="file" { "上传照片或扫描件(JPG、PNG、PDF,每个不超过 5 MB)" } br;
                    input #file type="file" name="file" accept=".jpg,.jpeg,.png,.pdf" required;
                }
                button type="submit" { "上传附件" }
            }
        }
        h2 { "通知" }
        (table(&["时间", "对象", "内容", "发送"], html! {
            @for (m, n) in one_per_event(&d.messages) {
                tr {
                    td { (display_cst(m.created_at)) }
                    td { (recipient_zh(&m.recipient_kind)) @if n > 1 { "(" (n) " 个)" } }
                    td { (m.body) }
                    td {
                        @match (m.delivery, m.delivered_at, &m.last_error) {
                            ("sent", Some(t), _) => { "已发送 " (display_cst(t)) }
                            ("logged_only", _, _) => { span.late { "仅记录日志(未配置短信平台)" } }
                            (_, Some(t), _) => { "已处理 " (display_cst(t)) "(发送方式未记录)" }
                            (_, None, Some(err)) => { "发送失败 " (m.attempts) " 次,将重试(" (err) ")" }
                            (_, None, None) => { "待发送" }
                        }
                    }
                }
            }
        }))
    }
}

/// The notices of a case, one row per event: a 督办 goes to the unit, its supervisor and the county office with
/// one text, listed once with how many received it (issue 30 §6: the same message stood twice). The row shows the
/// least advanced delivery of the group, so a failure is not hidden by a success.
fn one_per_event(messages: &[hcp_app::cases::MessageView]) -> Vec<(&hcp_app::cases::MessageView, usize)> {
    let rank = |m: &hcp_app::cases::MessageView| match m.delivery {
        "failed" => 0,
        "waiting" => 1,
        "logged_only" => 2,
        "delivered_unrecorded" => 3,
        _ => 4,
    };
    let mut out: Vec<(&hcp_app::cases::MessageView, usize)> = Vec::new();
    for m in messages {
        match out.iter_mut().find(|(o, _)| {
            o.created_at == m.created_at
                && o.template == m.template
                && o.body == m.body
                && o.recipient_kind == m.recipient_kind
        }) {
            Some((shown, n)) => {
                *n += 1;
                if rank(m) < rank(shown) {
                    *shown = m;
                }
            }
            None => out.push((m, 1)),
        }
    }
    out
}

/// A text box of a step's form.
fn step_text(label: &str, required: bool) -> Markup {
    html! {
        p {
            label for={ "text-" (label) } { (label) } br;
            textarea id={ "text-" (label) } name="text" maxlength="2000" required[required] {}
        }
    }
}

/// A radio choice or a checkbox with its text.
fn choice(kind: &str, name: &str, value: &str, required: bool, text: &str) -> Markup {
    html! {
        label.choice { input type=(kind) name=(name) value=(value) required[required]; " " span { (text) } }
    }
}

/// One form per step allowed now.
fn forms(c: &Console, d: &CaseDetail) -> Markup {
    let k = &d.case;
    let form = |step: &str, title: &str, fields: Markup, button: &str| {
        html! {
            form.step method="post" action={ "/console/cases/" (k.id) "/steps" } {
                (csrf_field(c))
                input type="hidden" name="step" value=(step);
                input type="hidden" name="version" value=(k.version);
                fieldset { legend { (title) } (fields) button type="submit" { (button) } }
            }
        }
    };
    let step_form = |a: &str| -> Markup {
        match a {
            "assign" => {
                let reason_label = match k.state {
                    "escalated" => "督办意见(必填)",
                    "unassigned" => "交办说明(选填)",
                    _ => "改派原因(必填)",
                };
                let fields = html! {
                    p {
                        label for="unit_code" { "承办单位代码(默认为办件所属单位)" } br;
                        input #unit_code name="unit_code" value=(d.proposed_unit_code);
                    }
                    (step_text(reason_label, k.state != "unassigned"))
                };
                form("assign", if k.state == "unassigned" { "交办" } else { "改派 / 重新交办" }, fields, "交办")
            }
            "solve_on_spot" => form("solve_on_spot", "立行立改", step_text("立行立改情况", true), "提交"),
            "contact" => form("contact", "联系评价人(1 个工作日内)", step_text("联系情况", true), "提交"),
            "finding" => {
                let fields = html! {
                    (choice("radio", "real_problem", "true", true, "确有问题,需整改"))
                    (choice("checkbox", "long_term", "true", false, "短期内无法解决(15 个工作日内回复解决方案;须在 5 个工作日内提出)"))
                    (choice("radio", "real_problem", "false", false, "无过错,作解释说明"))
                    (step_text("核实情况或解释说明", true))
                };
                form("finding", "核实情况", fields, "提交")
            }
            "rectified" => form("rectified", "整改反馈(5 个工作日内)", step_text("整改情况", true), "提交"),
            "plan_replied" => {
                form("plan_replied", "回复解决方案(15 个工作日内)", step_text("解决办法和回复", true), "提交")
            }
            "approve_plan" => form(
                "approve_plan",
                "审核长期问题:确认该问题属于短期内无法解决(承办单位在 15 个工作日内回复解决方案)",
                html! {},
                "确认",
            ),
            "overturn_long_term" => form(
                "overturn_long_term",
                "审核长期问题:不属于短期内无法解决(恢复 5 个工作日整改期限,已过期的即为逾期)",
                step_text("否定理由", true),
                "否定",
            ),
            "follow_up" => {
                let fields = html! {
                    (choice("radio", "solved", "true", true, "评价人认为已解决"))
                    (choice("radio", "solved", "false", false, "未解决,退回承办单位重新办理"))
                    (step_text("回访情况", true))
                };
                form("follow_up", "回访评价人", fields, "提交")
            }
            "escalate" => form("escalate", "提请县政府办公室督办", step_text("督办原因", true), "提请督办"),
            "close" => form("close", "办结", html! {}, "办结工单"),
            _ => html! {},
        }
    };
    let may_appeal = k.appeal_state.is_none() && !is_closed(k) && c.who.staff_id.is_some() && k.inspection_id.is_none();
    html! {
        @if !d.actions.is_empty() { h2 { "办理" } }
        @for a in &d.actions { (step_form(a)) }
        @if let (true, Some(record_id)) = (d.may_reveal, k.service_record_id) {
            p { a href={ "/console/records/" (record_id) } { "查看评价人联系方式(需填写原因,将被记录)" } }
        }
        @if may_appeal {
            form.step method="post" action={ "/console/cases/" (k.id) "/appeal" } enctype="multipart/form-data" {
                (csrf_field(c))
                fieldset {
                    legend { "对此差评提出申诉(仅限本人经办业务,收到差评后规定工作日内)" }
                    p {
                        label for="reasons" { "申诉理由" } br;
                        textarea #reasons name="reasons" maxlength="2000" required {}
                    }
                    p {
                        label for="evidence" { "证明材料(选填,最多 5 个,JPG、PNG、PDF)" } br;
                        input #evidence type="file" name="evidence" multiple accept=".jpg,.jpeg,.png,.pdf";
                    }
                    button type="submit" { "提交申诉" }
                }
            }
        }
    }
}

/// `POST /console/cases/{id}/steps`
pub async fn step(
    State(app): State<App>,
    Path(raw): Path<String>,
    CsrfForm { console: c, form }: CsrfForm,
) -> PageResult {
    let id = case_id(&raw)?;
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
async fn after(app: &App, c: &Console, id: i64, result: Result<(), AppError>) -> PageResult {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/console/cases/{id}")).into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            render(app, c, id, crate::error::status_of(&e), error_alert(&e)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /console/cases/{id}/attachments` (multipart)
pub async fn attach(
    State(app): State<App>,
    Path(raw): Path<String>,
    CsrfMultipart { console: c, posted }: CsrfMultipart,
) -> PageResult {
    let id = case_id(&raw)?;
    let result = async {
        let (_, upload) =
            posted?.files.into_iter().next().ok_or(AppError::invalid("file", "file_empty", "请选择要上传的文件。"))?;
        app.attach_to_case(&c.who, id, &upload).await.map(|_| ())
    }
    .await;
    after(&app, &c, id, result).await
}

/// `GET /console/cases/{id}/attachments/{attachment}`
pub async fn attachment(State(app): State<App>, c: Console, Path((raw, aid)): Path<(String, String)>) -> PageResult {
    let (Ok(id), Ok(aid)) = (case_id(&raw), aid.parse::<i64>()) else {
        return Err(AppError::not_found("attachment_not_found", "附件不存在。").into());
    };
    let (name, content_type, data) = app.case_attachment(&c.who, id, aid).await?;
    Ok(crate::controllers::cases::download(&name, &content_type, data))
}

/// `POST /console/cases/{id}/appeal` (multipart: reasons and evidence files)
pub async fn appeal(
    State(app): State<App>,
    Path(raw): Path<String>,
    CsrfMultipart { console: c, posted }: CsrfMultipart,
) -> PageResult {
    let id = case_id(&raw)?;
    let result = async {
        let posted = posted?;
        let evidence: Vec<Upload> = posted.files.into_iter().map(|(_, u)| u).collect();
        app.file_appeal(&c.who, id, posted.form.get("reasons"), &evidence).await
    }
    .await;
    match result {
        Ok(a) => Ok(Redirect::to(&format!("/console/appeals/{}", a.id)).into_response()),
        Err(e) => after(&app, &c, id, Err(e)).await,
    }
}
