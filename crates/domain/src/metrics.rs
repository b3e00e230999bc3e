//! The metrics of 好差评 (issue 7 §1), each defined once, here: every ranking, report, export and page
//! computes from these functions, and docs/metrics.md states the same formulas in words. Pure: the counts
//! come from the rollups (kept by the store in the transaction of each evaluation and invalidation).

use crate::Level;

/// The counts of one cut (a scope over a period). Evaluations are first evaluations (round 1); an evaluation
/// invalidated by an upheld appeal is counted only in `invalidated`, never in `by_level` or `defaults`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    /// Valid evaluations by level, in the order of [`Level::ALL`] (very satisfied first); defaults included.
    pub by_level: [u64; 5],
    /// Valid default evaluations (基本满意 after 7 natural days without a rating).
    pub defaults: u64,
    /// Evaluations invalidated by an upheld appeal or an integrity conclusion (kept apart; in no rate).
    pub invalidated: u64,
    /// Service records completed in the period (the denominator of the active-evaluation rate).
    pub completed_records: u64,
    /// Bad-review cases of the period's bad reviews closed after rectification.
    pub cases_closed: u64,
    /// Timed steps of those cases done on time and late, for the limits of [`LIMIT_DAYS`].
    pub on_time: [u64; 3],
    pub late: [u64; 3],
    /// Follow-up answers: solved, not solved.
    pub follow_ups_solved: u64,
    pub follow_ups_unsolved: u64,
    /// Appeals filed against the period's evaluations, and those upheld.
    pub appeals_filed: u64,
    pub appeals_upheld: u64,
    /// The 12345 center's dispatch of those bad reviews, by its own limit and after it.
    pub dispatched_on_time: u64,
    pub dispatched_late: u64,
    /// Valid evaluations given while the matter was still in progress (办理中评价; also in `by_level`).
    pub in_progress: u64,
}

pub use crate::period::day_number;

/// What a rollup row counts besides evaluations (whose measure is their level code). Case and appeal measures
/// are dated by the bad review they belong to: "of the bad reviews of March, how many were rectified".
pub mod measure {
    /// A service record completed (the denominator of the active-evaluation rate).
    pub const COMPLETED: &str = "completed";
    /// A bad-review case closed after rectification and a solved follow-up (办结).
    pub const CASE_CLOSED: &str = "case_closed";
    /// A timed step done by its limit, or after it, for each of the "1, 5, 15".
    pub const ON_TIME: [&str; 3] = ["on_time_1", "on_time_5", "on_time_15"];
    pub const LATE: [&str; 3] = ["late_1", "late_5", "late_15"];
    /// The evaluator's answer at follow-up (回访): solved or not.
    pub const FOLLOW_UP_SOLVED: &str = "follow_up_solved";
    pub const FOLLOW_UP_UNSOLVED: &str = "follow_up_unsolved";
    pub const APPEAL_FILED: &str = "appeal_filed";
    pub const APPEAL_UPHELD: &str = "appeal_upheld";
    /// The 12345 center's assignment of a bad review, by its dispatch limit or after it (issue 15 §3).
    pub const DISPATCH_ON_TIME: &str = "dispatch_on_time";
    pub const DISPATCH_LATE: &str = "dispatch_late";
    /// A valid first evaluation given before the record was completed (issue 15 §1).
    pub const IN_PROGRESS: &str = "in_progress";
}

/// The limits of R9.3 in order: contact within 1 working day, rectify within 5, reply with a plan within 15.
pub const LIMIT_DAYS: [u32; 3] = [1, 5, 15];

/// What a case step counts for statistics: `kind` its stored code, `deadline` the limit kind it met
/// (`contact` or `handling`), `solved` a follow-up's answer, `on_time` whether it was done by its limit.
pub fn step_measure(kind: &str, deadline: Option<&str>, solved: Option<bool>, on_time: bool) -> Option<&'static str> {
    let limit = match (kind, deadline) {
        ("overdue" | "reminder" | "recalculated", _) => return None,
        ("follow_up", _) => {
            return Some(if solved == Some(true) { measure::FOLLOW_UP_SOLVED } else { measure::FOLLOW_UP_UNSOLVED });
        }
        ("close", _) => return Some(measure::CASE_CLOSED),
        ("assign", Some("dispatch")) => {
            return Some(if on_time { measure::DISPATCH_ON_TIME } else { measure::DISPATCH_LATE });
        }
        (_, Some("contact")) => 0,
        ("plan_replied", Some("handling")) => 2,
        (_, Some("handling")) => 1,
        _ => return None,
    };
    Some(if on_time { measure::ON_TIME[limit] } else { measure::LATE[limit] })
}

/// Points per level for the satisfaction score, in the order of [`Level::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weights(pub [u32; 5]);

impl Default for Weights {
    /// 100 / 80 / 60 / 40 / 0 (issue 7 §1), unless the county configures others.
    fn default() -> Self {
        Weights([100, 80, 60, 40, 0])
    }
}

impl Weights {
    /// Parses five points, from 非常满意 to 非常不满意, separated by commas (`100,80,60,40,0`): each 0–100 and
    /// none above the level better than it, so a better rating never scores less.
    pub fn parse(s: &str) -> Result<Weights, String> {
        let bad = || {
            format!("“{s}”不是有效的等级分值,应为从非常满意到非常不满意的 5 个 0–100 的整数,逐级不增,如 100,80,60,40,0")
        };
        let points: Vec<u32> =
            s.split(',').map(|p| p.trim().parse::<u32>()).collect::<Result<_, _>>().map_err(|_| bad())?;
        let points: [u32; 5] = points.try_into().map_err(|_| bad())?;
        if points.iter().any(|p| *p > 100) || points.windows(2).any(|w| w[1] > w[0]) {
            return Err(bad());
        }
        Ok(Weights(points))
    }
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

impl Tally {
    /// Adds one valid evaluation.
    pub fn add(&mut self, level: Level, is_default: bool) {
        self.by_level[level.index()] += 1;
        self.defaults += is_default as u64;
    }

    /// Adds `n` of a rollup row's measure: a level code (an evaluation, valid or invalidated, default or not)
    /// or one of [`measure`]. Unknown measures and negative counts are ignored.
    pub fn add_measure(&mut self, measure: &str, is_default: bool, invalidated: bool, n: i64) {
        let Ok(n) = u64::try_from(n) else { return };
        if let Some(level) = Level::parse(measure) {
            if invalidated {
                self.invalidated += n;
            } else {
                self.by_level[level.index()] += n;
                if is_default {
                    self.defaults += n;
                }
            }
            return;
        }
        let slot = match measure {
            measure::COMPLETED => &mut self.completed_records,
            measure::CASE_CLOSED => &mut self.cases_closed,
            measure::FOLLOW_UP_SOLVED => &mut self.follow_ups_solved,
            measure::FOLLOW_UP_UNSOLVED => &mut self.follow_ups_unsolved,
            measure::APPEAL_FILED => &mut self.appeals_filed,
            measure::APPEAL_UPHELD => &mut self.appeals_upheld,
            measure::DISPATCH_ON_TIME => &mut self.dispatched_on_time,
            measure::DISPATCH_LATE => &mut self.dispatched_late,
            measure::IN_PROGRESS => &mut self.in_progress,
            m => {
                if let Some(i) = measure::ON_TIME.iter().position(|x| *x == m) {
                    &mut self.on_time[i]
                } else if let Some(i) = measure::LATE.iter().position(|x| *x == m) {
                    &mut self.late[i]
                } else {
                    return;
                }
            }
        };
        *slot += n;
    }

    /// Sums two cuts (e.g. days into a month, villages into a township).
    pub fn merge(&mut self, other: &Tally) {
        for (a, b) in self.by_level.iter_mut().zip(other.by_level) {
            *a += b;
        }
        self.defaults += other.defaults;
        self.invalidated += other.invalidated;
        self.completed_records += other.completed_records;
        self.cases_closed += other.cases_closed;
        for i in 0..3 {
            self.on_time[i] += other.on_time[i];
            self.late[i] += other.late[i];
        }
        self.follow_ups_solved += other.follow_ups_solved;
        self.follow_ups_unsolved += other.follow_ups_unsolved;
        self.appeals_filed += other.appeals_filed;
        self.dispatched_on_time += other.dispatched_on_time;
        self.dispatched_late += other.dispatched_late;
        self.in_progress += other.in_progress;
        self.appeals_upheld += other.appeals_upheld;
    }

    /// 评价数: valid evaluations, defaults included.
    pub fn evaluations(&self) -> u64 {
        self.by_level.iter().sum()
    }

    /// 主动评价数: valid evaluations the evaluator gave (not defaults).
    pub fn active(&self) -> u64 {
        self.evaluations() - self.defaults
    }

    pub fn count(&self, level: Level) -> u64 {
        self.by_level[level.index()]
    }

    /// 好评数: very satisfied, satisfied, basically satisfied (defaults included).
    pub fn good(&self) -> u64 {
        Level::ALL.iter().filter(|l| !l.is_bad_review()).map(|l| self.count(*l)).sum()
    }

    /// 差评数: dissatisfied and very dissatisfied (R7.2).
    pub fn bad(&self) -> u64 {
        Level::ALL.iter().filter(|l| l.is_bad_review()).map(|l| self.count(*l)).sum()
    }

    /// 好评率 = good / evaluations; `None` without evaluations.
    pub fn good_rate(&self) -> Option<f64> {
        ratio(self.good(), self.evaluations())
    }

    /// 差评率 = bad / evaluations.
    pub fn bad_rate(&self) -> Option<f64> {
        ratio(self.bad(), self.evaluations())
    }

    /// 满意度 = Σ (evaluations of a level × its points) / evaluations, on a 0–100 scale.
    pub fn satisfaction(&self, w: &Weights) -> Option<f64> {
        let points: u64 = self.by_level.iter().zip(w.0).map(|(n, p)| n * p as u64).sum();
        ratio(points, self.evaluations())
    }

    /// 主动评价率 = active evaluations / evaluations: of the services rated in the period (every completed service
    /// is rated once, by its applicant or by the 7-day default), the share its applicant rated. Numerator and
    /// denominator count the same set, so the rate lies in 0–100 %. It was active evaluations / records
    /// completed in the period, two different sets — evaluations of services completed the month before and
    /// ratings given while in progress counted above, completions below — and showed 105.0 % (issue 30 §5).
    pub fn active_rate(&self) -> Option<f64> {
        ratio(self.active(), self.evaluations())
    }

    /// 差评整改率 = the period's bad reviews whose case was closed after rectification / its bad reviews.
    pub fn rectification_rate(&self) -> Option<f64> {
        ratio(self.cases_closed.min(self.bad()), self.bad())
    }

    /// 按时办理率 of one limit (0: contact in 1 day, 1: rectify in 5, 2: plan in 15) = steps done on time /
    /// steps done.
    pub fn on_time_rate(&self, limit: usize) -> Option<f64> {
        ratio(self.on_time[limit], self.on_time[limit] + self.late[limit])
    }

    /// 回访满意率 = follow-ups where the evaluator said it was solved / follow-ups.
    pub fn follow_up_satisfaction(&self) -> Option<f64> {
        ratio(self.follow_ups_solved, self.follow_ups_solved + self.follow_ups_unsolved)
    }

    /// The figures of docs/metrics.md, as shown and exported.
    pub fn figures(&self, w: &Weights) -> Figures {
        Figures {
            evaluations: self.evaluations(),
            in_progress_evaluations: self.in_progress,
            active_evaluations: self.active(),
            default_evaluations: self.defaults,
            levels: self.by_level,
            good_reviews: self.good(),
            bad_reviews: self.bad(),
            good_rate: self.good_rate(),
            bad_rate: self.bad_rate(),
            satisfaction: self.satisfaction(w),
            completed_records: self.completed_records,
            active_rate: self.active_rate(),
            cases_closed: self.cases_closed,
            rectification_rate: self.rectification_rate(),
            on_time_rate: [self.on_time_rate(0), self.on_time_rate(1), self.on_time_rate(2)],
            dispatch_on_time_rate: ratio(self.dispatched_on_time, self.dispatched_on_time + self.dispatched_late),
            late_steps: self.late.iter().sum(),
            follow_up_satisfaction: self.follow_up_satisfaction(),
            appeals_filed: self.appeals_filed,
            appeals_upheld: self.appeals_upheld,
            invalidated: self.invalidated,
        }
    }
}

/// Every metric of a cut, computed by [`Tally`]; a rate without a denominator is `None` (shown “—”).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Figures {
    pub evaluations: u64,
    /// Of them, given while the matter was still in progress (办理中评价; absent from reports made before it).
    #[serde(default)]
    pub in_progress_evaluations: u64,
    pub active_evaluations: u64,
    pub default_evaluations: u64,
    /// Per level, very satisfied first.
    pub levels: [u64; 5],
    pub good_reviews: u64,
    pub bad_reviews: u64,
    pub good_rate: Option<f64>,
    pub bad_rate: Option<f64>,
    pub satisfaction: Option<f64>,
    pub completed_records: u64,
    pub active_rate: Option<f64>,
    pub cases_closed: u64,
    pub rectification_rate: Option<f64>,
    /// On-time rates of contact (1), rectification (5) and plan (15).
    pub on_time_rate: [Option<f64>; 3],
    /// The 12345 center's own on-time rate of dispatching bad reviews (absent from reports made before it).
    #[serde(default)]
    pub dispatch_on_time_rate: Option<f64>,
    pub late_steps: u64,
    pub follow_up_satisfaction: Option<f64>,
    pub appeals_filed: u64,
    pub appeals_upheld: u64,
    pub invalidated: u64,
}

/// A rate as people read it: `97.5%`, or `—` without a denominator.
pub fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |v| format!("{:.1}%", v * 100.0))
}

/// A score as people read it: `93.40`, or `—`.
pub fn score(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |v| format!("{v:.2}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas() {
        let mut t = Tally::default();
        for _ in 0..6 {
            t.add(Level::VerySatisfied, false);
        }
        t.add(Level::Satisfied, false);
        t.add(Level::BasicallySatisfied, true);
        t.add(Level::Dissatisfied, false);
        t.add(Level::VeryDissatisfied, false);
        t.invalidated = 3;
        t.completed_records = 12;
        assert_eq!((t.evaluations(), t.active(), t.good(), t.bad()), (10, 9, 8, 2));
        assert_eq!(t.good_rate(), Some(0.8));
        assert_eq!(t.bad_rate(), Some(0.2));
        // (6×100 + 80 + 60 + 40 + 0) / 10
        assert_eq!(t.satisfaction(&Weights::default()), Some(78.0));
        assert_eq!(t.active_rate(), Some(0.9), "9 of the 10 evaluated services rated by their applicant");
        assert_eq!(Tally::default().good_rate(), None, "no evaluations: no rate, not 0 %");
        let mut sum = Tally::default();
        sum.merge(&t);
        sum.merge(&t);
        assert_eq!((sum.evaluations(), sum.invalidated, sum.completed_records), (20, 6, 24));
    }

    #[test]
    fn case_measures_and_their_rates() {
        let mut t = Tally::default();
        t.add_measure("dissatisfied", false, false, 3);
        t.add_measure("very_dissatisfied", false, true, 1);
        t.add_measure("basically_satisfied", true, false, 2);
        for (kind, deadline, solved, on_time) in [
            ("contact", Some("contact"), None, true),
            ("contact", Some("contact"), None, false),
            ("rectified", Some("handling"), None, true),
            ("plan_replied", Some("handling"), None, false),
            ("follow_up", None, Some(true), true),
            ("follow_up", None, Some(false), true),
            ("close", None, None, true),
            ("overdue", Some("contact"), None, false),
            ("assign", None, None, true),
            ("assign", Some("dispatch"), None, true),
            ("assign", Some("dispatch"), None, false),
            ("assign", Some("dispatch"), None, true),
        ] {
            if let Some(m) = step_measure(kind, deadline, solved, on_time) {
                t.add_measure(m, false, false, 1);
            }
        }
        t.add_measure(measure::APPEAL_FILED, false, false, 2);
        t.add_measure(measure::APPEAL_UPHELD, false, false, 1);
        t.add_measure("nonsense", false, false, 9);
        assert_eq!((t.evaluations(), t.defaults, t.invalidated, t.bad()), (5, 2, 1, 3));
        assert_eq!((t.on_time, t.late), ([1, 1, 0], [1, 0, 1]));
        assert_eq!(t.on_time_rate(0), Some(0.5));
        assert_eq!(t.on_time_rate(2), Some(0.0));
        assert_eq!(t.follow_up_satisfaction(), Some(0.5));
        assert_eq!(t.rectification_rate(), Some(1.0 / 3.0));
        assert_eq!((t.appeals_filed, t.appeals_upheld), (2, 1));
        let f = t.figures(&Weights::default());
        assert_eq!(percent(f.rectification_rate), "33.3%");
        assert_eq!((t.dispatched_on_time, t.dispatched_late), (2, 1));
        assert_eq!(percent(f.dispatch_on_time_rate), "66.7%");
        assert_eq!(score(Tally::default().satisfaction(&Weights::default())), "—");
    }

    proptest::proptest! {
        /// Issue 30 §5: whatever the counts — evaluations of last month's services, ratings while in progress,
        /// defaults, invalidations, case steps — every rate lies in 0–100 % and the score in 0–100.
        #[test]
        fn every_rate_lies_within_its_bounds(
            counts in proptest::collection::vec((0usize..24, proptest::bool::ANY, proptest::bool::ANY, 0i64..50), 0..60)
        ) {
            let measures: Vec<&str> = Level::ALL
                .iter()
                .map(|l| l.as_str())
                .chain([
                    measure::COMPLETED, measure::CASE_CLOSED, measure::FOLLOW_UP_SOLVED, measure::FOLLOW_UP_UNSOLVED,
                    measure::APPEAL_FILED, measure::APPEAL_UPHELD, measure::DISPATCH_ON_TIME, measure::DISPATCH_LATE,
                    measure::IN_PROGRESS,
                ])
                .chain(measure::ON_TIME)
                .chain(measure::LATE)
                .collect();
            let mut t = Tally::default();
            for (m, is_default, invalidated, n) in counts {
                t.add_measure(measures[m % measures.len()], is_default, invalidated, n);
            }
            let f = t.figures(&Weights::default());
            let rates = [f.good_rate, f.bad_rate, f.active_rate, f.rectification_rate, f.dispatch_on_time_rate,
                         f.follow_up_satisfaction, f.on_time_rate[0], f.on_time_rate[1], f.on_time_rate[2]];
            for r in rates.into_iter().flatten() {
                proptest::prop_assert!((0.0..=1.0).contains(&r), "{r} in {f:?}");
            }
            if let Some(sc) = f.satisfaction {
                proptest::prop_assert!((0.0..=100.0).contains(&sc));
            }
        }
    }

    #[test]
    fn weights_are_parsed_and_checked() {
        assert_eq!(Weights::parse("100, 80,60,40,0"), Ok(Weights::default()));
        assert_eq!(Weights::parse("100,90,70,30,10"), Ok(Weights([100, 90, 70, 30, 10])));
        for bad in ["100,80,60,40", "100,80,60,40,0,0", "100,80,90,40,0", "101,80,60,40,0", "a,b,c,d,e", ""] {
            assert!(Weights::parse(bad).is_err(), "{bad}");
        }
    }
}
