//! The appeal (申诉) against a bad review in two stages (R8): the staff member's own unit checks it, then the
//! center reviews it. Upheld, the evaluation is invalidated (kept, never deleted, out of the statistics) and
//! the case closes as appealed. One appeal per evaluation, only by the staff member who served.

use chrono::{DateTime, Utc};

use crate::calendar::Calendar;
use crate::case::Refusal;

/// Working days a staff member has to appeal after the bad review (configurable; default 5).
pub const DEFAULT_APPEAL_DAYS: u32 = 5;
/// Working days of the unit's check (stage 1) and of the center's review (stage 2), unless configured.
pub const DEFAULT_UNIT_CHECK_DAYS: u32 = 3;
pub const DEFAULT_CENTER_REVIEW_DAYS: u32 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppealState {
    /// Filed, with the unit (初步核实).
    WithUnit,
    /// Passed by the unit, with the center (复核).
    WithCenter,
    /// Rejected by the unit: the evaluation stands.
    RejectedByUnit,
    /// Upheld by the center: the evaluation is invalidated.
    Upheld,
    /// Rejected by the center: the evaluation stands.
    RejectedByCenter,
}

impl AppealState {
    pub fn is_open(self) -> bool {
        matches!(self, AppealState::WithUnit | AppealState::WithCenter)
    }

    pub const ALL: [AppealState; 5] = [
        AppealState::WithUnit,
        AppealState::WithCenter,
        AppealState::RejectedByUnit,
        AppealState::Upheld,
        AppealState::RejectedByCenter,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AppealState::WithUnit => "with_unit",
            AppealState::WithCenter => "with_center",
            AppealState::RejectedByUnit => "rejected_by_unit",
            AppealState::Upheld => "upheld",
            AppealState::RejectedByCenter => "rejected_by_center",
        }
    }

    pub fn parse(s: &str) -> Option<AppealState> {
        AppealState::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            AppealState::WithUnit => "单位初步核实中",
            AppealState::WithCenter => "中心复核中",
            AppealState::RejectedByUnit => "单位核实未通过",
            AppealState::Upheld => "申诉成立",
            AppealState::RejectedByCenter => "复核未通过",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppealRole {
    Unit,
    Center,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appeal {
    pub state: AppealState,
    pub filed_at: DateTime<Utc>,
    /// Every decision, for the filing register (备案).
    pub decisions: Vec<(DateTime<Utc>, AppealRole, bool, String)>,
}

/// What the filing needs to know about the bad review.
#[derive(Debug, Clone, Copy)]
pub struct AppealContext {
    pub evaluated_at: DateTime<Utc>,
    pub is_bad_review: bool,
    /// The staff member the record names, and the one appealing.
    pub served_by: Option<i64>,
    pub appellant: i64,
    /// Whether this evaluation was appealed before (whatever came of it).
    pub appealed_before: bool,
    pub appeal_days: u32,
}

fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal { code, message: message.into() }
}

impl Appeal {
    /// Files an appeal, or says why it cannot be filed.
    pub fn file(calendar: &Calendar, at: DateTime<Utc>, ctx: AppealContext, reasons: &str) -> Result<Appeal, Refusal> {
        if !ctx.is_bad_review {
            return Err(refuse("not_a_bad_review", "只能对“不满意”或“非常不满意”的评价提出申诉。"));
        }
        if ctx.served_by != Some(ctx.appellant) {
            return Err(refuse("not_your_review", "只能对自己经办业务收到的差评提出申诉。"));
        }
        if ctx.appealed_before {
            return Err(refuse("already_appealed", "该评价已申诉过,不能再次申诉。"));
        }
        let due = calendar.add_working_days(ctx.evaluated_at, ctx.appeal_days);
        if at > due.at {
            return Err(refuse(
                "appeal_too_late",
                format!(
                    "申诉期限为收到差评后 {} 个工作日,已于 {} 截止。",
                    ctx.appeal_days,
                    crate::calendar::display_date(due.date)
                ),
            ));
        }
        if reasons.trim().is_empty() {
            return Err(refuse("text_required", "请填写申诉理由。"));
        }
        Ok(Appeal { state: AppealState::WithUnit, filed_at: at, decisions: Vec::new() })
    }

    /// A stage's decision: the unit passes (to the center) or rejects; the center upholds or rejects.
    pub fn decide(&mut self, at: DateTime<Utc>, role: AppealRole, uphold: bool, reasons: &str) -> Result<(), Refusal> {
        if reasons.trim().is_empty() {
            return Err(refuse("text_required", "请填写处理意见。"));
        }
        let next = match (self.state, role, uphold) {
            (AppealState::WithUnit, AppealRole::Unit, true) => AppealState::WithCenter,
            (AppealState::WithUnit, AppealRole::Unit, false) => AppealState::RejectedByUnit,
            (AppealState::WithCenter, AppealRole::Center, true) => AppealState::Upheld,
            (AppealState::WithCenter, AppealRole::Center, false) => AppealState::RejectedByCenter,
            (s, _, _) => {
                return Err(refuse("step_not_allowed", format!("申诉当前为“{}”,您的角色不能作此决定。", s.name_zh())));
            }
        };
        self.state = next;
        self.decisions.push((at, role, uphold, reasons.trim().to_string()));
        Ok(())
    }

    /// Whether the evaluation is invalidated (and so out of every rate).
    pub fn invalidates(&self) -> bool {
        self.state == AppealState::Upheld
    }
}
