//! The rules of one evaluation (R5.2, R7, RA): which criteria fit a level, when a bad review is complete
//! enough to accept, and what counts as "the same submission" for an idempotent retry.

use chrono::{DateTime, Utc};

use crate::identity::parse_text;
use crate::indicators::{Annex, CriterionKind};
use crate::{Channel, Level, Violation, Violations};

/// How many days after completion an unrated record counts as basically satisfied (R7.3).
pub const DEFAULT_EVALUATION_DAYS: u32 = 7;

/// A comment is free text; 500 characters is the national interfaces' limit for 评价内容.
pub const COMMENT_MAX_CHARS: usize = 500;

/// A validated evaluation by an evaluator: level, criteria of that level, optional comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub level: Level,
    /// Service-item criteria ids, sorted and without repeats, so a retry compares equal.
    pub indicator_ids: Vec<String>,
    pub staff_indicator_ids: Vec<String>,
    pub comment: Option<String>,
    pub channel: Channel,
}

/// Who hands the evaluation in, which decides the channels it may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The evaluator through a link or device.
    Link,
    /// A hotline agent for a caller.
    Agent,
    /// An earlier system's history.
    History,
    /// A mystery-shopper visit's inspector (调查暗访): not a channel of applicants' evaluations.
    Inspection,
}

/// What the client sent, before validation.
#[derive(Debug, Clone, Default)]
pub struct RawSubmission<'a> {
    pub level: &'a str,
    pub indicator_ids: &'a [String],
    pub staff_indicator_ids: &'a [String],
    pub comment: Option<&'a str>,
    pub channel: &'a str,
}

impl Submission {
    /// An evaluation the evaluator makes through a link or device: only self-service channels.
    pub fn parse(raw: RawSubmission<'_>) -> Result<Submission, Vec<Violation>> {
        Submission::parse_inner(raw, Source::Link)
    }

    /// An evaluation a hotline agent records for a caller (R5.1): the channel is `hotline`, whatever was sent.
    pub fn parse_by_agent(raw: RawSubmission<'_>) -> Result<Submission, Vec<Violation>> {
        Submission::parse_inner(RawSubmission { channel: Channel::Hotline.as_str(), ..raw }, Source::Agent)
    }

    /// An evaluation from an earlier system's history (`hcp import history`): any channel it came through but
    /// `system`, which marks the defaults this system makes itself.
    pub fn parse_history(raw: RawSubmission<'_>) -> Result<Submission, Vec<Violation>> {
        Submission::parse_inner(raw, Source::History)
    }

    /// A mystery-shopper visit's evaluation (issue 16 §5): the same levels, criteria and comment rules; the
    /// channel means nothing here (the visit is its own source) and is not checked.
    pub fn parse_inspection(raw: RawSubmission<'_>) -> Result<Submission, Vec<Violation>> {
        Submission::parse_inner(RawSubmission { channel: Channel::Web.as_str(), ..raw }, Source::Inspection)
    }

    fn parse_inner(raw: RawSubmission<'_>, source: Source) -> Result<Submission, Vec<Violation>> {
        let mut v = Violations::default();
        let level = Level::parse(raw.level);
        if level.is_none() {
            v.push(Violation::new(
                "level",
                "invalid_level",
                format!(
                    "评价等级“{}”无法识别,应为 very_satisfied(非常满意)、satisfied(满意)、basically_satisfied(基本满意)、dissatisfied(不满意)或 very_dissatisfied(非常不满意)。",
                    raw.level
                ),
            ));
        }
        let channel = Channel::parse(raw.channel);
        match channel {
            None => v.push(Violation::new(
                "channel",
                "invalid_channel",
                format!("评价渠道“{}”无法识别,可选:{}。", raw.channel, Channel::codes()),
            )),
            Some(Channel::Hotline) if source == Source::Agent => {}
            Some(Channel::System) if source == Source::History => v.push(Violation::new(
                "channel",
                "channel_not_allowed",
                "默认评价由本系统在评价期满后生成,历史数据中请不要导入“系统默认”渠道的评价。",
            )),
            Some(_) if source == Source::History => {}
            Some(c) if !c.is_self_service() => v.push(Violation::new(
                "channel",
                "channel_not_allowed",
                format!("“{}”渠道的评价不能通过评价链接提交。", c.name_zh()),
            )),
            Some(_) => {}
        }
        let comment = match raw.comment.map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => v.take(parse_text("comment", c, COMMENT_MAX_CHARS, "评价内容")),
        };
        let indicator_ids = check_criteria(&mut v, "indicator_ids", raw.indicator_ids, CriterionKind::Service, level);
        let staff_indicator_ids =
            check_criteria(&mut v, "staff_indicator_ids", raw.staff_indicator_ids, CriterionKind::Staff, level);
        if let Some(level) = level
            && level.is_bad_review()
            && v.is_empty()
            && indicator_ids.is_empty()
            && staff_indicator_ids.is_empty()
            && comment.is_none()
        {
            v.push(Violation::new(
                "indicator_ids",
                "bad_review_needs_reason",
                format!("选择“{}”时,请至少勾选一项具体问题或填写评价内容,以便整改。", level.name_zh()),
            ));
        }
        v.finish()?;
        Ok(Submission {
            level: level.expect("checked above"),
            indicator_ids,
            staff_indicator_ids,
            comment,
            channel: channel.expect("checked above"),
        })
    }

    /// Whether a stored evaluation is this same submission sent again (a retry), not a different one.
    pub fn same_as(&self, other: &Submission) -> bool {
        self == other
    }
}

fn check_criteria(
    v: &mut Violations,
    field: &str,
    ids: &[String],
    kind: CriterionKind,
    level: Option<Level>,
) -> Vec<String> {
    let annex = Annex::get();
    let what = match kind {
        CriterionKind::Service => "服务事项评价指标",
        CriterionKind::Staff => "工作人员评价指标",
    };
    let mut out: Vec<String> = Vec::with_capacity(ids.len());
    for id in ids {
        match annex.lookup(id) {
            Some((k, l)) if k == kind => {
                if let Some(level) = level
                    && l != level
                {
                    v.push(Violation::new(
                        field,
                        "criterion_level_mismatch",
                        format!("{what} {id} 属于“{}”,与所选等级“{}”不符。", l.name_zh(), level.name_zh()),
                    ));
                }
                out.push(id.clone());
            }
            _ => v.push(Violation::new(field, "unknown_criterion", format!("{what} {id} 不存在。"))),
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Why a record cannot take its evaluation now (apart from already having one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowRefusal {
    /// The 7 natural days after completion are over (R7.3); `closed_at` is 24:00 (UTC+8) of the last day.
    Closed { closed_at: DateTime<Utc> },
}

/// Whether a record completed at `completed_at` (if it is), whose window closes at `closes_at`, may be evaluated
/// at `now`. Plan §五 "接受一次政务服务即可作出一次评价": from the moment the service is received — a matter still in
/// progress, stalled or past its limit can be rated (办理中评价) — until 7 natural days after completion. The one
/// place that decides it, for the page, the API and the group-commit writer alike.
pub fn check_window(
    completed_at: Option<DateTime<Utc>>,
    closes_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), WindowRefusal> {
    match (completed_at, closes_at) {
        (Some(_), Some(closes)) if now >= closes => Err(WindowRefusal::Closed { closed_at: closes }),
        _ => Ok(()),
    }
}

/// Whether an evaluation given at `evaluated_at` was of a matter still in progress (办理中评价): the record not
/// completed then.
pub fn in_progress(completed_at: Option<DateTime<Utc>>, evaluated_at: DateTime<Utc>) -> bool {
    completed_at.is_none_or(|c| c > evaluated_at)
}

/// Joins criteria ids for storage (`S111,S112`); the inverse of [`split_ids`].
pub fn join_ids(ids: &[String]) -> String {
    ids.join(",")
}

pub fn split_ids(s: &str) -> Vec<String> {
    s.split(',').filter(|x| !x.is_empty()).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(x: &[&str]) -> Vec<String> {
        x.iter().map(|s| s.to_string()).collect()
    }

    fn parse(level: &str, i: &[&str], s: &[&str], comment: Option<&str>) -> Result<Submission, Vec<Violation>> {
        let (i, s) = (ids(i), ids(s));
        Submission::parse(RawSubmission { level, indicator_ids: &i, staff_indicator_ids: &s, comment, channel: "web" })
    }

    #[test]
    fn good_review_without_criteria_is_fine() {
        let s = parse("very_satisfied", &[], &[], None).unwrap();
        assert_eq!(s.level, Level::VerySatisfied);
    }

    #[test]
    fn bad_review_needs_a_criterion_or_a_comment() {
        let e = parse("dissatisfied", &[], &[], Some("  ")).unwrap_err();
        assert_eq!(e[0].code, "bad_review_needs_reason");
        assert!(parse("dissatisfied", &["S411"], &[], None).is_ok());
        assert!(parse("very_dissatisfied", &[], &["P54"], None).is_ok());
        assert!(parse("dissatisfied", &[], &[], Some("等了两个小时")).is_ok());
    }

    #[test]
    fn criterion_of_another_level_is_refused() {
        let e = parse("dissatisfied", &["S511"], &[], None).unwrap_err();
        assert_eq!(e[0].code, "criterion_level_mismatch");
        assert_eq!(e[0].field, "indicator_ids");
        let e = parse("satisfied", &["P21", "S211"], &["S211"], None).unwrap_err();
        assert_eq!(e.iter().map(|v| v.code).collect::<Vec<_>>(), ["unknown_criterion", "unknown_criterion"]);
    }

    #[test]
    fn retries_compare_equal_whatever_the_order() {
        let a = parse("satisfied", &["S212", "S211", "S211"], &[], Some(" 好 ")).unwrap();
        let b = parse("satisfied", &["S211", "S212"], &[], Some("好")).unwrap();
        assert!(a.same_as(&b));
        let c = parse("satisfied", &["S211"], &[], Some("好")).unwrap();
        assert!(!a.same_as(&c));
    }

    #[test]
    fn unknown_level_and_channel() {
        let (i, s) = (ids(&[]), ids(&[]));
        let e = Submission::parse(RawSubmission {
            level: "good",
            indicator_ids: &i,
            staff_indicator_ids: &s,
            comment: None,
            channel: "hotline",
        })
        .unwrap_err();
        assert_eq!(e.iter().map(|v| v.code).collect::<Vec<_>>(), ["invalid_level", "channel_not_allowed"]);
    }

    #[test]
    fn the_window_is_open_until_24_00_of_the_7th_day() {
        let done = DateTime::parse_from_rfc3339("2026-03-01T10:00:00+08:00").unwrap().with_timezone(&Utc);
        let closes = crate::calendar::add_natural_days(done, DEFAULT_EVALUATION_DAYS);
        assert_eq!(check_window(Some(done), Some(closes), closes - chrono::Duration::milliseconds(1)), Ok(()));
        assert_eq!(check_window(Some(done), Some(closes), closes), Err(WindowRefusal::Closed { closed_at: closes }));
        assert_eq!(check_window(None, None, done), Ok(()), "a matter in progress can be rated");
        assert!(in_progress(None, done) && in_progress(Some(closes), done) && !in_progress(Some(done), closes));
    }

    #[test]
    fn comment_length_counts_chars() {
        let long = "好".repeat(COMMENT_MAX_CHARS + 1);
        assert_eq!(parse("satisfied", &[], &[], Some(&long)).unwrap_err()[0].code, "too_long");
    }
}
