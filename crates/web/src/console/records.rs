//! Finding and reading records, revealing a contact for a duty, recording a caller's evaluation.

use super::CsrfForm;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hcp_app::evaluations::EvaluationInput;
use hcp_app::hotline::HotlineOutcome;
use hcp_app::reveal::{RevealAccess, RevealPurpose, RevealRequest};
use hcp_app::views::RecordView;
use hcp_app::{App, AppError};
use hcp_domain::Level;
use hcp_domain::calendar::display_cst;
use maud::{Markup, html};

use super::{Console, console_page, csrf_field};
use crate::html::{PageResult, alert, notice, table};

fn row(r: &RecordView) -> Markup {
    html! {
        tr {
            td { a href={ "/console/records/" (r.id) } { (r.record_number) } }
            td { (r.item.name) }
            td { (r.org.name) }
            td { (r.applicant.name) }
            td { (r.applicant.mobile) }
            td {
                @match &r.evaluation {
                    Some(e) => { (e.level_name) @if e.is_default { "(默认)" } }
                    None => { "未评价" }
                }
            }
        }
    }
}

/// `GET /console/records`: the search form.
pub async fn search_form(State(app): State<App>, c: Console) -> PageResult {
    search_page(&app, &c, "", "").await
}

/// `POST /console/records`: a search. By POST, so a mobile number never appears in a URL or a log.
pub async fn search(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> PageResult {
    search_page(&app, &c, form.get("mobile"), form.get("record_number")).await
}

async fn search_page(app: &App, c: &Console, mobile: &str, record_number: &str) -> PageResult {
    let found = app.find_records(&c.who, mobile, record_number).await?;
    let body = html! {
        h2 { "查找办件" }
        form method="post" action="/console/records" {
            (csrf_field(c))
            p { label for="mobile" { "申请人手机号" } br; input #mobile name="mobile" value=(mobile) inputmode="numeric"; }
            p { label for="record_number" { "或办件编号" } br; input #record_number name="record_number" value=(record_number); }
            button.primary type="submit" { "查找" }
        }
        @if mobile.is_empty() && record_number.is_empty() {
        } @else if found.is_empty() {
            (notice("没有找到符合条件的办件。"))
        } @else {
            (table(&["办件编号", "事项", "机构", "申请人", "手机", "评价"], html! { @for r in &found { (row(r)) } }))
        }
    };
    Ok(console_page(c, StatusCode::OK, "查找办件", body))
}

fn record_id(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>().map_err(|_| AppError::not_found("record_not_found", format!("办件“{raw}”不存在。")))
}

/// The form that reveals the evaluator's full contact, for a duty that allows it.
fn reveal_form(c: &Console, id: i64, why: &str, with_ticket: bool) -> Markup {
    html! {
        form method="post" action={ "/console/records/" (id) "/reveal" } {
            (csrf_field(c))
            p.hint { (why) }
            @if with_ticket {
                p {
                    label for="ticket_number" { "本次来电的12345工单编号" } br;
                    input #ticket_number name="ticket_number" required maxlength="40" autocomplete="off";
                }
            }
            p { label for="reason" { "查看完整联系方式的原因(将被记录)" } br; input #reason name="reason" required; }
            button type="submit" { "查看完整信息" }
        }
    }
}

fn detail(app_page: &hcp_app::console::RecordPage, c: &Console) -> Markup {
    let r = &app_page.view;
    let evaluation = match &r.evaluation {
        Some(e) => format!(
            "{}({}{},{})",
            e.level_name,
            e.channel_name,
            if e.is_default { ",默认" } else { "" },
            display_cst(e.created_at)
        ),
        None => "未评价".into(),
    };
    html! {
        h2 { "办件 " (r.record_number) }
        dl.facts {
            dt { "事项" } dd { (r.item.name) }
            dt { "机构" } dd { (r.org.name) }
            dt { "申请人" } dd { (r.applicant.name) }
            dt { "证件号码" } dd { (r.applicant.id_number) }
            dt { "手机" } dd { (r.applicant.mobile) }
            dt { "评价" } dd { (evaluation) }
        }
        @match &app_page.reveal {
            RevealAccess::Case(RevealPurpose::CaseContact { .. }) => {
                (reveal_form(c, r.id, "您正在办理该办件的差评工单,可查看评价人联系方式以便联系。每次查看均被记录,每人每天有次数上限。", false))
            }
            RevealAccess::Case(_) => {
                (reveal_form(c, r.id, "该差评工单待回访,可查看评价人联系方式以便回访。每次查看均被记录,每人每天有次数上限。", false))
            }
            RevealAccess::OnCall => {
                (reveal_form(c, r.id, "仅在接听该办件申请人的来电时查看,并填写本次来电的12345工单编号。每次查看均被记录,每人每天有次数上限。", true))
            }
            RevealAccess::None => {}
        }
        @if app_page.may_rate_by_phone {
            h2 { "记录来电评价(12345热线)" }
            form method="post" action={ "/console/records/" (r.id) "/hotline-evaluation" } {
                (csrf_field(c))
                p {
                    label for="hotline_ticket" { "本次来电的12345工单编号" } br;
                    input #hotline_ticket name="ticket_number" required maxlength="40" autocomplete="off";
                }
                fieldset {
                    legend { "来电人的评价" }
                    @for l in Level::ALL {
                        label.choice { input type="radio" name="level" value=(l.as_str()) required; " " (l.name_zh()) }
                    }
                }
                p { label for="comment" { "来电人意见" } br; textarea #comment name="comment" maxlength="500" {} }
                button.primary type="submit" { "记录评价" }
            }
        }
    }
}

/// `GET /console/records/{id}`
pub async fn show(State(app): State<App>, c: Console, Path(id): Path<String>) -> PageResult {
    let p = app.record_page(&c.who, record_id(&id)?).await?;
    Ok(console_page(&c, StatusCode::OK, "办件", detail(&p, &c)))
}

/// `POST /console/records/{id}/reveal`: the full data, once, with the reason recorded.
pub async fn reveal(
    State(app): State<App>,
    Path(id): Path<String>,
    CsrfForm { console: c, form }: CsrfForm,
) -> PageResult {
    let id = record_id(&id)?;
    let req =
        RevealRequest { reason: form.get("reason").to_string(), ticket_number: form.get("ticket_number").to_string() };
    let plain = app.reveal_contact(&c.who, id, &req).await?;
    let body = html! {
        h2 { "评价人联系方式" }
        (notice("本次查看已记录(查看人、时间、原因)。请仅用于履行职责,不得提供给第三方。"))
        dl.facts {
            dt { "姓名" } dd { (plain.name) }
            dt { "证件号码" } dd { (plain.id_number) }
            dt { "手机" } dd { (plain.mobile) }
        }
        p { a href={ "/console/records/" (id) } { "返回办件" } }
    };
    Ok(console_page(&c, StatusCode::OK, "评价人联系方式", body))
}

/// `POST /console/records/{id}/hotline-evaluation`
pub async fn hotline_evaluation(
    State(app): State<App>,
    Path(id): Path<String>,
    CsrfForm { console: c, form }: CsrfForm,
) -> PageResult {
    let id = record_id(&id)?;
    let input = EvaluationInput {
        token: String::new(),
        level: form.get("level").to_string(),
        indicator_ids: form.all("indicator_ids"),
        staff_indicator_ids: form.all("staff_indicator_ids"),
        comment: Some(form.get("comment").to_string()),
        channel: "hotline".into(),
    };
    let back = html! { p { a href={ "/console/records/" (id) } { "返回办件" } } };
    match app.record_hotline_evaluation(&c.who, id, form.get("ticket_number"), &input).await {
        Ok(HotlineOutcome::Recorded { evaluation: e }) => {
            let body = html! {
                h2 { "已记录来电评价" }
                (notice(&format!(
                    "评价“{}”已记录,渠道:12345热线,工单编号:{},记录人:{}。",
                    e.level_name,
                    form.get("ticket_number").trim().to_ascii_uppercase(),
                    c.who.display_name
                )))
                (back)
            };
            Ok(console_page(&c, StatusCode::CREATED, "已记录", body))
        }
        Ok(HotlineOutcome::AwaitingConfirmation { ticket_number, expires_at }) => {
            let body = html! {
                h2 { "已发送确认短信" }
                (notice(&format!(
                    "来电评价已记录(工单编号:{}),并已向申请人发送确认短信。申请人在 {} 前确认后评价生效;未确认则不计入。",
                    ticket_number,
                    display_cst(expires_at)
                )))
                (back)
            };
            Ok(console_page(&c, StatusCode::ACCEPTED, "待确认", body))
        }
        // A level missing or a bad review without its reason: the record again, with the reason on top.
        Err(e @ AppError::Invalid(_)) => {
            let p = app.record_page(&c.who, id).await?;
            let body = html! { (alert(&format!("未能记录:{}", e.message()), None)) (detail(&p, &c)) };
            Ok(console_page(&c, StatusCode::UNPROCESSABLE_ENTITY, "办件", body))
        }
        Err(e) => Err(e.into()),
    }
}
