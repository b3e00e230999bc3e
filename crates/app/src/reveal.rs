//! An applicant's full contact, revealed only for a duty that needs it (issue 14 §1): the handling unit
//! contacting the evaluator of its case, the center following the case up, or a hotline agent on a call
//! logged with its 12345 ticket, which the 12345 system registered for that record (issue 29 §3). Each person
//! has a daily quota (`--reveal-quota`); past it the reveal is refused and the auditor sees it. Every reveal and every refusal is in the audit log.

use hcp_domain::case::CaseState;
use hcp_domain::identity::TicketNumber;
use hcp_store::{CaseRow, RecordRow};
use serde_json::json;

use crate::audit::Actor;
use crate::keys::PlainApplicant;
use crate::policy::{Action, Principal, Role, Target};
use crate::{App, AppError, AppResult};

/// Reveals per person and business day unless the county sets another number.
pub const DEFAULT_REVEAL_QUOTA: u32 = 30;
/// So many reveals by one person within so long is a burst the auditor is alerted to (a call centre agent
/// looks up a caller now and then, not ten in ten minutes).
pub const BURST_REVEALS: i64 = 10;
pub const BURST_WINDOW: chrono::Duration = chrono::Duration::minutes(10);

/// Whose quota a reveal counts against: the person — the staff member (工号) an account is linked to, so that a
/// person's accounts share one quota — or, for an account linked to none, the account (issue 29 §3).
pub fn person_key(who: &Principal) -> String {
    match who.staff_id {
        Some(staff) => format!("staff:{staff}"),
        None => format!("user:{}", who.user_id),
    }
}

/// What the person asks: why, and for a hotline call, its ticket.
#[derive(Debug, Clone, Default)]
pub struct RevealRequest {
    pub reason: String,
    pub ticket_number: String,
}

/// The duty a reveal serves, as recorded in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevealPurpose {
    /// The unit working the case must reach the evaluator (contact within 1 working day, then rectify).
    CaseContact { case_id: i64 },
    /// The 12345 center follows the handled case up with the evaluator (回访).
    CaseFollowUp { case_id: i64 },
    /// A hotline agent speaking with the caller, on the ticket of the call.
    HotlineCall { ticket_number: String },
}

impl RevealPurpose {
    fn code(&self) -> &'static str {
        match self {
            RevealPurpose::CaseContact { .. } => "case_contact",
            RevealPurpose::CaseFollowUp { .. } => "case_follow_up",
            RevealPurpose::HotlineCall { .. } => "hotline_call",
        }
    }
}

/// How a person may reveal a record's contact now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevealAccess {
    /// Not at all: no case step of theirs needs it and they take no calls for it.
    None,
    /// For the case they are working (no ticket asked).
    Case(RevealPurpose),
    /// As a hotline agent, with the ticket of the call.
    OnCall,
}

impl App {
    /// Whether and how this person may reveal the record's contact now.
    pub async fn reveal_access(&self, who: &Principal, rec: &RecordRow) -> AppResult<RevealAccess> {
        if let Some(first) = &rec.evaluation
            && let Some(case) = self.store.case_of_evaluation(first.id).await?
            && let Some(purpose) = case_reveal_purpose(who, &case)
        {
            return Ok(RevealAccess::Case(purpose));
        }
        let agent = who.bindings.iter().any(|b| b.role == Role::HotlineAgent && rec.org_path.starts_with(&b.org_path));
        Ok(if agent { RevealAccess::OnCall } else { RevealAccess::None })
    }

    /// The applicant's full data, for a duty; the reason (and on a call, the ticket) recorded with who and when.
    pub async fn reveal_contact(&self, who: &Principal, id: i64, req: &RevealRequest) -> AppResult<PlainApplicant> {
        let reason = hcp_domain::identity::parse_text("reason", &req.reason, 200, "查看原因")?;
        if reason.chars().count() < 4 {
            return Err(AppError::invalid(
                "reason",
                "reason_too_short",
                "请写明查看原因(至少 4 个字),例如“1 个工作日内联系评价人”。",
            ));
        }
        // Seen at all within scope; what may be revealed of it is decided by the duty below.
        let rec = self.record_for(who, id, Action::ViewRecords).await?;
        let purpose = match self.reveal_access(who, &rec).await? {
            RevealAccess::Case(p) => p,
            RevealAccess::OnCall => {
                let ticket = TicketNumber::parse("ticket_number", &req.ticket_number)?;
                if let Err(unknown) = self.registered_ticket(&ticket, rec.id).await {
                    let refused = self.audit(
                        &Actor::user(&who.username),
                        "applicant.reveal_refused",
                        format!("service_record:{id}"),
                        json!({ "why": "unknown_ticket", "ticket_number": ticket.as_str(), "purpose": "hotline_call" }),
                    );
                    self.store.append_audit(&[refused]).await?;
                    return Err(unknown);
                }
                RevealPurpose::HotlineCall { ticket_number: ticket.as_str().to_string() }
            }
            RevealAccess::None => return Err(no_purpose()),
        };
        let actor = Actor::user(&who.username);
        let quota = self.safeguards.reveal_quota;
        let day = hcp_domain::calendar::business_date(self.now()).to_string();
        if !self.store.take_reveal(&person_key(who), &day, i64::from(quota)).await? {
            let refused = self.audit(
                &actor,
                "applicant.reveal_refused",
                format!("service_record:{id}"),
                json!({ "why": "quota", "quota": quota, "purpose": purpose.code() }),
            );
            self.store.append_audit(&[refused]).await?;
            tracing::warn!(user = %who.username, quota, "reveal quota reached; refused and shown to the auditor");
            return Err(AppError::TooMany {
                code: "reveal_quota_exceeded",
                message: format!(
                    "您今天查看完整联系方式已达 {quota} 次上限,本次未显示,审计员会看到此情况。确有工作需要,请明天再查看或联系中心管理员。"
                ),
            });
        }
        let plain = self.keys.open(&rec)?;
        let mut details =
            json!({ "reason": reason, "purpose": purpose.code(), "fields": ["name", "id_number", "mobile"] });
        match &purpose {
            RevealPurpose::CaseContact { case_id } | RevealPurpose::CaseFollowUp { case_id } => {
                details["case_id"] = json!(case_id);
            }
            RevealPurpose::HotlineCall { ticket_number } => details["ticket_number"] = json!(ticket_number),
        }
        let audit = self.audit(&actor, "applicant.reveal", format!("service_record:{id}"), details);
        self.store.append_audit(&[audit]).await?;
        self.note_reveal_burst(who).await?;
        Ok(plain)
    }

    /// A burst — [`BURST_REVEALS`] reveals by one person within [`BURST_WINDOW`] — is an alert to the auditor
    /// (issue 29 §3), raised once per window as the burst reaches the threshold: an audit entry the auditor's
    /// home counts.
    async fn note_reveal_burst(&self, who: &Principal) -> AppResult<()> {
        let accounts = match who.staff_id {
            Some(staff) => self.store.usernames_of_staff(staff).await?,
            None => vec![who.username.clone()],
        };
        let actors: Vec<String> = accounts.iter().map(|a| Actor::user(a).as_str().to_string()).collect();
        let since = self.now() - BURST_WINDOW;
        let recent = self.store.reveals_since(&actors, since).await?;
        // At or past the threshold, unless alerted within the window: parallel reveals may count past the
        // threshold together (an equality test let a scripted burst through without any alert).
        let target = format!("user:{}", who.user_id);
        if recent >= BURST_REVEALS
            && self.store.audit_count_on_since("applicant.reveal_burst", &target, since).await? == 0
        {
            tracing::warn!(user = %who.username, recent, "a burst of reveals by one person; the auditor is alerted");
            let alert = self.audit(
                &Actor::user(&who.username),
                "applicant.reveal_burst",
                target,
                json!({ "reveals": recent, "minutes": BURST_WINDOW.num_minutes() }),
            );
            self.store.append_audit(&[alert]).await?;
        }
        Ok(())
    }

    /// Bursts of reveals today, for the auditor's console home.
    pub async fn reveal_bursts_today(&self, who: &Principal) -> AppResult<i64> {
        if !who.may(Action::ViewAudit, None) {
            return Err(AppError::Forbidden);
        }
        let start = hcp_domain::calendar::start_of_day(hcp_domain::calendar::business_date(self.now()));
        Ok(self.store.audit_count_since("applicant.reveal_burst", start).await?)
    }

    /// Reveals refused today for the quota, for the auditor's console home.
    pub async fn reveal_refusals_today(&self, who: &Principal) -> AppResult<i64> {
        if !who.may(Action::ViewAudit, None) {
            return Err(AppError::Forbidden);
        }
        let start = hcp_domain::calendar::start_of_day(hcp_domain::calendar::business_date(self.now()));
        Ok(self.store.audit_count_since("applicant.reveal_refused", start).await?)
    }
}

/// The duty of this case that needs the evaluator's contact now, if this person holds it: the unit's work from
/// contact to rectification, the center's follow-up of a handled case.
pub fn case_reveal_purpose(who: &Principal, case: &CaseRow) -> Option<RevealPurpose> {
    // A visit's inspector is a county officer, reached in the console: there is no applicant to reveal.
    case.service_record_id?;
    let state = crate::cases::domain_case(case).state;
    let t = |p| Some(Target { org_path: p, staff_id: case.staff_id });
    let unit_works = case.unit_path.as_deref().is_some_and(|p| who.may(Action::WorkCase, t(p)));
    if unit_works && matches!(state, CaseState::Assigned | CaseState::Contacted | CaseState::Rectifying) {
        return Some(RevealPurpose::CaseContact { case_id: case.id });
    }
    if state == CaseState::Handled && who.may(Action::DispatchCase, t(&case.org_path)) {
        return Some(RevealPurpose::CaseFollowUp { case_id: case.id });
    }
    None
}

fn no_purpose() -> AppError {
    AppError::denied(
        "reveal_no_purpose",
        "只有正在办理该办件差评工单的联系或回访环节,或在12345来电中(填写工单编号)时,才能查看完整联系方式。",
    )
}
