//! The metrics of 好差评 (issue 7 §1), each defined once, here: every ranking, report, export and page
//! computes from these functions, and docs/metrics.md states the same formulas in words. Pure: the counts
//! come from the rollups (kept by the store in the transaction of each evaluation and invalidation).

use crate::Level;

/// The counts of one cut (a scope over a period). Evaluations are first evaluations (round 1); an evaluation
/// invalidated by an upheld appeal is counted only in `invalidated`, never in `by_level` or `defaults`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Valid evaluations by level, in the order of [`Level::ALL`] (very satisfied first); defaults included.
    pub by_level: [u64; 5],
    /// Valid default evaluations (基本满意 after 7 natural days without a rating).
    pub defaults: u64,
    /// Evaluations invalidated by an upheld appeal (kept apart; in no rate).
    pub invalidated: u64,
    /// Service records completed in the period (the denominator of the active-evaluation rate).
    pub completed_records: u64,
}

/// The business day (UTC+8) of a date, as days since 1970-01-01: the key the rollups use.
pub fn day_number(d: chrono::NaiveDate) -> i64 {
    (d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date")).num_days()
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

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

impl Tally {
    /// Adds one valid evaluation.
    pub fn add(&mut self, level: Level, is_default: bool) {
        self.by_level[level.index()] += 1;
        self.defaults += is_default as u64;
    }

    /// Sums two cuts (e.g. days into a month, villages into a township).
    pub fn merge(&mut self, other: &Tally) {
        for (a, b) in self.by_level.iter_mut().zip(other.by_level) {
            *a += b;
        }
        self.defaults += other.defaults;
        self.invalidated += other.invalidated;
        self.completed_records += other.completed_records;
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

    /// 主动评价率 = active evaluations / completed records.
    pub fn active_rate(&self) -> Option<f64> {
        ratio(self.active(), self.completed_records)
    }
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
        assert_eq!(t.active_rate(), Some(0.75));
        assert_eq!(Tally::default().good_rate(), None, "no evaluations: no rate, not 0 %");
        let mut sum = Tally::default();
        sum.merge(&t);
        sum.merge(&t);
        assert_eq!((sum.evaluations(), sum.invalidated, sum.completed_records), (20, 6, 24));
    }
}
