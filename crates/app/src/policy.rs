//! The one place that answers "may this person do this to that" (issue 4 §2), from role and scope. Every
//! console route asks it; the test matrix in `tests/api/policy.rs` runs every role against every route.

use serde::Serialize;

/// A role, bound to an organization subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 工作人员: sees evaluations of their own service.
    Staff,
    /// 承办单位管理员: works the bad reviews of its unit and what is under it.
    UnitAdmin,
    /// 12345 热线坐席: finds callers' records, records hotline evaluations, follows up.
    HotlineAgent,
    /// 中心管理员: runs the system day to day (catalog, calendar, appeals).
    CenterAdmin,
    /// 县政府办公室: supervises.
    CountyOffice,
    /// 审计员: reads the audit log, nothing else.
    Auditor,
    /// 系统管理员: accounts.
    SystemAdmin,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Staff,
        Role::UnitAdmin,
        Role::HotlineAgent,
        Role::CenterAdmin,
        Role::CountyOffice,
        Role::Auditor,
        Role::SystemAdmin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::UnitAdmin => "unit_admin",
            Role::HotlineAgent => "hotline_agent",
            Role::CenterAdmin => "center_admin",
            Role::CountyOffice => "county_office",
            Role::Auditor => "auditor",
            Role::SystemAdmin => "system_admin",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Role::Staff => "工作人员",
            Role::UnitAdmin => "承办单位管理员",
            Role::HotlineAgent => "12345热线坐席",
            Role::CenterAdmin => "政务服务中心管理员",
            Role::CountyOffice => "县政府办公室",
            Role::Auditor => "审计员",
            Role::SystemAdmin => "系统管理员",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// What someone wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Open the console and change one's own password.
    UseConsole,
    /// See service records and their evaluations, applicant masked.
    ViewRecords,
    /// Record an evaluation a caller gives by phone (R5.1), marked as such, with the agent.
    RecordHotlineEvaluation,
    /// Read the audit log.
    ViewAudit,
    /// Load a holiday calendar (issue 3 §2).
    ImportCalendar,
    /// The 12345 center's part of a case: assign, follow up, escalate, close (target: the record's org).
    DispatchCase,
    /// The handling unit's part of a case (target: the assigned unit).
    WorkCase,
    /// The county office's part: take escalated cases, send them back, close them.
    SuperviseCase,
    /// Appeal a bad review of one's own service (target: the record, with its staff member).
    FileAppeal,
    /// Stage 1 of an appeal: the unit's check (target: the record's org).
    CheckAppeal,
    /// Stage 2 of an appeal: the center's review.
    ReviewAppeal,
    /// The filing register of appeal decisions (备案), for the management body.
    ViewFilingRegister,
    /// Notifications waiting or failing at the gateway (operations).
    ViewOutbox,
    /// Statistics and rankings of an org subtree (issue 7).
    ViewStats,
    /// Generate, publish and correct reports (通报); issue and close rectification orders (R10, R12).
    ManageResults,
    /// Assessment points and their breakdown (R10.2).
    ViewAssessment,
    /// Answer a rectification order for one's unit (R12.1).
    ReportRectification,
    /// Add organizations, halls, windows, staff, service items, hall devices and accounts (issue 6 §3).
    ManageCatalog,
    /// See the exchange with the upper level, its rejections and pulled evaluations; resend (issue 13).
    ManageExchange,
    /// The integrity checks' flags (issue 16): the county office investigates, auditors look on.
    ViewIntegrity,
    /// Investigate and conclude a flag, setting fake or malicious evaluations aside (issue 16 §4).
    InvestigateIntegrity,
    /// Confirm or reject a conclusion that sets evaluations aside, proposed by someone else (issue 29 §8): the
    /// county office and the auditors.
    ConfirmIntegrity,
    /// Refer a clue of suspected misconduct to the body that handles it (issue 16 §6, plan §十二).
    ReferClue,
    /// See every referral (the county office, auditors); others see only their own.
    ViewReferrals,
    /// Plan mystery-shopper visits (调查暗访, issue 16 §5) of windows in one's subtree.
    PlanInspection,
    /// See the visits and their findings (the county office, auditors).
    ViewInspections,
    /// Be named a visit's inspector and record its evaluation (only the named account, within its dates).
    RecordInspection,
}

/// A role over the org subtree at `org_path` (`/1/5/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub role: Role,
    pub org_path: String,
    pub org_name: String,
}

/// A logged-in person.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    /// The staff member this person is, if any.
    pub staff_id: Option<i64>,
    pub bindings: Vec<Binding>,
}

/// What an action is done to: something of an organization, possibly served by a staff member.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub org_path: &'a str,
    pub staff_id: Option<i64>,
}

impl Principal {
    pub fn has_role(&self, role: Role) -> bool {
        self.bindings.iter().any(|b| b.role == role)
    }

    fn covers(&self, roles: &[Role], target: Option<Target<'_>>) -> bool {
        self.bindings
            .iter()
            .any(|b| roles.contains(&b.role) && target.is_none_or(|t| t.org_path.starts_with(&b.org_path)))
    }

    /// The answer. `target` is `None` for actions on nothing in particular (opening a list page); scoped
    /// lists then filter by [`Principal::scopes`].
    pub fn may(&self, action: Action, target: Option<Target<'_>>) -> bool {
        use Role::*;
        match action {
            Action::UseConsole => !self.bindings.is_empty(),
            Action::ViewRecords => {
                self.covers(&[UnitAdmin, HotlineAgent, CenterAdmin, CountyOffice], target)
                    || (self.has_role(Staff)
                        && target.is_some_and(|t| t.staff_id.is_some() && t.staff_id == self.staff_id))
                    || (self.has_role(Staff) && target.is_none())
            }
            Action::RecordHotlineEvaluation => {
                self.covers(&[HotlineAgent], target)
                    // R6.1: nobody rates a service they gave.
                    && !target.is_some_and(|t| t.staff_id.is_some() && t.staff_id == self.staff_id)
            }
            Action::ViewAudit => self.covers(&[Auditor], target),
            Action::ImportCalendar => self.covers(&[CenterAdmin], target),
            Action::DispatchCase => self.covers(&[HotlineAgent, CenterAdmin], target),
            Action::WorkCase => self.covers(&[UnitAdmin], target),
            Action::SuperviseCase => self.covers(&[CountyOffice], target),
            Action::FileAppeal => {
                self.has_role(Staff) && target.is_none_or(|t| t.staff_id.is_some() && t.staff_id == self.staff_id)
            }
            Action::CheckAppeal => self.covers(&[UnitAdmin], target),
            Action::ReviewAppeal => self.covers(&[CenterAdmin], target),
            Action::ViewFilingRegister => self.covers(&[CenterAdmin, CountyOffice, Auditor], target),
            Action::ViewOutbox => self.covers(&[CenterAdmin, SystemAdmin], target),
            Action::ViewStats => self.covers(&[UnitAdmin, HotlineAgent, CenterAdmin, CountyOffice, Auditor], target),
            Action::ManageResults => self.covers(&[CountyOffice], target),
            Action::ViewIntegrity => self.covers(&[CountyOffice, Auditor], target),
            Action::InvestigateIntegrity => self.covers(&[CountyOffice], target),
            Action::ConfirmIntegrity => self.covers(&[CountyOffice, Auditor], target),
            Action::ReferClue => self.covers(&[CenterAdmin, CountyOffice], target),
            Action::ViewReferrals => self.covers(&[CountyOffice, Auditor], target),
            Action::PlanInspection => self.covers(&[CountyOffice], target),
            Action::ViewInspections => self.covers(&[CountyOffice, Auditor], target),
            Action::RecordInspection => self.covers(&[CountyOffice], target),
            Action::ViewAssessment => self.covers(&[UnitAdmin, CountyOffice, Auditor], target),
            Action::ReportRectification => self.covers(&[UnitAdmin], target),
            Action::ManageCatalog => self.covers(&[CenterAdmin, SystemAdmin], target),
            Action::ManageExchange => self.covers(&[CenterAdmin, SystemAdmin], target),
        }
    }

    /// The org subtrees in which this person may see records (for filtering lists).
    pub fn record_scopes(&self) -> Vec<&str> {
        use Role::*;
        self.bindings
            .iter()
            .filter(|b| matches!(b.role, UnitAdmin | HotlineAgent | CenterAdmin | CountyOffice))
            .map(|b| b.org_path.as_str())
            .collect()
    }
}
