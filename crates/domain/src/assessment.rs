//! Performance assessment (R10.2, issue 7 §5): a configurable scheme turns a period's results into points
//! for a unit or a person, line by line, so that everyone can see how each figure was reached.

use serde::{Deserialize, Serialize};

use crate::metrics::{Tally, Weights, percent, score};

/// The scheme: what each result is worth. Every field has a default; a county changes only what it must
/// (a JSON file given to `hcp serve --assessment-scheme`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Scheme {
    /// Points for a satisfaction score of 100 (scaled linearly).
    pub satisfaction_points: f64,
    /// Points for an active-evaluation rate of 100 %.
    pub active_rate_points: f64,
    /// Points for rectifying every bad review (full points without bad reviews).
    pub rectification_points: f64,
    /// Points for doing every timed step of the "1, 5, 15" on time (full points without such steps).
    pub on_time_points: f64,
    /// A bad-review rate above this (0.05 = 5 %) costs `bad_rate_deduction` points.
    pub bad_rate_threshold: f64,
    pub bad_rate_deduction: f64,
    /// Points off for each step done after its limit.
    pub late_step_deduction: f64,
    /// Points off for each bad review not (yet) rectified.
    pub unrectified_deduction: f64,
    /// Deductions stop here.
    pub max_deduction: f64,
    /// Fewer valid evaluations than this: no points (too few to judge).
    pub min_evaluations: u64,
}

impl Default for Scheme {
    fn default() -> Self {
        Scheme {
            satisfaction_points: 60.0,
            active_rate_points: 10.0,
            rectification_points: 20.0,
            on_time_points: 10.0,
            bad_rate_threshold: 0.05,
            bad_rate_deduction: 5.0,
            late_step_deduction: 0.5,
            unrectified_deduction: 1.0,
            max_deduction: 20.0,
            min_evaluations: 30,
        }
    }
}

impl Scheme {
    /// Refuses a scheme that cannot be meant: negative points, a threshold outside 0 … 1.
    pub fn check(&self) -> Result<(), String> {
        let points = [
            ("satisfaction_points", self.satisfaction_points),
            ("active_rate_points", self.active_rate_points),
            ("rectification_points", self.rectification_points),
            ("on_time_points", self.on_time_points),
            ("bad_rate_deduction", self.bad_rate_deduction),
            ("late_step_deduction", self.late_step_deduction),
            ("unrectified_deduction", self.unrectified_deduction),
            ("max_deduction", self.max_deduction),
        ];
        for (name, v) in points {
            if !v.is_finite() || v < 0.0 {
                return Err(format!("考核方案中 {name} 不能为负数。"));
            }
        }
        if !(0.0..=1.0).contains(&self.bad_rate_threshold) {
            return Err("考核方案中 bad_rate_threshold 应在 0 到 1 之间(如 0.05 表示 5%)。".into());
        }
        Ok(())
    }

    /// The most points a subject can get.
    pub fn full_points(&self) -> f64 {
        self.satisfaction_points + self.active_rate_points + self.rectification_points + self.on_time_points
    }
}

/// One line of the breakdown: what was counted, from which figures, for how many points.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Line {
    pub item: &'static str,
    pub basis: String,
    pub points: f64,
}

/// A subject's assessment: `points` is `None` when the sample is too small.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Assessment {
    pub points: Option<f64>,
    pub lines: Vec<Line>,
    pub note: Option<String>,
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Assesses one subject's results under the scheme.
pub fn assess(t: &Tally, s: &Scheme, w: &Weights) -> Assessment {
    if t.evaluations() < s.min_evaluations {
        return Assessment {
            points: None,
            lines: Vec::new(),
            note: Some(format!("有效评价 {} 条,少于 {} 条,本期不评分。", t.evaluations(), s.min_evaluations)),
        };
    }
    let mut lines = Vec::new();
    let satisfaction = t.satisfaction(w).unwrap_or(0.0);
    lines.push(Line {
        item: "满意度",
        basis: format!("满意度 {} ÷ 100 × {}", score(t.satisfaction(w)), s.satisfaction_points),
        points: round2(satisfaction / 100.0 * s.satisfaction_points),
    });
    let active = t.active_rate().unwrap_or(0.0).min(1.0);
    lines.push(Line {
        item: "主动评价率",
        basis: format!("主动评价率 {} × {}", percent(t.active_rate()), s.active_rate_points),
        points: round2(active * s.active_rate_points),
    });
    let rect = t.rectification_rate();
    lines.push(Line {
        item: "差评整改",
        basis: match rect {
            Some(_) => format!("差评整改率 {} × {}", percent(rect), s.rectification_points),
            None => format!("无差评,得满分 {}", s.rectification_points),
        },
        points: round2(rect.unwrap_or(1.0) * s.rectification_points),
    });
    let done: u64 = t.on_time.iter().sum::<u64>() + t.late.iter().sum::<u64>();
    let on_time = (done > 0).then(|| t.on_time.iter().sum::<u64>() as f64 / done as f64);
    lines.push(Line {
        item: "按时办理",
        basis: match on_time {
            Some(_) => format!("“1、5、15”按时办理率 {} × {}", percent(on_time), s.on_time_points),
            None => format!("无限时办理事项,得满分 {}", s.on_time_points),
        },
        points: round2(on_time.unwrap_or(1.0) * s.on_time_points),
    });
    let mut deduction = 0.0;
    if t.bad_rate().is_some_and(|r| r > s.bad_rate_threshold) {
        deduction += s.bad_rate_deduction;
        lines.push(Line {
            item: "差评率超标",
            basis: format!("差评率 {} 高于 {}", percent(t.bad_rate()), percent(Some(s.bad_rate_threshold))),
            points: -s.bad_rate_deduction,
        });
    }
    let late: u64 = t.late.iter().sum();
    if late > 0 {
        let d = late as f64 * s.late_step_deduction;
        deduction += d;
        lines.push(Line {
            item: "逾期办理",
            basis: format!("逾期 {late} 次 × {}", s.late_step_deduction),
            points: -round2(d),
        });
    }
    let unrectified = t.bad().saturating_sub(t.cases_closed);
    if unrectified > 0 {
        let d = unrectified as f64 * s.unrectified_deduction;
        deduction += d;
        lines.push(Line {
            item: "差评未整改",
            basis: format!("未办结差评 {unrectified} 条 × {}", s.unrectified_deduction),
            points: -round2(d),
        });
    }
    if deduction > s.max_deduction {
        lines.push(Line {
            item: "扣分封顶",
            basis: format!("扣分合计 {} 超过上限 {},按上限扣分", round2(deduction), s.max_deduction),
            points: round2(deduction - s.max_deduction),
        });
    }
    let total: f64 = lines.iter().map(|l| l.points).sum();
    Assessment { points: Some(round2(total.max(0.0))), lines, note: None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Level;

    #[test]
    fn a_breakdown_that_adds_up() {
        let mut t = Tally::default();
        t.by_level[Level::VerySatisfied.index()] = 90;
        t.by_level[Level::VeryDissatisfied.index()] = 10;
        t.completed_records = 100;
        t.cases_closed = 8;
        t.on_time = [9, 7, 0];
        t.late = [1, 1, 0];
        let a = assess(&t, &Scheme::default(), &Weights::default());
        let items: Vec<_> = a.lines.iter().map(|l| (l.item, l.points)).collect();
        assert_eq!(
            items,
            [
                ("满意度", 54.0),
                ("主动评价率", 10.0),
                ("差评整改", 16.0),
                ("按时办理", 8.89),
                ("差评率超标", -5.0),
                ("逾期办理", -1.0),
                ("差评未整改", -2.0),
            ]
        );
        assert_eq!(a.points, Some(80.89));
        assert!(a.lines[0].basis.contains("90.00"));
    }

    #[test]
    fn too_few_evaluations_are_not_scored_and_deductions_stop_at_the_cap() {
        let mut t = Tally::default();
        t.by_level[Level::Satisfied.index()] = 3;
        let a = assess(&t, &Scheme::default(), &Weights::default());
        assert_eq!(a.points, None);
        assert!(a.note.unwrap().contains("少于 30 条"));
        t.by_level[Level::VeryDissatisfied.index()] = 100;
        let a = assess(&t, &Scheme::default(), &Weights::default());
        let deducted: f64 = a.lines.iter().filter(|l| l.points < 0.0).map(|l| l.points).sum::<f64>()
            + a.lines.iter().filter(|l| l.item == "扣分封顶").map(|l| l.points).sum::<f64>();
        assert_eq!(deducted, -20.0);
    }

    #[test]
    fn schemes_are_checked() {
        assert!(Scheme::default().check().is_ok());
        let bad = Scheme { bad_rate_threshold: 5.0, ..Scheme::default() };
        assert!(bad.check().unwrap_err().contains("bad_rate_threshold"));
        let s: Scheme = serde_json::from_str(r#"{"min_evaluations": 5}"#).unwrap();
        assert_eq!((s.min_evaluations, s.satisfaction_points), (5, 60.0));
        assert!(serde_json::from_str::<Scheme>(r#"{"typo": 1}"#).is_err());
    }
}
