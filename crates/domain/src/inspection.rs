//! Mystery-shopper visits (调查暗访, plan §一 "组织开展调查暗访评价", issue 16 §5): the rules of a visit's plan and of
//! who may record its one evaluation when. Pure; the store keeps visits apart from applicants' evaluations.

use chrono::NaiveDate;

use crate::Violation;
use crate::calendar::parse_date;

/// The longest visit the office may plan, in days (a month: a visit is a check at a time, not a standing watch).
pub const MAX_VISIT_DAYS: i64 = 31;

/// A visit's business dates, inclusive, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitDates {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl VisitDates {
    /// The dates of a new plan: well formed, in order, at most [`MAX_VISIT_DAYS`] long, and not over before
    /// `today` (a visit is planned ahead, or for today).
    pub fn parse(from: &str, to: &str, today: NaiveDate) -> Result<VisitDates, Vec<Violation>> {
        let mut v = Vec::new();
        let f = parse_date("from", from).map_err(|e| v.push(e)).ok();
        let t = parse_date("to", to).map_err(|e| v.push(e)).ok();
        if let (Some(f), Some(t)) = (f, t) {
            if t < f {
                v.push(Violation::new("to", "dates_out_of_order", "暗访结束日期不能早于开始日期。"));
            } else if (t - f).num_days() + 1 > MAX_VISIT_DAYS {
                v.push(Violation::new("to", "visit_too_long", format!("一次暗访的时间段不超过 {MAX_VISIT_DAYS} 天。")));
            }
            if t < today {
                v.push(Violation::new("to", "visit_in_past", "暗访时间段已经过去,请安排今天或以后的日期。"));
            }
        }
        match (f, t, v.is_empty()) {
            (Some(from), Some(to), true) => Ok(VisitDates { from, to }),
            _ => Err(v),
        }
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.to
    }
}

/// Why the visit cannot be recorded by this person today: a stable code and a Chinese message. Only the named
/// inspector records, only within the dates, once.
pub fn recording_refusal(
    dates: VisitDates,
    inspector: &str,
    username: &str,
    today: NaiveDate,
    recorded: bool,
) -> Option<(&'static str, String)> {
    if inspector != username {
        return Some(("not_the_inspector", "只有安排的暗访人员本人才能录入这次暗访评价。".into()));
    }
    if recorded {
        return Some(("inspection_recorded", "这次暗访已录入评价,不能重复录入。".into()));
    }
    if !dates.contains(today) {
        return Some(("outside_visit_dates", format!("这次暗访安排在 {} 至 {},今天不能录入。", dates.from, dates.to)));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn plans_are_ahead_in_order_and_bounded() {
        let today = d("2026-11-10");
        assert_eq!(
            VisitDates::parse("2026-11-10", "2026-11-12", today),
            Ok(VisitDates { from: d("2026-11-10"), to: d("2026-11-12") })
        );
        let codes = |f: &str, t: &str| -> Vec<&str> {
            VisitDates::parse(f, t, today).unwrap_err().iter().map(|v| v.code).collect()
        };
        assert_eq!(codes("2026-11-12", "2026-11-11"), ["dates_out_of_order"]);
        assert_eq!(codes("2026-11-10", "2026-12-11"), ["visit_too_long"]);
        assert_eq!(codes("2026-11-01", "2026-11-09"), ["visit_in_past"]);
        assert_eq!(codes("11/10", "x"), ["invalid_date", "invalid_date"]);
        // A visit that began earlier and runs on is still a plan for today.
        assert!(VisitDates::parse("2026-11-01", "2026-11-10", today).is_ok());
    }

    #[test]
    fn only_the_inspector_within_the_dates_once() {
        let dates = VisitDates { from: d("2026-11-10"), to: d("2026-11-12") };
        assert_eq!(recording_refusal(dates, "li", "li", d("2026-11-11"), false), None);
        let code = |who, day, recorded| recording_refusal(dates, "li", who, d(day), recorded).map(|(c, _)| c);
        assert_eq!(code("wang", "2026-11-11", false), Some("not_the_inspector"));
        assert_eq!(code("li", "2026-11-13", false), Some("outside_visit_dates"));
        assert_eq!(code("li", "2026-11-09", false), Some("outside_visit_dates"));
        assert_eq!(code("li", "2026-11-11", true), Some("inspection_recorded"));
    }
}
