//! The appeal (申诉) against a bad review in two stages (R8, plan §八 "先向本单位提出申诉,经单位初步核实后可以向
//! 中心提出申诉,由中心负责'差评'复核"): the staff member's own unit verifies it (初步核实) and gives its opinion —
//! supports or not — and the appeal then goes to the center in every case, which reviews it (复核) and decides;
//! the unit never has the last word. The appellant may withdraw it until the center decides (having read the
//! unit's finding). Upheld, the evaluation is invalidated (kept, never deleted, out of the statistics) and the
//! case closes as appealed. One appeal per evaluation, only by the staff member who served.

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
    /// Rejected by the unit: the evaluation stands. Only in appeals decided before units gave an opinion instead
    /// of a decision; no longer reached.
    RejectedByUnit,
    /// Upheld by the center: the evaluation is invalidated.
    Upheld,
    /// Rejected by the center: the evaluation stands.
    RejectedByCenter,
    /// Withdrawn by the appellant before the center decided: the evaluation stands.
    Withdrawn,
}

impl AppealState {
    pub fn is_open(self) -> bool {
        matches!(self, AppealState::WithUnit | AppealState::WithCenter)
    }

    pub const ALL: [AppealState; 6] = [
        AppealState::WithUnit,
        AppealState::WithCenter,
        AppealState::RejectedByUnit,
        AppealState::Upheld,
        AppealState::RejectedByCenter,
        AppealState::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AppealState::WithUnit => "with_unit",
            AppealState::WithCenter => "with_center",
            AppealState::RejectedByUnit => "rejected_by_unit",
            AppealState::Upheld => "upheld",
            AppealState::RejectedByCenter => "rejected_by_center",
            AppealState::Withdrawn => "withdrawn",
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
            AppealState::Withdrawn => "已撤回",
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
    /// Every decision, for the filing register (备案): the unit's opinion (supports) or the center's ruling
    /// (upheld).
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
    /// When the bad review's case was closed, if it was: the window runs until N working days after it too,
    /// so a case closed the same day (solved on the spot) does not end the right to appeal.
    pub case_closed_at: Option<DateTime<Utc>>,
}

/// The last moment to appeal: the later of N working days after the bad review and N after the case's close.
pub fn appeal_deadline(calendar: &Calendar, ctx: &AppealContext) -> crate::calendar::Deadline {
    let from_review = calendar.add_working_days(ctx.evaluated_at, ctx.appeal_days);
    match ctx.case_closed_at.map(|c| calendar.add_working_days(c, ctx.appeal_days)) {
        Some(from_close) if from_close.at > from_review.at => from_close,
        _ => from_review,
    }
}

/// The working-day limits of an appeal's two stages (the county's to set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageLimits {
    /// The unit's verification (初步核实).
    pub unit_check_days: u32,
    /// The center's review (复核).
    pub center_review_days: u32,
}

/// When the stage an appeal is in must be decided: its limit in working days from the stage's start (the
/// filing, or the unit's verification); none once decided or withdrawn. One definition for the filing, the
/// unit's step and the recomputation after a calendar change.
pub fn stage_deadline(
    calendar: &Calendar,
    state: AppealState,
    stage_started_at: DateTime<Utc>,
    limits: StageLimits,
) -> Option<crate::calendar::Deadline> {
    let days = match state {
        AppealState::WithUnit => limits.unit_check_days,
        AppealState::WithCenter => limits.center_review_days,
        _ => return None,
    };
    Some(calendar.add_working_days(stage_started_at, days))
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
        let due = appeal_deadline(calendar, &ctx);
        if at > due.at {
            return Err(refuse(
                "appeal_too_late",
                format!(
                    "申诉期限为收到差评后(或工单办结后){} 个工作日,已于 {} 截止。",
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

    /// A stage's decision: the unit's verification with its opinion (`yes` = supports), after which the appeal
    /// is with the center either way; the center's review (`yes` = upheld).
    pub fn decide(&mut self, at: DateTime<Utc>, role: AppealRole, yes: bool, reasons: &str) -> Result<(), Refusal> {
        let uphold = yes;
        if reasons.trim().is_empty() {
            return Err(refuse("text_required", "请填写处理意见。"));
        }
        let next = match (self.state, role, uphold) {
            (AppealState::WithUnit, AppealRole::Unit, _) => AppealState::WithCenter,
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

    /// The unit let its verification limit pass (plan §八: the 复核 is the center's): the appeal goes to the
    /// center without the unit's opinion.
    pub fn lapse_unit_stage(&mut self) -> Result<(), Refusal> {
        if self.state != AppealState::WithUnit {
            return Err(refuse("step_not_allowed", format!("申诉当前为“{}”,不在单位核实阶段。", self.state.name_zh())));
        }
        self.state = AppealState::WithCenter;
        Ok(())
    }

    /// The appellant withdraws the appeal, at any point before the center decides.
    pub fn withdraw(&mut self) -> Result<(), Refusal> {
        if !self.state.is_open() {
            return Err(refuse("appeal_decided", format!("申诉已处理完毕(“{}”),不能撤回。", self.state.name_zh())));
        }
        self.state = AppealState::Withdrawn;
        Ok(())
    }

    /// Whether the evaluation is invalidated (and so out of every rate).
    pub fn invalidates(&self) -> bool {
        self.state == AppealState::Upheld
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn each_stage_has_its_own_limit_and_a_decided_appeal_none() {
        let cal = Calendar::bundled();
        let limits = StageLimits { unit_check_days: 3, center_review_days: 5 };
        let unit = stage_deadline(&cal, AppealState::WithUnit, at(27, 10), limits).unwrap();
        let center = stage_deadline(&cal, AppealState::WithCenter, at(27, 10), limits).unwrap();
        assert_eq!(unit, cal.add_working_days(at(27, 10), 3));
        assert_eq!(center, cal.add_working_days(at(27, 10), 5));
        assert!(center.at > unit.at);
        for s in [AppealState::Upheld, AppealState::RejectedByCenter, AppealState::Withdrawn] {
            assert_eq!(stage_deadline(&cal, s, at(27, 10), limits), None);
        }
    }

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        // November 2026, China time.
        chrono::FixedOffset::east_opt(8 * 3600)
            .unwrap()
            .with_ymd_and_hms(2026, 11, d, h, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn ctx(closed: Option<DateTime<Utc>>) -> AppealContext {
        AppealContext {
            evaluated_at: at(2, 10),
            is_bad_review: true,
            served_by: Some(7),
            appellant: 7,
            appealed_before: false,
            appeal_days: 5,
            case_closed_at: closed,
        }
    }

    #[test]
    fn the_unit_gives_an_opinion_and_the_center_decides() {
        let cal = Calendar::bundled();
        for supports in [true, false] {
            let mut a = Appeal::file(&cal, at(3, 9), ctx(None), "评价对象错误").unwrap();
            a.decide(at(3, 15), AppealRole::Unit, supports, "核实情况").unwrap();
            assert_eq!(a.state, AppealState::WithCenter, "the appeal reaches the center whatever the unit thinks");
            a.decide(at(4, 9), AppealRole::Center, true, "复核成立").unwrap();
            assert!(a.invalidates());
        }
    }

    #[test]
    fn withdrawn_until_the_center_decides() {
        let cal = Calendar::bundled();
        let mut a = Appeal::file(&cal, at(3, 9), ctx(None), "x").unwrap();
        a.decide(at(3, 15), AppealRole::Unit, false, "不支持").unwrap();
        a.withdraw().unwrap();
        assert_eq!(a.state, AppealState::Withdrawn);
        assert!(!a.invalidates());
        assert_eq!(a.decide(at(4, 9), AppealRole::Center, true, "x").unwrap_err().code, "step_not_allowed");
        let mut b = Appeal::file(&cal, at(3, 9), ctx(None), "x").unwrap();
        b.decide(at(3, 15), AppealRole::Unit, true, "支持").unwrap();
        b.decide(at(4, 9), AppealRole::Center, false, "不成立").unwrap();
        assert_eq!(b.withdraw().unwrap_err().code, "appeal_decided");
    }

    #[test]
    fn the_window_runs_from_the_case_close_too() {
        let cal = Calendar::bundled();
        // Rated Monday 2 Nov; 5 working days end Monday 9 Nov.
        assert_eq!(Appeal::file(&cal, at(10, 9), ctx(None), "x").unwrap_err().code, "appeal_too_late");
        // The case closed on Friday 6 Nov: five working days from then run to Friday 13 Nov.
        assert!(Appeal::file(&cal, at(10, 9), ctx(Some(at(6, 16))), "x").is_ok());
        assert_eq!(Appeal::file(&cal, at(16, 9), ctx(Some(at(6, 16))), "x").unwrap_err().code, "appeal_too_late");
        // A close before the review's own window ends changes nothing.
        assert_eq!(appeal_deadline(&cal, &ctx(Some(at(2, 11)))), appeal_deadline(&cal, &ctx(None)));
    }
}
