//! Statistics of a cut (issue 7, first part): an org subtree over a range of business dates, read from the
//! rollups and computed by the one set of formulas in `hcp_domain::metrics`.

use chrono::NaiveDate;
use hcp_domain::Level;
use hcp_domain::metrics::{Tally, Weights, day_number};
use serde::Serialize;

use crate::policy::{Action, Principal, Target};
use crate::{App, AppError, AppResult};

#[derive(Debug, Clone, Serialize)]
pub struct LevelCount {
    pub level: Level,
    pub name: &'static str,
    pub count: u64,
}

/// The metrics of one cut, as docs/metrics.md defines them; a rate without a denominator is `null`.
#[derive(Debug, Clone, Serialize)]
pub struct CutStats {
    pub org_code: String,
    pub org_name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub evaluations: u64,
    pub active_evaluations: u64,
    pub default_evaluations: u64,
    pub levels: Vec<LevelCount>,
    pub good_reviews: u64,
    pub bad_reviews: u64,
    pub good_rate: Option<f64>,
    pub bad_rate: Option<f64>,
    pub satisfaction: Option<f64>,
    pub completed_records: u64,
    pub active_rate: Option<f64>,
    pub invalidated: u64,
}

impl App {
    /// The metrics of an organization and everything under it, between two business dates (inclusive).
    pub async fn cut_stats(
        &self,
        who: &Principal,
        org_code: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> AppResult<CutStats> {
        if to < from {
            return Err(AppError::invalid("to", "bad_range", "结束日期不能早于开始日期。"));
        }
        if (to - from).num_days() > 3660 {
            return Err(AppError::invalid("to", "range_too_long", "统计区间不能超过十年。"));
        }
        let not_found = || AppError::not_found("org_not_found", format!("机构“{org_code}”不存在。"));
        let org = self.store.org_by_code(org_code.trim()).await?.ok_or_else(not_found)?;
        if !who.may(Action::ViewRecords, Some(Target { org_path: &org.path, staff_id: None })) {
            return Err(not_found());
        }
        let counts = self.store.cut_counts(&org.path, day_number(from), day_number(to)).await?;
        let mut t = Tally { completed_records: counts.completed_records.max(0) as u64, ..Tally::default() };
        for (level, is_default, invalidated, n) in &counts.evaluations {
            let (Some(level), Ok(n)) = (Level::parse(level), u64::try_from(*n)) else { continue };
            if *invalidated {
                t.invalidated += n;
            } else {
                t.by_level[level.index()] += n;
                if *is_default {
                    t.defaults += n;
                }
            }
        }
        Ok(CutStats {
            org_code: org.code,
            org_name: org.name,
            from,
            to,
            evaluations: t.evaluations(),
            active_evaluations: t.active(),
            default_evaluations: t.defaults,
            levels: Level::ALL
                .iter()
                .map(|l| LevelCount { level: *l, name: l.name_zh(), count: t.count(*l) })
                .collect(),
            good_reviews: t.good(),
            bad_reviews: t.bad(),
            good_rate: t.good_rate(),
            bad_rate: t.bad_rate(),
            satisfaction: t.satisfaction(&Weights::default()),
            completed_records: t.completed_records,
            active_rate: t.active_rate(),
            invalidated: t.invalidated,
        })
    }
}
