//! Rankings (issue 7 §3) and the bottom group of a ranking (R12.1): by one metric within a period, equal
//! results share a rank (1, 1, 3), and nobody is ranked on fewer evaluations than the minimum — one good review
//! must not top a league table. The rule is stated in words by [`RankRule::describe_zh`], shown beside every
//! ranking.

use serde::Serialize;

use crate::metrics::{Tally, Weights};

/// What a ranking orders by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Satisfaction,
    GoodRate,
    BadRate,
    ActiveRate,
    RectificationRate,
    FollowUpSatisfaction,
}

impl Metric {
    pub const ALL: [Metric; 6] = [
        Metric::Satisfaction,
        Metric::GoodRate,
        Metric::BadRate,
        Metric::ActiveRate,
        Metric::RectificationRate,
        Metric::FollowUpSatisfaction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Satisfaction => "satisfaction",
            Metric::GoodRate => "good_rate",
            Metric::BadRate => "bad_rate",
            Metric::ActiveRate => "active_rate",
            Metric::RectificationRate => "rectification_rate",
            Metric::FollowUpSatisfaction => "follow_up_satisfaction",
        }
    }

    pub fn parse(s: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.as_str() == s.trim())
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Metric::Satisfaction => "满意度",
            Metric::GoodRate => "好评率",
            Metric::BadRate => "差评率",
            Metric::ActiveRate => "主动评价率",
            Metric::RectificationRate => "差评整改率",
            Metric::FollowUpSatisfaction => "回访满意率",
        }
    }

    /// Only the bad-review rate ranks lower first.
    pub fn higher_is_better(self) -> bool {
        self != Metric::BadRate
    }

    pub fn value(self, t: &Tally, w: &Weights) -> Option<f64> {
        match self {
            Metric::Satisfaction => t.satisfaction(w),
            Metric::GoodRate => t.good_rate(),
            Metric::BadRate => t.bad_rate(),
            Metric::ActiveRate => t.active_rate(),
            Metric::RectificationRate => t.rectification_rate(),
            Metric::FollowUpSatisfaction => t.follow_up_satisfaction(),
        }
    }

    /// The value at the precision it is shown (a score to 0.01, a rate to 0.1 %): what ties are decided on,
    /// so that two results that read the same rank the same.
    fn shown(self, v: f64) -> i64 {
        match self {
            Metric::Satisfaction => (v * 100.0).round() as i64,
            _ => (v * 1000.0).round() as i64,
        }
    }
}

/// How a ranking is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RankRule {
    pub metric: Metric,
    /// Fewer valid evaluations than this in the period: listed, not ranked.
    pub min_evaluations: u64,
}

impl RankRule {
    /// The rule in words, shown beside the ranking.
    pub fn describe_zh(&self) -> String {
        let order = if self.metric.higher_is_better() { "从高到低" } else { "从低到高" };
        let precision = if self.metric == Metric::Satisfaction { "保留两位小数" } else { "精确到0.1%" };
        format!(
            "按{}({precision}){order}排名,结果相同者名次并列(如 1、1、3);统计期内有效评价少于 {} 条的不参与排名;\
             申诉成立作废的评价、经核查认定为虚假好评或恶意差评的评价不计入。",
            self.metric.name_zh(),
            self.min_evaluations
        )
    }
}

/// One line of a ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked<T> {
    pub subject: T,
    pub tally: Tally,
    pub value: Option<f64>,
    /// `None`: not ranked (see `unranked_reason`).
    pub rank: Option<u32>,
    /// Shares its rank with another line.
    pub tied: bool,
    pub unranked_reason: Option<&'static str>,
}

/// Ranks the subjects by the rule: ranked lines first, best first; then the unranked, in the order given.
pub fn rank<T>(subjects: Vec<(T, Tally)>, rule: &RankRule, w: &Weights) -> Vec<Ranked<T>> {
    let (mut ranked, mut unranked): (Vec<_>, Vec<_>) = subjects
        .into_iter()
        .map(|(subject, tally)| {
            let value = rule.metric.value(&tally, w);
            let reason = if tally.evaluations() < rule.min_evaluations {
                Some("评价数不足")
            } else if value.is_none() {
                Some("无可计算数据")
            } else {
                None
            };
            Ranked { subject, tally, value, rank: None, tied: false, unranked_reason: reason }
        })
        .partition(|r| r.unranked_reason.is_none());
    let key = |r: &Ranked<T>| {
        let v = rule.metric.shown(r.value.expect("ranked lines have a value"));
        if rule.metric.higher_is_better() { -v } else { v }
    };
    ranked.sort_by_key(|r| key(r));
    let keys: Vec<i64> = ranked.iter().map(key).collect();
    let mut current = 0;
    for i in 0..ranked.len() {
        if i == 0 || keys[i] != keys[i - 1] {
            current = i as u32 + 1;
        }
        ranked[i].rank = Some(current);
        ranked[i].tied = (i > 0 && keys[i] == keys[i - 1]) || (i + 1 < keys.len() && keys[i] == keys[i + 1]);
    }
    ranked.append(&mut unranked);
    ranked
}

/// The bottom group of a ranking (R12.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum BottomRule {
    /// The last N ranked.
    Last(u32),
    /// The bottom X % of those ranked (rounded up, at least one).
    Percent(u32),
}

impl BottomRule {
    pub fn describe_zh(&self) -> String {
        match self {
            BottomRule::Last(n) => format!("排名倒数 {n} 名以内"),
            BottomRule::Percent(p) => format!("排名后 {p}% 以内"),
        }
    }
}

/// The indexes of the lines in the bottom group: ranked lines within the last N places, where a tie reaching
/// into them is in it whole (equal results are treated alike: two sharing the last place are both last).
/// Unranked lines are never in it. `ranking` is as [`rank`] returns it.
pub fn bottom_group<T>(ranking: &[Ranked<T>], rule: BottomRule) -> Vec<usize> {
    let m = ranking.iter().filter(|r| r.rank.is_some()).count() as u32;
    let n = match rule {
        BottomRule::Last(n) => n,
        BottomRule::Percent(p) => (m * p).div_ceil(100).max(1),
    }
    .min(m);
    if n == 0 {
        return Vec::new();
    }
    let threshold = m - n + 1;
    // The lowest place each shared rank covers: ranked lines come first, in order, so a line's place is its
    // index + 1.
    let lowest_place = |rank: u32| ranking.iter().rposition(|r| r.rank == Some(rank)).map_or(0, |i| i as u32 + 1);
    ranking
        .iter()
        .enumerate()
        .filter(|(_, r)| r.rank.is_some_and(|k| lowest_place(k) >= threshold))
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Level;

    fn tally(good: u64, bad: u64) -> Tally {
        let mut t = Tally::default();
        t.by_level[Level::VerySatisfied.index()] = good;
        t.by_level[Level::VeryDissatisfied.index()] = bad;
        t
    }

    #[test]
    fn ties_share_a_rank_and_small_samples_are_not_ranked() {
        let rule = RankRule { metric: Metric::Satisfaction, min_evaluations: 5 };
        let lines = rank(
            vec![("a", tally(9, 1)), ("b", tally(10, 0)), ("c", tally(18, 2)), ("d", tally(1, 0)), ("e", tally(5, 5))],
            &rule,
            &Weights::default(),
        );
        let got: Vec<_> = lines.iter().map(|r| (r.subject, r.rank, r.tied)).collect();
        assert_eq!(
            got,
            [
                ("b", Some(1), false),
                ("a", Some(2), true),
                ("c", Some(2), true),
                ("e", Some(4), false),
                ("d", None, false),
            ]
        );
        assert_eq!(lines[4].unranked_reason, Some("评价数不足"), "one good review does not top the table");
        assert!(rule.describe_zh().contains("少于 5 条"));
    }

    #[test]
    fn the_bad_review_rate_ranks_lower_first() {
        let rule = RankRule { metric: Metric::BadRate, min_evaluations: 1 };
        let lines = rank(vec![("a", tally(5, 5)), ("b", tally(10, 0))], &rule, &Weights::default());
        assert_eq!(lines[0].subject, "b");
        assert!(rule.describe_zh().contains("从低到高"));
    }

    #[test]
    fn bottom_groups() {
        let rule = RankRule { metric: Metric::Satisfaction, min_evaluations: 1 };
        let lines = rank(
            vec![("a", tally(10, 0)), ("b", tally(9, 1)), ("c", tally(8, 2)), ("d", tally(8, 2)), ("x", tally(0, 0))],
            &rule,
            &Weights::default(),
        );
        let names = |idx: Vec<usize>| idx.into_iter().map(|i| lines[i].subject).collect::<Vec<_>>();
        assert_eq!(names(bottom_group(&lines, BottomRule::Last(1))), ["c", "d"], "a tie at the bottom is judged alike");
        assert_eq!(names(bottom_group(&lines, BottomRule::Last(2))), ["c", "d"]);
        assert_eq!(names(bottom_group(&lines, BottomRule::Last(3))), ["b", "c", "d"]);
        assert_eq!(names(bottom_group(&lines, BottomRule::Percent(25))), ["c", "d"]);
        assert!(bottom_group::<&str>(&[], BottomRule::Last(3)).is_empty());
    }
}
