//! The bad-review case (差评工单) as an explicit state machine (R9, issue 5 §6): assigned by the hotline
//! center, worked by the handling unit within the "1, 5, 15" working-day limits, closed only after the
//! evaluator was followed up. Pure: every step is allowed or refused by state and role, with a message a clerk
//! understands; storage and pages come later (issue 5).

use chrono::{DateTime, Utc};

use crate::calendar::{Calendar, Deadline};

/// "1, 5, 15" (R9.3): contact within 1 working day, rectify within 5, reply with a plan within 15.
pub const CONTACT_DAYS: u32 = 1;
pub const RECTIFY_DAYS: u32 = 5;
pub const REPLY_DAYS: u32 = 15;

/// Working days the 12345 center has to dispatch a bad review, unless the county sets another number
/// (`--dispatch-days`; 0: no limit).
pub const DEFAULT_DISPATCH_DAYS: u32 = 1;

/// The 12345 center's own limit to assign a bad review (issue 15 §3): N working days from the review, so a bad
/// review cannot wait unassigned for ever unseen. `None` when the county sets no limit.
pub fn dispatch_deadline(calendar: &Calendar, reviewed_at: DateTime<Utc>, days: u32) -> Option<Deadline> {
    (days > 0).then(|| calendar.add_working_days(reviewed_at, days))
}

/// Who acts on a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseRole {
    /// 12345 hotline center: assigns, follows up, closes.
    HotlineCenter,
    /// The handling unit the case is assigned to.
    Unit,
    /// The county office: takes escalated cases.
    CountyOffice,
    /// The system itself (an upheld appeal closes the case).
    System,
}

impl CaseRole {
    /// The stored code (the `role` of a step row).
    pub fn as_str(self) -> &'static str {
        match self {
            CaseRole::HotlineCenter => "hotline_center",
            CaseRole::Unit => "unit",
            CaseRole::CountyOffice => "county_office",
            CaseRole::System => "system",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseStep {
    /// Hand the case to a unit; reassigning needs a reason.
    Assign { unit_id: i64, reason: Option<String> },
    /// 立行立改: solved on the spot (counts as contact and rectification).
    SolveOnSpot { text: String },
    /// The unit reached the evaluator.
    Contact { text: String },
    /// The unit's finding: a real problem, or no fault (then the text is the explanation, 解释说明). A real
    /// problem that cannot be fixed quickly (`long_term`, found within the 5-day limit) has until the 15-day
    /// reply for its plan at once — plan §九 needs no approval; any other must be rectified within 5.
    Finding { real_problem: bool, long_term: bool, text: String },
    /// Rectification done, with feedback to the evaluator.
    Rectified { text: String },
    /// Cannot be fixed quickly: the plan, replied to the evaluator within 15 working days — after the unit found
    /// the problem long-term (plan §九).
    PlanReplied { text: String },
    /// The 12345 center, reviewing a long-term finding, accepts it (it stood already; the review is recorded).
    ApprovePlan,
    /// The 12345 center, reviewing a long-term finding, overturns it with its reason: the 5-day limit applies
    /// again, counted from where it did (late if already past).
    OverturnLongTerm { text: String },
    /// 回访: was it solved, in the evaluator's words? Not solved sends it back for another round.
    FollowUp { solved: bool, text: String },
    /// Not solved after follow-up: up to the county office instead of another round.
    Escalate { reason: String },
    /// 办结, after a follow-up that found it solved (or by the county office for an escalated case).
    Close,
    /// The bad review was invalidated by an upheld appeal.
    CloseAsAppealed,
}

impl CaseStep {
    /// The stored code of the step.
    pub fn kind(&self) -> &'static str {
        match self {
            CaseStep::Assign { .. } => "assign",
            CaseStep::SolveOnSpot { .. } => "solve_on_spot",
            CaseStep::Contact { .. } => "contact",
            CaseStep::Finding { .. } => "finding",
            CaseStep::Rectified { .. } => "rectified",
            CaseStep::PlanReplied { .. } => "plan_replied",
            CaseStep::ApprovePlan => "approve_plan",
            CaseStep::OverturnLongTerm { .. } => "overturn_long_term",
            CaseStep::FollowUp { .. } => "follow_up",
            CaseStep::Escalate { .. } => "escalate",
            CaseStep::Close => "close",
            CaseStep::CloseAsAppealed => "close_as_appealed",
        }
    }

    /// The step's text, as the person wrote it.
    pub fn text(&self) -> &str {
        match self {
            CaseStep::Assign { reason, .. } => reason.as_deref().unwrap_or(""),
            CaseStep::SolveOnSpot { text }
            | CaseStep::Contact { text }
            | CaseStep::Finding { text, .. }
            | CaseStep::Rectified { text }
            | CaseStep::PlanReplied { text }
            | CaseStep::OverturnLongTerm { text }
            | CaseStep::FollowUp { text, .. } => text,
            CaseStep::Escalate { reason } => reason,
            CaseStep::Close | CaseStep::CloseAsAppealed | CaseStep::ApprovePlan => "",
        }
    }
}

/// The Chinese name of a stored step code (for the case history).
pub fn step_name_zh(kind: &str) -> &'static str {
    match kind {
        "assign" => "交办",
        "solve_on_spot" => "立行立改",
        "contact" => "联系评价人",
        "finding" => "核实情况",
        "rectified" => "整改反馈",
        "plan_replied" => "回复解决方案",
        "approve_plan" => "确认长期问题",
        "overturn_long_term" => "否定长期问题",
        "follow_up" => "回访",
        "escalate" => "督办",
        "close" => "办结",
        "close_as_appealed" => "申诉成立办结",
        "overdue" => "逾期",
        "reminder" => "到期提醒",
        "attachment" => "附件",
        "recalculated" => "期限重算",
        _ => "其他",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseState {
    Unassigned,
    /// With the unit, waiting for contact.
    Assigned,
    /// Contacted, waiting for the finding.
    Contacted,
    /// Real problem found, waiting for rectification or a plan.
    Rectifying,
    /// Handled (rectified, replied, explained or solved on the spot), waiting for the follow-up.
    Handled,
    /// Followed up and solved, waiting to be closed.
    Solved,
    /// With the county office.
    Escalated,
    Closed,
    ClosedAsAppealed,
}

impl CaseState {
    pub fn name_zh(self) -> &'static str {
        match self {
            CaseState::Unassigned => "待交办",
            CaseState::Assigned => "待联系",
            CaseState::Contacted => "待核实",
            CaseState::Rectifying => "整改中",
            CaseState::Handled => "待回访",
            CaseState::Solved => "待办结",
            CaseState::Escalated => "已督办",
            CaseState::Closed => "已办结",
            CaseState::ClosedAsAppealed => "申诉成立,已办结",
        }
    }

    pub const ALL: [CaseState; 9] = [
        CaseState::Unassigned,
        CaseState::Assigned,
        CaseState::Contacted,
        CaseState::Rectifying,
        CaseState::Handled,
        CaseState::Solved,
        CaseState::Escalated,
        CaseState::Closed,
        CaseState::ClosedAsAppealed,
    ];

    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Unassigned => "unassigned",
            CaseState::Assigned => "assigned",
            CaseState::Contacted => "contacted",
            CaseState::Rectifying => "rectifying",
            CaseState::Handled => "handled",
            CaseState::Solved => "solved",
            CaseState::Escalated => "escalated",
            CaseState::Closed => "closed",
            CaseState::ClosedAsAppealed => "closed_as_appealed",
        }
    }

    pub fn parse(s: &str) -> Option<CaseState> {
        CaseState::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn is_closed(self) -> bool {
        matches!(self, CaseState::Closed | CaseState::ClosedAsAppealed)
    }
}

/// The deadlines of one round of work, from its assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundDeadlines {
    pub assigned_at: DateTime<Utc>,
    pub contact: Deadline,
    pub rectify: Deadline,
    pub reply: Deadline,
}

impl RoundDeadlines {
    pub fn from(calendar: &Calendar, assigned_at: DateTime<Utc>) -> RoundDeadlines {
        RoundDeadlines {
            assigned_at,
            contact: calendar.add_working_days(assigned_at, CONTACT_DAYS),
            rectify: calendar.add_working_days(assigned_at, RECTIFY_DAYS),
            reply: calendar.add_working_days(assigned_at, REPLY_DAYS),
        }
    }
}

/// A case: its state, the unit, the current round's deadlines, and every step with when it was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub state: CaseState,
    pub unit_id: Option<i64>,
    pub round: u32,
    pub deadlines: Option<RoundDeadlines>,
    /// This round's finding said the problem cannot be fixed quickly: handling is due at the 15-day reply.
    pub long_term: bool,
    /// … and the center reviewed that finding and let it stand (a review waits while this is false).
    pub plan_approved: bool,
    pub steps: Vec<(DateTime<Utc>, CaseRole, CaseStep)>,
}

/// The two limits a unit can miss in a round: contact (1 working day) and handling (5, or 15 for a plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeadlineKind {
    Contact,
    Handling,
}

impl DeadlineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineKind::Contact => "contact",
            DeadlineKind::Handling => "handling",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            DeadlineKind::Contact => "联系评价人",
            DeadlineKind::Handling => "整改反馈",
        }
    }
}

/// Why a step was refused: a stable code and a Chinese message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal { code, message: message.into() }
}

fn required(text: &str, what: &str) -> Result<(), Refusal> {
    if text.trim().is_empty() { Err(refuse("text_required", format!("请填写{what}。"))) } else { Ok(()) }
}

impl Default for Case {
    fn default() -> Self {
        Case::open()
    }
}

impl Case {
    /// A new case, opened the moment a bad review is recorded.
    pub fn open() -> Case {
        Case {
            state: CaseState::Unassigned,
            unit_id: None,
            round: 0,
            deadlines: None,
            long_term: false,
            plan_approved: false,
            steps: Vec::new(),
        }
    }

    /// A stored case, to apply the next step to (its past steps are kept by the store, not needed here).
    pub fn restore(
        state: CaseState,
        unit_id: Option<i64>,
        round: u32,
        deadlines: Option<RoundDeadlines>,
        long_term: bool,
        plan_approved: bool,
    ) -> Case {
        Case { state, unit_id, round, deadlines, long_term, plan_approved, steps: Vec::new() }
    }

    /// When this round's handling is due: the 15-day reply for a problem found in time to be long-term (until
    /// the center overturns that finding), the 5-day rectification otherwise. The unit is never held to the 5
    /// days while the center has not reviewed its finding (issue 30 §1: a case was marked late on day 6 for the
    /// center's delay).
    pub fn handling_due(&self) -> Option<Deadline> {
        self.deadlines.map(|d| if self.long_term { d.reply } else { d.rectify })
    }

    /// The deadline a step meets (for on-time statistics), if it is one of the unit's timed steps.
    pub fn due_of(&self, step: &CaseStep) -> Option<(DeadlineKind, Deadline)> {
        let d = self.deadlines?;
        match step {
            CaseStep::Contact { .. } => Some((DeadlineKind::Contact, d.contact)),
            CaseStep::SolveOnSpot { .. } if self.state == CaseState::Assigned => {
                Some((DeadlineKind::Contact, d.contact))
            }
            CaseStep::SolveOnSpot { .. } => Some((DeadlineKind::Handling, d.rectify)),
            CaseStep::Rectified { .. } => Some((DeadlineKind::Handling, self.handling_due()?)),
            CaseStep::Finding { real_problem: false, .. } => Some((DeadlineKind::Handling, d.rectify)),
            CaseStep::PlanReplied { .. } => Some((DeadlineKind::Handling, d.reply)),
            _ => None,
        }
    }

    /// The limits of this round that have passed at `now` with their step not done. An escalated or closed
    /// case runs no clock; a case waiting for follow-up has done its part.
    pub fn missed(&self, now: DateTime<Utc>) -> Vec<DeadlineKind> {
        let Some(d) = self.deadlines else { return Vec::new() };
        let mut out = Vec::new();
        if self.state == CaseState::Assigned && now > d.contact.at {
            out.push(DeadlineKind::Contact);
        }
        let working = matches!(self.state, CaseState::Assigned | CaseState::Contacted | CaseState::Rectifying);
        if working && self.handling_due().is_some_and(|h| now > h.at) {
            out.push(DeadlineKind::Handling);
        }
        out
    }

    /// Applies a step by a role at a time, or says why not. The case is unchanged on refusal.
    pub fn apply(
        &mut self,
        calendar: &Calendar,
        at: DateTime<Utc>,
        role: CaseRole,
        step: CaseStep,
    ) -> Result<(), Refusal> {
        use CaseRole as R;
        use CaseState as S;
        let next = match (&step, self.state, role) {
            (_, s, _) if s.is_closed() => return Err(refuse("case_closed", "工单已办结,不能再办理。")),
            (CaseStep::CloseAsAppealed, _, R::System) => S::ClosedAsAppealed,
            (CaseStep::Assign { reason, .. }, S::Unassigned, R::HotlineCenter) => {
                if reason.as_deref().is_some_and(|r| r.trim().is_empty()) {
                    return Err(refuse("text_required", "请填写交办说明。"));
                }
                S::Assigned
            }
            // The automatic rule (after a set time without the center acting) proposes the record's unit.
            (CaseStep::Assign { .. }, S::Unassigned, R::System) => S::Assigned,
            (CaseStep::Assign { reason, .. }, S::Assigned | S::Contacted, R::HotlineCenter) => {
                required(reason.as_deref().unwrap_or(""), "改派原因")?;
                S::Assigned
            }
            // The county office sends an escalated case back to a unit (督办), with its instructions.
            (CaseStep::Assign { reason, .. }, S::Escalated, R::CountyOffice) => {
                required(reason.as_deref().unwrap_or(""), "督办意见")?;
                S::Assigned
            }
            (CaseStep::SolveOnSpot { text }, S::Assigned | S::Contacted, R::Unit) => {
                required(text, "立行立改情况")?;
                S::Handled
            }
            (CaseStep::Contact { text }, S::Assigned, R::Unit) => {
                required(text, "联系情况")?;
                S::Contacted
            }
            (CaseStep::Finding { real_problem, long_term, text }, S::Contacted, R::Unit) => {
                required(text, if *real_problem { "核实情况" } else { "解释说明" })?;
                if *real_problem && *long_term && self.deadlines.is_some_and(|d| at > d.rectify.at) {
                    return Err(refuse(
                        "too_late_for_long_term",
                        "5 个工作日的整改期限已过,不能再认定为短期内无法解决的问题;请尽快整改并反馈。",
                    ));
                }
                if *real_problem { S::Rectifying } else { S::Handled }
            }
            (CaseStep::Rectified { text }, S::Rectifying, R::Unit) => {
                required(text, "整改反馈")?;
                S::Handled
            }
            (CaseStep::PlanReplied { text }, S::Rectifying, R::Unit) => {
                if !self.long_term {
                    return Err(refuse(
                        "plan_needs_long_term_finding",
                        "只有核实为短期内无法解决的问题才能回复解决方案;其他问题须在 5 个工作日内整改并反馈。",
                    ));
                }
                required(text, "解决办法和回复")?;
                S::Handled
            }
            (CaseStep::ApprovePlan, S::Rectifying, R::HotlineCenter) => {
                if !self.long_term || self.plan_approved {
                    return Err(refuse(
                        "no_plan_to_approve",
                        if self.plan_approved {
                            "该工单的长期问题已审核过。"
                        } else {
                            "承办单位的核实结论不是“短期内无法解决”,没有需要审核的长期问题。"
                        },
                    ));
                }
                S::Rectifying
            }
            (CaseStep::ApprovePlan, _, R::HotlineCenter) => {
                return Err(refuse("no_plan_to_approve", "工单当前没有待审核的长期问题。"));
            }
            (CaseStep::OverturnLongTerm { text }, S::Rectifying, R::HotlineCenter) if self.long_term => {
                required(text, "否定理由")?;
                S::Rectifying
            }
            (CaseStep::OverturnLongTerm { .. }, _, R::HotlineCenter) => {
                return Err(refuse("no_plan_to_approve", "工单当前没有可审核的长期问题。"));
            }
            (CaseStep::FollowUp { solved, text }, S::Handled, R::HotlineCenter) => {
                required(text, "回访情况")?;
                // Not solved: another round with the same unit and new deadlines.
                if *solved { S::Solved } else { S::Assigned }
            }
            (
                CaseStep::Escalate { reason },
                S::Handled | S::Assigned | S::Contacted | S::Rectifying,
                R::HotlineCenter,
            ) => {
                required(reason, "督办原因")?;
                S::Escalated
            }
            (CaseStep::Close, S::Solved, R::HotlineCenter) | (CaseStep::Close, S::Escalated, R::CountyOffice) => {
                S::Closed
            }
            (CaseStep::Close, _, _) => {
                return Err(refuse("follow_up_first", "工单须经回访确认问题已解决(或由县政府办公室督办)后才能办结。"));
            }
            (_, state, _) => {
                return Err(refuse(
                    "step_not_allowed",
                    format!("工单当前为“{}”,您的角色不能进行此步骤。", state.name_zh()),
                ));
            }
        };
        match &step {
            CaseStep::Assign { unit_id, .. } => {
                self.unit_id = Some(*unit_id);
                self.round += 1;
                self.deadlines = Some(RoundDeadlines::from(calendar, at));
                self.long_term = false;
                self.plan_approved = false;
            }
            CaseStep::FollowUp { solved: false, .. } => {
                self.round += 1;
                self.deadlines = Some(RoundDeadlines::from(calendar, at));
                self.long_term = false;
                self.plan_approved = false;
            }
            CaseStep::Finding { real_problem, long_term, .. } => self.long_term = *real_problem && *long_term,
            CaseStep::ApprovePlan => self.plan_approved = true,
            CaseStep::OverturnLongTerm { .. } => {
                self.long_term = false;
                self.plan_approved = true;
            }
            _ => {}
        }
        self.state = next;
        self.steps.push((at, role, step));
        Ok(())
    }

    /// Whether the case breaks a rule no sequence of steps may break (for tests and for data checks).
    pub fn inconsistency(&self) -> Option<&'static str> {
        let has = |f: &dyn Fn(&CaseStep) -> bool| self.steps.iter().any(|(_, _, s)| f(s));
        if self.state == CaseState::Closed {
            let followed_solved = has(&|s| matches!(s, CaseStep::FollowUp { solved: true, .. }));
            let escalated = has(&|s| matches!(s, CaseStep::Escalate { .. }));
            if !followed_solved && !escalated {
                return Some("closed without a follow-up or escalation");
            }
            let handled = has(&|s| {
                matches!(
                    s,
                    CaseStep::SolveOnSpot { .. }
                        | CaseStep::Rectified { .. }
                        | CaseStep::PlanReplied { .. }
                        | CaseStep::Finding { real_problem: false, .. }
                )
            });
            if !handled && !escalated {
                return Some("closed without being handled");
            }
        }
        if self.state != CaseState::Unassigned && self.state != CaseState::ClosedAsAppealed && self.unit_id.is_none() {
            return Some("worked without a unit");
        }
        if self.unit_id.is_some() && self.deadlines.is_none() {
            return Some("assigned without deadlines");
        }
        // A plan replied only after a long-term finding of the same round that the center did not overturn.
        let mut long_term = false;
        for (_, _, s) in &self.steps {
            match s {
                CaseStep::Assign { .. } | CaseStep::FollowUp { solved: false, .. } => long_term = false,
                CaseStep::Finding { real_problem, long_term: l, .. } => long_term = *real_problem && *l,
                CaseStep::OverturnLongTerm { .. } => long_term = false,
                CaseStep::PlanReplied { .. } if !long_term => {
                    return Some("a plan replied without a long-term finding");
                }
                _ => {}
            }
        }
        None
    }
}

/// Which reminders and missed limits of the current round were already acted on (each happens once a round).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClockMarks {
    pub contact_reminded: bool,
    pub handling_reminded: bool,
    pub contact_missed: bool,
    pub handling_missed: bool,
}

/// What the clock does to a case: remind the unit before a limit, or mark it missed (逾期) and escalate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockEvent {
    Remind(DeadlineKind),
    Miss(DeadlineKind),
}

/// Reminders go out at 08:30 (UTC+8) on the day a limit falls due: in office hours, with the day to act.
pub fn reminder_time(due: Deadline) -> DateTime<Utc> {
    (crate::calendar::start_of_day(due.date) + chrono::Duration::minutes(8 * 60 + 30)).min(due.at)
}

impl Case {
    /// The clock's pending events for this round, earliest first. Only the steps not yet done run a clock.
    pub fn clock(&self, marks: ClockMarks) -> Vec<(DateTime<Utc>, ClockEvent)> {
        let Some(d) = self.deadlines else { return Vec::new() };
        let mut out = Vec::new();
        if self.state == CaseState::Assigned {
            if !marks.contact_reminded {
                out.push((reminder_time(d.contact), ClockEvent::Remind(DeadlineKind::Contact)));
            }
            if !marks.contact_missed {
                out.push((d.contact.at, ClockEvent::Miss(DeadlineKind::Contact)));
            }
        }
        let working = matches!(self.state, CaseState::Assigned | CaseState::Contacted | CaseState::Rectifying);
        if let (true, Some(h)) = (working, self.handling_due()) {
            if !marks.handling_reminded {
                out.push((reminder_time(h), ClockEvent::Remind(DeadlineKind::Handling)));
            }
            if !marks.handling_missed {
                out.push((h.at, ClockEvent::Miss(DeadlineKind::Handling)));
            }
        }
        out.sort_by_key(|(t, _)| *t);
        out
    }
}
