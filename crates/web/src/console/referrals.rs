//! Clue referral in the console (issue 30 §3, plan §十二): the center and the county office record that an
//! evaluation, a case or an integrity flag went to the body that handles it (县纪委监委, 公安局 …) — from a
//! "移交线索" link on those pages — and later its outcome, once. The county office, auditors and whoever
//! referred see the list; anyone else is told the page does not exist.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use hcp_app::policy::Action;
use hcp_app::referrals::{ReferralInput, ReferralView};
use hcp_app::{App, AppError};
use hcp_domain::calendar::{business_date, display_cst};
use hcp_domain::integrity::ReferralSubject;
use maud::{Markup, html};
use serde::Deserialize;

use super::{Console, CsrfForm, console_page, csrf_field};
use crate::html::{PageResult, error_alert, notice, options, table};

#[derive(Deserialize, Default)]
pub struct NewQuery {
    kind: Option<String>,
    id: Option<String>,
}

/// Staff, units and the hotline have no referrals: for them the pages do not exist.
fn visible(c: &Console) -> Result<(), AppError> {
    if c.who.may(Action::ReferClue, None) || c.who.may(Action::ViewReferrals, None) {
        Ok(())
    } else {
        Err(AppError::not_found("referral_not_found", "页面不存在。"))
    }
}

/// Where a referral's subject is shown in the console.
fn subject_link(kind: &str, id: i64) -> Markup {
    let name = ReferralSubject::parse(kind).map(ReferralSubject::name_zh).unwrap_or("其他");
    let href = match kind {
        "evaluation" => format!("/console/evaluations/{id}"),
        "case" => format!("/console/cases/{id}"),
        _ => format!("/console/integrity/{id}"),
    };
    html! { (name) " " a href=(href) { (id) } }
}

/// The "移交线索" link beside an evaluation, a case or a flag, for those who may refer.
pub fn refer_link(c: &Console, kind: &str, id: i64) -> Markup {
    if !c.who.may(Action::ReferClue, None) {
        return html! {};
    }
    html! { p { a href={ "/console/referrals/new?kind=" (kind) "&id=" (id) } { "移交线索" } } }
}

fn form(c: &Console, kind: &str, id: &str, today: &str) -> Markup {
    html! {
        form method="post" action="/console/referrals" {
            (csrf_field(c))
            h3 { "移交线索" }
            p.muted { "记录已将该线索移交有关部门依纪依法处理(方案第十二条);移交本身在系统外进行,此处登记接收单位、文号和日期。" }
            label for="subject_kind" { "对象类型" } " "
            select #subject_kind name="subject_kind" required {
                (options(ReferralSubject::ALL, ReferralSubject::parse(kind), ReferralSubject::as_str, ReferralSubject::name_zh))
            }
            " " label for="subject_id" { "编号" } " "
            input #subject_id name="subject_id" type="number" min="1" required value=(id);
            br;
            label for="body" { "接收单位" } " "
            input #body name="body" required maxlength="100" placeholder="如:县纪委监委";
            br;
            label for="reference" { "移送文号" } " "
            input #reference name="reference" required maxlength="100";
            " " label for="referred_on" { "移送日期" } " "
            input #referred_on name="referred_on" type="date" required value=(today);
            br;
            button.primary type="submit" { "登记移交" }
        }
    }
}

fn list_body(c: &Console, rows: &[ReferralView], today: &str) -> Markup {
    let office = c.who.may(Action::InvestigateIntegrity, None);
    html! {
        h2 { "线索移交" }
        @if rows.is_empty() {
            (notice("还没有移交记录。"))
        } @else {
            div.scroll tabindex="0" {
                (table(&["编号", "对象", "接收单位", "移送文号", "移送日期", "移送人", "处理结果"], html! {
                    @for r in rows {
                        tr {
                            td { (r.id) }
                            td { (subject_link(&r.subject_kind, r.subject_id)) }
                            td { (r.body) }
                            td { (r.reference) }
                            td { (r.referred_on) }
                            td { (r.referred_by) br; small { (display_cst(r.created_at)) } }
                            td {
                                @if let Some(o) = &r.outcome {
                                    (o) br; small { (r.outcome_by.as_deref().unwrap_or("")) " " (r.outcome_at.map(display_cst).unwrap_or_default()) }
                                } @else if office || r.referred_by == c.who.username {
                                    form method="post" action={ "/console/referrals/" (r.id) "/outcome" } {
                                        (csrf_field(c))
                                        label for={ "outcome-" (r.id) } { "处理结果" } " "
                                        input id={ "outcome-" (r.id) } name="outcome" required maxlength="1000";
                                        " " button type="submit" { "登记" }
                                    }
                                } @else { "待处理" }
                            }
                        }
                    }
                }))
            }
        }
        @if c.who.may(Action::ReferClue, None) { (form(c, "evaluation", "", today)) }
    }
}

async fn render_list(app: &App, c: &Console, status: StatusCode, alert: Markup) -> PageResult {
    visible(c)?;
    let rows = app.referrals(&c.who).await?;
    let today = business_date(app.now()).to_string();
    Ok(console_page(c, status, "线索移交", html! { (alert) (list_body(c, &rows, &today)) }))
}

/// `GET /console/referrals`: the county office and auditors see every referral in scope; the center its own.
pub async fn list(State(app): State<App>, c: Console) -> PageResult {
    render_list(&app, &c, StatusCode::OK, html! {}).await
}

/// `GET /console/referrals/new?kind=&id=`: the form, filled in from the page the link was on.
pub async fn new(State(app): State<App>, c: Console, Query(q): Query<NewQuery>) -> PageResult {
    visible(&c)?;
    if !c.who.may(Action::ReferClue, None) {
        return Err(AppError::Forbidden.into());
    }
    let today = business_date(app.now()).to_string();
    let id = q.id.as_deref().unwrap_or("").trim();
    let id = if id.chars().all(|ch| ch.is_ascii_digit()) { id } else { "" };
    let body = form(&c, q.kind.as_deref().unwrap_or("evaluation"), id, &today);
    Ok(console_page(
        &c,
        StatusCode::OK,
        "移交线索",
        html! { (body) p { a href="/console/referrals" { "线索移交记录" } } },
    ))
}

/// `POST /console/referrals`
pub async fn create(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> PageResult {
    visible(&c)?;
    let input = ReferralInput {
        subject_kind: form.get("subject_kind").to_string(),
        subject_id: form.get("subject_id").trim().parse().unwrap_or(0),
        body: form.get("body").to_string(),
        reference: form.get("reference").to_string(),
        referred_on: form.get("referred_on").to_string(),
    };
    match app.refer(&c.who, &input).await {
        Ok(_) => Ok(Redirect::to("/console/referrals").into_response()),
        Err(e @ AppError::Invalid(_)) => render_list(&app, &c, crate::error::status_of(&e), error_alert(&e)).await,
        Err(e) => Err(e.into()),
    }
}

/// `POST /console/referrals/{id}/outcome`
pub async fn outcome(
    State(app): State<App>,
    Path(raw): Path<String>,
    CsrfForm { console: c, form }: CsrfForm,
) -> PageResult {
    visible(&c)?;
    let id: i64 = raw.parse().map_err(|_| AppError::not_found("referral_not_found", "移送记录不存在。"))?;
    match app.record_outcome(&c.who, id, form.get("outcome")).await {
        Ok(_) => Ok(Redirect::to("/console/referrals").into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            render_list(&app, &c, crate::error::status_of(&e), error_alert(&e)).await
        }
        Err(e) => Err(e.into()),
    }
}
