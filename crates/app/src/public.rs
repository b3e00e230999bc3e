//! What the public portal shows of bad reviews (issue 6 §5, R6.2): for every closed case, the problem in the
//! annex's words, the unit, and how and when it was handled. No names, numbers, comments or notes — the
//! criteria are the annex's standard texts and the handling is named by the kinds of steps taken.

use chrono::NaiveDate;
use hcp_domain::Level;
use hcp_domain::calendar::business_date;
use hcp_domain::indicators::Annex;

use crate::{App, AppResult};

pub const PAGE_SIZE: i64 = 30;

#[derive(Debug, Clone)]
pub struct PublicBadReview {
    pub case_id: i64,
    pub evaluated_on: NaiveDate,
    pub item_name: String,
    pub unit_name: String,
    pub level_name: &'static str,
    /// The criteria ticked, in the annex's words; empty when the evaluator only wrote a comment.
    pub problems: Vec<String>,
    pub handling: String,
    pub closed_on: Option<NaiveDate>,
    pub overdue: bool,
}

/// How a case was handled, from the kinds of its steps.
pub fn handling_zh(kinds: &[String]) -> String {
    let has = |k: &str| kinds.iter().any(|x| x == k);
    let mut parts = Vec::new();
    if has("solve_on_spot") {
        parts.push("立行立改,当场解决");
    } else if has("plan_replied") {
        parts.push("问题不能立即整改,已向评价人回复解决方案");
    } else if has("rectified") {
        parts.push("经核实确有问题,已整改并反馈评价人");
    } else if has("finding") {
        parts.push("经核实无过错,已向评价人解释说明");
    }
    if kinds.iter().filter(|k| *k == "assign").count() > 1 || has("escalate") {
        parts.push("经再次办理或县政府办公室督办");
    }
    if has("follow_up") {
        parts.push("经回访评价人认为已解决");
    }
    parts.join(";")
}

impl App {
    /// One page of closed bad-review cases for the public, newest first, and where the next page starts.
    pub async fn public_bad_reviews(&self, before: Option<i64>) -> AppResult<(Vec<PublicBadReview>, Option<i64>)> {
        let mut rows = self.store.public_cases(before, PAGE_SIZE + 1, self.now()).await?;
        let next = if rows.len() as i64 > PAGE_SIZE {
            rows.truncate(PAGE_SIZE as usize);
            rows.last().map(|r| r.case_id)
        } else {
            None
        };
        let annex = Annex::get();
        let texts = |ids: &str| -> Vec<String> {
            hcp_domain::evaluation::split_ids(ids).iter().filter_map(|i| annex.text(i)).map(String::from).collect()
        };
        let list = rows
            .into_iter()
            .map(|r| {
                let mut problems = texts(&r.indicator_ids);
                problems.extend(texts(&r.staff_indicator_ids));
                PublicBadReview {
                    case_id: r.case_id,
                    evaluated_on: business_date(r.evaluated_at),
                    item_name: r.item_name,
                    unit_name: r.unit_name,
                    level_name: Level::parse(&r.level).map(Level::name_zh).unwrap_or(""),
                    problems,
                    handling: handling_zh(&r.step_kinds),
                    closed_on: r.closed_at.map(business_date),
                    overdue: r.overdue,
                }
            })
            .collect();
        Ok((list, next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(kinds: &[&str]) -> Vec<String> {
        kinds.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn handling_in_words() {
        assert_eq!(
            handling_zh(&k(&["assign", "solve_on_spot", "follow_up", "close"])),
            "立行立改,当场解决;经回访评价人认为已解决"
        );
        assert_eq!(
            handling_zh(&k(&["assign", "contact", "finding", "rectified", "follow_up", "close"])),
            "经核实确有问题,已整改并反馈评价人;经回访评价人认为已解决"
        );
        assert!(handling_zh(&k(&["assign", "contact", "finding", "follow_up", "close"])).starts_with("经核实无过错"));
        assert!(
            handling_zh(&k(&["assign", "contact", "finding", "plan_replied", "escalate", "close"])).contains("督办")
        );
    }
}
