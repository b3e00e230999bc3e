//! Working a bad-review case (issue 5 §1–§4, §8): the center assigns, the unit contacts, finds, rectifies or
//! replies with a plan, the center follows up and closes; the county office takes escalated cases. Every step
//! goes through the domain state machine (`hcp_domain::case`), then is written in one transaction with its
//! notifications and audit entry. The clock job (`jobs.rs`) sends reminders and marks missed limits.

use chrono::{DateTime, Utc};
use hcp_domain::calendar::{Deadline, display_deadline};
use hcp_domain::case::{Case, CaseRole, CaseState, CaseStep, ClockMarks, DeadlineKind, RoundDeadlines};
use hcp_domain::identity::parse_text;
use hcp_store::{CaseFields, CaseFilter, CaseRow, CaseWrite, NewCaseStep, NewMessage, OrgRow};
use serde::Serialize;
use serde_json::json;

use crate::audit::Actor;
use crate::policy::{Action, Principal, Target};
use crate::{App, AppError, AppResult, secrets};

/// The longest text of a step (a finding, a plan): about two pages.
pub const MAX_STEP_TEXT: usize = 2000;

/// A step as submitted (form or JSON), before validation.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepInput {
    /// assign, solve_on_spot, contact, finding, rectified, plan_replied, follow_up, escalate, close
    pub step: String,
    #[serde(default)]
    pub text: String,
    /// For `assign`: the handling unit's org code; empty proposes the record's org.
    #[serde(default)]
    pub unit_code: String,
    /// For `finding`: a real problem (true) or no fault, explained (false).
    #[serde(default)]
    pub real_problem: Option<bool>,
    /// For `finding`: cannot be fixed quickly, a plan will be replied within 15 working days.
    #[serde(default)]
    pub long_term: bool,
    /// For `follow_up`: the evaluator says it is solved.
    #[serde(default)]
    pub solved: Option<bool>,
    /// The version of the case the person saw; a step on a stale page is refused.
    #[serde(default)]
    pub version: Option<i64>,
}

/// A case as people see it (no personal data: the evaluator is reached through the reveal action).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    pub id: i64,
    pub state: &'static str,
    pub state_name: &'static str,
    /// The applicant's record; `None` for a case a mystery-shopper visit opened.
    pub service_record_id: Option<i64>,
    /// The visit (调查暗访) whose bad finding opened the case.
    pub inspection_id: Option<i64>,
    pub record_number: String,
    pub item_name: String,
    pub org_name: String,
    pub unit_name: Option<String>,
    pub staff_name: Option<String>,
    pub level: String,
    pub level_name: &'static str,
    pub comment: Option<String>,
    pub evaluated_at: DateTime<Utc>,
    pub round: i64,
    pub contact_due_at: Option<DateTime<Utc>>,
    pub rectify_due_at: Option<DateTime<Utc>>,
    pub reply_due_at: Option<DateTime<Utc>>,
    /// The limit the unit works to now (5 days, or 15 for a problem that cannot be fixed quickly).
    pub handling_due_at: Option<DateTime<Utc>>,
    pub deadlines_provisional: bool,
    pub long_term: bool,
    /// The center approved the long-term finding: handling is due at the 15-day reply.
    pub plan_approved: bool,
    /// While unassigned: when the 12345 center must have assigned it (its own limit).
    pub dispatch_due_at: Option<DateTime<Utc>>,
    /// A limit was missed: the unit's, or (unassigned) the center's dispatch.
    pub overdue: bool,
    pub overdue_at: Option<DateTime<Utc>>,
    pub contact_missed: bool,
    pub handling_missed: bool,
    pub appeal_state: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

impl CaseView {
    pub fn from_row(r: &CaseRow) -> CaseView {
        let f = &r.fields;
        let state = CaseState::parse(&f.state).unwrap_or(CaseState::Unassigned);
        let level = hcp_domain::Level::parse(&r.level);
        CaseView {
            id: r.id,
            state: state.as_str(),
            state_name: state.name_zh(),
            service_record_id: r.service_record_id,
            inspection_id: r.inspection_id,
            record_number: r.record_number.clone(),
            item_name: r.item_name.clone(),
            org_name: r.org_name.clone(),
            unit_name: r.unit_name.clone(),
            staff_name: r.staff_name.clone(),
            level: r.level.clone(),
            level_name: level.map(|l| l.name_zh()).unwrap_or(""),
            comment: r.comment.clone(),
            evaluated_at: r.evaluated_at,
            round: f.round,
            contact_due_at: f.contact_due_at,
            rectify_due_at: f.rectify_due_at,
            reply_due_at: f.reply_due_at,
            handling_due_at: if f.long_term { f.reply_due_at } else { f.rectify_due_at },
            deadlines_provisional: f.deadlines_provisional,
            long_term: f.long_term,
            plan_approved: f.plan_approved,
            dispatch_due_at: None,
            overdue: f.overdue_at.is_some() || (state == CaseState::Unassigned && f.dispatch_missed),
            overdue_at: f.overdue_at,
            contact_missed: f.contact_missed,
            handling_missed: f.handling_missed,
            appeal_state: r.appeal_state.clone(),
            version: r.version,
            created_at: r.created_at,
        }
    }
}

/// Which cases an inbox shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Inbox {
    /// Waiting for this person's roles to act.
    #[default]
    Mine,
    /// Overdue cases in scope.
    Overdue,
    /// Every case in scope.
    All,
}

fn case_not_found(id: i64) -> AppError {
    AppError::not_found("case_not_found", format!("工单 {id} 不存在。"))
}

/// A refusal of the state machine: missing text is a bad field (422), anything else clashes with the state.
pub(crate) fn refusal(r: hcp_domain::case::Refusal) -> AppError {
    if r.code == "text_required" {
        AppError::invalid("text", r.code, r.message)
    } else {
        AppError::conflict(r.code, r.message)
    }
}

fn stale() -> AppError {
    AppError::conflict("case_changed", "工单已被他人更新,请刷新页面查看最新情况后再提交。")
}

/// The text of a step: browsers send line breaks as CRLF; control characters are refused.
pub(crate) fn step_text(raw: &str, what: &str, required: bool) -> AppResult<String> {
    let t = raw.replace("\r\n", "\n").replace('\r', "\n");
    if t.trim().is_empty() {
        return if required {
            Err(AppError::invalid("text", "text_required", format!("请填写{what}。")))
        } else {
            Ok(String::new())
        };
    }
    Ok(parse_text("text", &t, MAX_STEP_TEXT, what)?)
}

/// Which role takes a step, given the case's state.
fn role_for(step: &CaseStep, state: CaseState) -> CaseRole {
    match step {
        CaseStep::Assign { .. } | CaseStep::Close if state == CaseState::Escalated => CaseRole::CountyOffice,
        CaseStep::Assign { .. }
        | CaseStep::Close
        | CaseStep::FollowUp { .. }
        | CaseStep::Escalate { .. }
        | CaseStep::ApprovePlan
        | CaseStep::OverturnLongTerm { .. } => CaseRole::HotlineCenter,
        CaseStep::CloseAsAppealed => CaseRole::System,
        _ => CaseRole::Unit,
    }
}

/// The details of a step kept beside its text (the unit assigned, the finding, the follow-up's answer).
pub(crate) fn step_detail(step: &CaseStep) -> serde_json::Value {
    match step {
        CaseStep::Assign { unit_id, .. } => json!({ "unit_id": unit_id }),
        CaseStep::Finding { real_problem, long_term, .. } => {
            json!({ "real_problem": real_problem, "long_term": long_term })
        }
        CaseStep::FollowUp { solved, .. } => json!({ "solved": solved }),
        _ => json!({}),
    }
}

/// The row of a step just applied to `case` (so in its current round), with the limit it met, if timed.
pub(crate) fn step_row(
    case: &Case,
    step: &CaseStep,
    role: CaseRole,
    actor: &str,
    due: Option<(&'static str, Deadline)>,
    at: DateTime<Utc>,
) -> NewCaseStep {
    let mut detail = step_detail(step);
    if let Some((deadline, _)) = due {
        detail["deadline"] = json!(deadline);
    }
    NewCaseStep {
        round: case.round as i64,
        kind: step.kind(),
        role: role.as_str(),
        actor: actor.to_string(),
        text: step.text().to_string(),
        detail: detail.to_string(),
        due_at: due.map(|(_, d)| d.at),
        at,
    }
}

/// The system's note that a limit was missed (逾期), dated when it was noticed: one of the unit's
/// (`DeadlineKind`), or the center's own dispatch limit.
pub(crate) fn overdue_step(
    round: i64,
    missed: Missed,
    due_at: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> NewCaseStep {
    let (deadline, text) = match missed {
        Missed::Unit(kind) => (kind.as_str(), format!("“{}”逾期未办理,已督办。", kind.name_zh())),
        Missed::Dispatch => (DISPATCH, "“12345”政务服务中心逾期未交办。".to_string()),
    };
    NewCaseStep {
        round,
        kind: "overdue",
        role: CaseRole::System.as_str(),
        actor: "system".into(),
        text,
        detail: json!({ "deadline": deadline }).to_string(),
        due_at,
        at,
    }
}

/// The `deadline` of the center's dispatch limit in a step's detail (what statistics count it by).
pub(crate) const DISPATCH: &str = "dispatch";

/// A limit missed: the unit's, or the center's dispatch.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Missed {
    Unit(DeadlineKind),
    Dispatch,
}

/// The domain case behind a stored row.
pub(crate) fn domain_case(r: &CaseRow) -> Case {
    let f = &r.fields;
    let deadline = |t: Option<DateTime<Utc>>| {
        t.map(|at| Deadline { at, date: hcp_domain::calendar::closing_date(at), provisional: f.deadlines_provisional })
    };
    let deadlines =
        match (f.round_assigned_at, deadline(f.contact_due_at), deadline(f.rectify_due_at), deadline(f.reply_due_at)) {
            (Some(assigned_at), Some(contact), Some(rectify), Some(reply)) => {
                Some(RoundDeadlines { assigned_at, contact, rectify, reply })
            }
            _ => None,
        };
    Case::restore(
        CaseState::parse(&f.state).unwrap_or(CaseState::Unassigned),
        f.unit_id,
        f.round.max(0) as u32,
        deadlines,
        f.long_term,
        f.plan_approved,
    )
}

pub(crate) fn marks_of(f: &CaseFields) -> ClockMarks {
    ClockMarks {
        contact_reminded: f.contact_reminded,
        handling_reminded: f.handling_reminded,
        contact_missed: f.contact_missed,
        handling_missed: f.handling_missed,
    }
}

/// The stored fields of a case after a step (a new round starts its clock marks afresh).
pub(crate) fn fields_after(case: &Case, before: &CaseFields, marks: ClockMarks) -> CaseFields {
    let new_round = case.round as i64 != before.round;
    let marks = if new_round { ClockMarks::default() } else { marks };
    let d = case.deadlines;
    CaseFields {
        state: case.state.as_str().to_string(),
        unit_id: case.unit_id,
        round: case.round as i64,
        round_assigned_at: d.map(|d| d.assigned_at),
        contact_due_at: d.map(|d| d.contact.at),
        rectify_due_at: d.map(|d| d.rectify.at),
        reply_due_at: d.map(|d| d.reply.at),
        deadlines_provisional: d.is_some_and(|d| d.contact.provisional || d.rectify.provisional || d.reply.provisional),
        long_term: case.long_term,
        plan_approved: case.plan_approved,
        dispatch_missed: before.dispatch_missed,
        next_check_at: case.clock(marks).first().map(|(t, _)| *t),
        contact_reminded: marks.contact_reminded,
        handling_reminded: marks.handling_reminded,
        contact_missed: marks.contact_missed,
        handling_missed: marks.handling_missed,
        overdue_at: before.overdue_at,
    }
}

pub(crate) fn unit_message(
    org: &OrgRow,
    case_id: Option<i64>,
    template: &'static str,
    body: String,
    at: DateTime<Utc>,
) -> NewMessage {
    NewMessage {
        recipient_kind: "unit",
        recipient: org.code.clone(),
        recipient_key_id: None,
        template,
        body,
        secret: None,
        case_id,
        at,
    }
}

/// A message to the applicant who rated; `None` for a visit's case, whose inspector follows it in the console.
fn evaluator_message(r: &CaseRow, template: &'static str, body: String, at: DateTime<Utc>) -> Option<NewMessage> {
    Some(NewMessage {
        recipient_kind: "evaluator",
        recipient: r.service_record_id?.to_string(),
        recipient_key_id: None,
        template,
        body,
        secret: None,
        case_id: Some(r.id),
        at,
    })
}

/// A message as staff may read it: the second-rating link is the evaluator's credential, so it is cut.
pub(crate) fn without_second_link(body: &str) -> String {
    match body.find("/e2/") {
        Some(i) => format!("{}(附二次评价链接)", body[..i].rfind(' ').map_or(&body[..i], |j| &body[..j])),
        None => body.to_string(),
    }
}

fn short(text: &str, n: usize) -> String {
    let mut s: String = text.chars().take(n).collect();
    if text.chars().count() > n {
        s.push('…');
    }
    s
}

/// Everything a case page needs.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseDetail {
    pub case: CaseView,
    pub steps: Vec<StepView>,
    pub attachments: Vec<AttachmentView>,
    pub messages: Vec<MessageView>,
    /// The steps this person may take now (codes of `StepInput::step`).
    pub actions: Vec<&'static str>,
    /// The record's org code, proposed when assigning.
    pub proposed_unit_code: String,
    pub may_reveal: bool,
    pub second_evaluation: Option<crate::views::EvaluationView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StepView {
    pub round: i64,
    pub kind: String,
    pub name: &'static str,
    pub role: String,
    pub actor: String,
    pub text: String,
    pub due_at: Option<DateTime<Utc>>,
    pub on_time: Option<bool>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttachmentView {
    pub id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sm3: String,
    pub uploaded_by: String,
    pub at: DateTime<Utc>,
}

impl AttachmentView {
    pub fn from_row(a: &hcp_store::AttachmentRow) -> AttachmentView {
        AttachmentView {
            id: a.id,
            file_name: a.file_name.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            sm3: a.sm3.clone(),
            uploaded_by: a.uploaded_by.clone(),
            at: a.at,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MessageView {
    pub recipient_kind: String,
    pub template: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub attempts: i64,
    pub delivered_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// `sent` (the SMS gateway took it), `logged_only` (no gateway configured: written to the log only),
    /// `delivered_unrecorded` (delivered before the way was recorded), `failed` (will be retried) or `waiting`.
    pub delivery: &'static str,
}

/// The delivery state of a message, as a stable code (issue 28 §5: "已发送" only when it was).
pub fn delivery_of(m: &hcp_store::MessageRow) -> &'static str {
    match (m.delivered_at, m.delivered_via, &m.last_error) {
        (Some(_), Some(hcp_store::DeliveredVia::Webhook), _) => "sent",
        (Some(_), Some(hcp_store::DeliveredVia::Log), _) => "logged_only",
        (Some(_), None, _) => "delivered_unrecorded",
        (None, _, Some(_)) => "failed",
        (None, _, None) => "waiting",
    }
}

impl App {
    /// The case, if this person may see it: people of the record's org or of the assigned unit (within their
    /// scope), the center and the county office, and the staff member who served.
    pub(crate) async fn case_for(&self, who: &Principal, id: i64) -> AppResult<CaseRow> {
        let row = self.store.case_by_id(id).await?.ok_or_else(|| case_not_found(id))?;
        let by_record = Target { org_path: &row.org_path, staff_id: row.staff_id };
        let by_unit = Target { org_path: row.scope_path(), staff_id: row.staff_id };
        if who.may(Action::ViewRecords, Some(by_record)) || who.may(Action::ViewRecords, Some(by_unit)) {
            Ok(row)
        } else {
            Err(case_not_found(id))
        }
    }

    /// Whether this person may take a step of this role on this case.
    fn may_act(&self, who: &Principal, row: &CaseRow, role: CaseRole) -> bool {
        let t = |p| Some(Target { org_path: p, staff_id: row.staff_id });
        match role {
            CaseRole::HotlineCenter => who.may(Action::DispatchCase, t(&row.org_path)),
            CaseRole::Unit => row.unit_path.as_deref().is_some_and(|p| who.may(Action::WorkCase, t(p))),
            CaseRole::CountyOffice => who.may(Action::SuperviseCase, t(&row.org_path)),
            CaseRole::System => false,
        }
    }

    /// The working time left before a limit, in words: "剩余 3 个工作日", "今天到期", "已逾期 2 个工作日".
    pub fn time_left_zh(&self, due: DateTime<Utc>) -> String {
        let (now, cal) = (self.now(), self.calendar());
        if now > due {
            return format!("已逾期 {} 个工作日", cal.working_days_between(due, now));
        }
        let today = hcp_domain::calendar::business_date(now);
        if hcp_domain::calendar::closing_date(due) <= today {
            return "今天到期".into();
        }
        format!("剩余 {} 个工作日", cal.working_days_between(now, due))
    }

    /// Whether this person has any part in working the case (to attach files).
    pub(crate) fn may_work_on(&self, who: &Principal, row: &CaseRow) -> bool {
        [CaseRole::HotlineCenter, CaseRole::Unit, CaseRole::CountyOffice].into_iter().any(|r| self.may_act(who, row, r))
    }

    /// A person's cases: those waiting for their roles (`Mine`), the overdue ones, or all in scope.
    /// What an inbox shows this person: the filter of its cases.
    fn inbox_filter(&self, who: &Principal, inbox: Inbox, page: i64) -> AppResult<CaseFilter> {
        use crate::policy::Role;
        let scopes: Vec<String> = who.record_scopes().into_iter().map(String::from).collect();
        let staff_only = scopes.is_empty();
        if staff_only && !(who.has_role(Role::Staff) && who.staff_id.is_some()) {
            return Err(AppError::Forbidden);
        }
        let mut states: Vec<&str> = Vec::new();
        if inbox == Inbox::Mine {
            if who.has_role(Role::HotlineAgent) || who.has_role(Role::CenterAdmin) {
                states.extend(["unassigned", "handled", "solved"]);
            }
            if who.has_role(Role::UnitAdmin) {
                states.extend(["assigned", "contacted", "rectifying"]);
            }
            if who.has_role(Role::CountyOffice) {
                states.push("escalated");
            }
            if states.is_empty() {
                // Staff: their open cases.
                states.extend(["unassigned", "assigned", "contacted", "rectifying", "handled", "solved", "escalated"]);
            }
        }
        let center = who.has_role(Role::HotlineAgent) || who.has_role(Role::CenterAdmin);
        let filter = CaseFilter {
            plans_to_approve: inbox == Inbox::Mine && center,
            scopes,
            staff_id: if staff_only { who.staff_id } else { None },
            states: states.into_iter().map(String::from).collect(),
            overdue_only: inbox == Inbox::Overdue,
            newest_first: inbox == Inbox::All,
            limit: 50,
            offset: page.max(0) * 50,
        };
        Ok(filter)
    }

    pub async fn case_inbox(&self, who: &Principal, inbox: Inbox, page: i64) -> AppResult<Vec<CaseView>> {
        let filter = self.inbox_filter(who, inbox, page)?;
        Ok(self.store.list_cases(&filter).await?.iter().map(|r| self.case_view(r)).collect())
    }

    /// How many cases an inbox holds, counted up to `cap` (the console home's tiles: "50+").
    pub async fn case_inbox_count(&self, who: &Principal, inbox: Inbox, cap: i64) -> AppResult<i64> {
        let filter = self.inbox_filter(who, inbox, 0)?;
        Ok(self.store.count_matching_cases(&filter, cap).await?)
    }

    pub async fn case_detail(&self, who: &Principal, id: i64) -> AppResult<CaseDetail> {
        let row = self.case_for(who, id).await?;
        let case = domain_case(&row);
        let mut actions = Vec::new();
        for (kind, probe) in [
            ("assign", CaseStep::Assign { unit_id: 0, reason: Some("x".into()) }),
            ("solve_on_spot", CaseStep::SolveOnSpot { text: "x".into() }),
            ("contact", CaseStep::Contact { text: "x".into() }),
            ("finding", CaseStep::Finding { real_problem: true, long_term: false, text: "x".into() }),
            ("rectified", CaseStep::Rectified { text: "x".into() }),
            ("plan_replied", CaseStep::PlanReplied { text: "x".into() }),
            ("approve_plan", CaseStep::ApprovePlan),
            ("overturn_long_term", CaseStep::OverturnLongTerm { text: "x".into() }),
            ("follow_up", CaseStep::FollowUp { solved: true, text: "x".into() }),
            ("escalate", CaseStep::Escalate { reason: "x".into() }),
            ("close", CaseStep::Close),
        ] {
            let role = role_for(&probe, case.state);
            let mut trial = case.clone();
            if self.may_act(who, &row, role) && trial.apply(&self.calendar(), self.now(), role, probe).is_ok() {
                actions.push(kind);
            }
        }
        let steps = self.store.case_steps(id).await?;
        let attachments = self.store.case_attachments(id).await?;
        let messages = self.store.case_messages(id).await?;
        let org = self.store.org_by_id(row.org_id).await?;
        let second = match row.service_record_id {
            Some(record_id) => self.store.second_evaluation(record_id).await?,
            None => None,
        };
        Ok(CaseDetail {
            case: self.case_view(&row),
            steps: steps
                .iter()
                .map(|s| StepView {
                    round: s.round,
                    kind: s.kind.clone(),
                    name: hcp_domain::case::step_name_zh(&s.kind),
                    role: s.role.clone(),
                    actor: s.actor.clone(),
                    text: s.text.clone(),
                    due_at: s.due_at,
                    on_time: s.due_at.filter(|_| s.kind != "overdue" && s.kind != "reminder").map(|d| s.at <= d),
                    at: s.at,
                })
                .collect(),
            attachments: attachments.iter().map(AttachmentView::from_row).collect(),
            messages: messages
                .iter()
                .map(|m| MessageView {
                    recipient_kind: m.recipient_kind.clone(),
                    template: m.template.clone(),
                    body: crate::outbox::shown_body(m),
                    created_at: m.created_at,
                    attempts: m.attempts,
                    delivered_at: m.delivered_at,
                    last_error: m.last_error.clone(),
                    delivery: delivery_of(m),
                })
                .collect(),
            actions,
            proposed_unit_code: org.map(|o| o.code).unwrap_or_default(),
            may_reveal: crate::reveal::case_reveal_purpose(who, &row).is_some(),
            second_evaluation: second.as_ref().map(crate::views::EvaluationView::from),
        })
    }

    /// Parses a submitted step into the domain's, resolving the unit of an assignment.
    async fn parse_step(&self, who: &Principal, row: &CaseRow, input: &StepInput) -> AppResult<CaseStep> {
        let text = |what: &str, required: bool| step_text(&input.text, what, required);
        Ok(match input.step.as_str() {
            "assign" => {
                let org = if input.unit_code.trim().is_empty() {
                    self.store.org_by_id(row.org_id).await?
                } else {
                    self.store.org_by_code(input.unit_code.trim()).await?
                };
                // A unit outside the person's own scope is as good as unknown (issue 14 §2): the center of one
                // township cannot hand a case to another township's unit. (Whether this person may assign at
                // all is decided with the step, below.)
                let in_scope = |o: &hcp_store::OrgRow| who.bindings.iter().any(|b| o.path.starts_with(&b.org_path));
                let org = org.filter(in_scope).ok_or_else(|| {
                    AppError::invalid(
                        "unit_code",
                        "unknown_unit",
                        format!("承办单位“{}”不存在或不在您的交办范围内。", input.unit_code.trim()),
                    )
                })?;
                let reason = text("交办说明", false)?;
                CaseStep::Assign { unit_id: org.id, reason: (!reason.is_empty()).then_some(reason) }
            }
            "solve_on_spot" => CaseStep::SolveOnSpot { text: text("立行立改情况", true)? },
            "contact" => CaseStep::Contact { text: text("联系情况", true)? },
            "finding" => {
                let real_problem = input.real_problem.ok_or_else(|| {
                    AppError::invalid(
                        "real_problem",
                        "finding_required",
                        "请选择核实结果:确有问题,或无过错并作解释说明。",
                    )
                })?;
                let what = if real_problem { "核实情况" } else { "解释说明" };
                CaseStep::Finding { real_problem, long_term: real_problem && input.long_term, text: text(what, true)? }
            }
            "rectified" => CaseStep::Rectified { text: text("整改反馈", true)? },
            "plan_replied" => CaseStep::PlanReplied { text: text("解决办法和回复", true)? },
            "approve_plan" => CaseStep::ApprovePlan,
            "overturn_long_term" => CaseStep::OverturnLongTerm { text: text("否定理由", true)? },
            "follow_up" => {
                let solved = input.solved.ok_or_else(|| {
                    AppError::invalid("solved", "answer_required", "请选择回访结果:评价人认为问题已解决或未解决。")
                })?;
                CaseStep::FollowUp { solved, text: text("回访情况", true)? }
            }
            "escalate" => CaseStep::Escalate { reason: text("督办原因", true)? },
            "close" => CaseStep::Close,
            other => {
                return Err(AppError::invalid(
                    "step",
                    "unknown_step",
                    format!("不认识的办理步骤“{}”。", short(other, 20)),
                ));
            }
        })
    }

    /// Takes a step on a case as this person.
    pub async fn take_case_step(&self, who: &Principal, id: i64, input: &StepInput) -> AppResult<CaseView> {
        let row = self.case_for(who, id).await?;
        if input.version.is_some_and(|v| v != row.version) {
            return Err(stale());
        }
        let step = self.parse_step(who, &row, input).await?;
        let mut case = domain_case(&row);
        let role = role_for(&step, case.state);
        if !self.may_act(who, &row, role) {
            return Err(AppError::Forbidden);
        }
        let now = self.now();
        // The unit's limit this step meets, or, for the center's first assignment, its own dispatch limit
        // (counted in its on-time figure).
        let dispatch_due = (case.state == CaseState::Unassigned && role == CaseRole::HotlineCenter)
            .then(|| self.dispatch_due(&row))
            .flatten();
        let due = case.due_of(&step).map(|(k, d)| (k.as_str(), d)).or(dispatch_due.map(|d| (DISPATCH, d)));
        case.apply(&self.calendar(), now, role, step.clone()).map_err(refusal)?;
        let fields = fields_after(&case, &row.fields, marks_of(&row.fields));
        let mut w = CaseWrite { update: Some((row.id, row.version, fields.clone())), ..CaseWrite::default() };
        w.steps.push((row.id, step_row(&case, &step, role, &who.username, due, now)));
        let detail = step_detail(&step);
        self.step_messages(&row, &case, &step, now, &mut w).await?;
        w.audit.push(self.audit(
            &Actor::user(&who.username),
            "case.step",
            format!("case:{id}"),
            json!({ "step": step.kind(), "role": role.as_str(), "state": case.state.as_str(), "round": case.round, "detail": detail }),
        ));
        if !self.store.write_case(&w, now).await? {
            return Err(stale());
        }
        let row = self.store.case_by_id(id).await?.ok_or_else(|| case_not_found(id))?;
        Ok(self.case_view(&row))
    }

    /// A case as people see it, with the center's dispatch limit while it waits unassigned.
    pub fn case_view(&self, row: &CaseRow) -> CaseView {
        let mut v = CaseView::from_row(row);
        if v.state == CaseState::Unassigned.as_str() {
            v.dispatch_due_at = self.dispatch_due(row).map(|d| d.at);
        }
        v
    }

    /// The 12345 center's limit to assign this case, if the county sets one.
    pub(crate) fn dispatch_due(&self, row: &CaseRow) -> Option<Deadline> {
        hcp_domain::case::dispatch_deadline(&self.calendar(), row.clock_started_at, self.case_rules.dispatch_days)
    }

    /// The notifications a step sends (issue 5 §7): the unit on assignment and on a round sent back, the
    /// evaluator on contact and on the reply (with the link for a second rating), supervisors on escalation.
    async fn step_messages(
        &self,
        row: &CaseRow,
        case: &Case,
        step: &CaseStep,
        now: DateTime<Utc>,
        w: &mut CaseWrite,
    ) -> AppResult<()> {
        let due = |d: Option<Deadline>| d.map(|d| display_deadline(d.at)).unwrap_or_default();
        let deadlines = case.deadlines;
        let unit = match case.unit_id {
            Some(u) => self.store.org_by_id(u).await?,
            None => None,
        };
        let work_order = || {
            format!(
                "【好差评】差评工单 {}(办件 {},{})请贵单位办理:{} 前联系评价人,{} 前整改反馈;不能立即整改的,{} 前回复解决方案。",
                row.id,
                row.record_number,
                row.item_name,
                due(deadlines.map(|d| d.contact)),
                due(deadlines.map(|d| d.rectify)),
                due(deadlines.map(|d| d.reply)),
            )
        };
        let unit_name = unit.as_ref().map(|u| u.name.clone()).unwrap_or_default();
        match step {
            CaseStep::Assign { .. } => {
                if let Some(u) = &unit {
                    w.messages.push(unit_message(u, Some(row.id), "case_assigned", work_order(), now));
                }
            }
            CaseStep::FollowUp { solved: false, .. } => {
                if let Some(u) = &unit {
                    let body = format!("【好差评】回访评价人反映问题仍未解决。{}", work_order());
                    w.messages.push(unit_message(u, Some(row.id), "case_returned", body, now));
                }
            }
            CaseStep::Contact { .. } => {
                let body = format!(
                    "【好差评】您对“{}”的评价已由{}受理,工作人员已与您联系,将于 {} 前反馈处理结果。",
                    row.item_name,
                    unit_name,
                    due(case.handling_due()),
                );
                w.messages.extend(evaluator_message(row, "evaluator_contacted", body, now));
            }
            CaseStep::SolveOnSpot { text }
            | CaseStep::Rectified { text }
            | CaseStep::PlanReplied { text }
            | CaseStep::Finding { real_problem: false, text, .. } => {
                let mut body =
                    format!("【好差评】您对“{}”反映的问题,{}答复:{}", row.item_name, unit_name, short(text, 60));
                let mut link = None;
                // Only an applicant is asked to rate the rectification again (二次评价); an inspector revisits.
                if row.evaluation_id.is_some()
                    && matches!(step, CaseStep::SolveOnSpot { .. } | CaseStep::Rectified { .. })
                {
                    let token = secrets::new_token();
                    w.second_invite = Some((row.id, secrets::hash(&token)));
                    body.push_str(&format!(" 欢迎对整改结果再次评价:{}", crate::outbox::SECRET));
                    link = Some(format!("{}/e2/{}", self.public_url(), token));
                }
                if let Some(mut message) = evaluator_message(row, "evaluator_replied", body, now) {
                    // The link is the evaluator's credential: sealed in the outbox, opened only to send it.
                    message.secret = link.map(|l| self.keys.seal_secret(message.template, &message.recipient, &l));
                    w.messages.push(message);
                }
            }
            CaseStep::Escalate { reason } => {
                let body = format!(
                    "【好差评】差评工单 {}(办件 {},{})已提请督办:{}",
                    row.id,
                    row.record_number,
                    unit_name,
                    short(reason, 60)
                );
                for org in self.supervisors_of(case.unit_id.unwrap_or(row.org_id)).await? {
                    w.messages.push(unit_message(&org, Some(row.id), "case_escalated", body.clone(), now));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Who supervises a unit: its parent organization and the county (the root of its tree, where the county
    /// office sits), without repeats.
    pub(crate) async fn supervisors_of(&self, unit_id: i64) -> AppResult<Vec<OrgRow>> {
        let Some(unit) = self.store.org_by_id(unit_id).await? else { return Ok(Vec::new()) };
        let ids: Vec<i64> = unit.path.split('/').filter_map(|s| s.parse().ok()).collect();
        let mut out: Vec<OrgRow> = Vec::new();
        let parent = ids.len().checked_sub(2).map(|i| ids[i]);
        for id in [parent, ids.first().copied()].into_iter().flatten() {
            if out.iter().any(|o| o.id == id) {
                continue;
            }
            if let Some(o) = self.store.org_by_id(id).await? {
                out.push(o);
            }
        }
        Ok(out)
    }
}
