//! The annex's evaluation indicators (RA): service-item criteria (3 dimensions × 3 sub-dimensions per level)
//! and staff criteria, shipped as data (`data/indicators.json`) with the exact Chinese texts of the source.
//!
//! Ids are stable and meant to be stored and exchanged: `S{level}{dimension}{sub}` for service-item criteria
//! (level 1 = 非常满意 … 5 = 非常不满意, in annex order) and `P{level}{n}` for staff criteria.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::Level;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceCriterion {
    pub id: String,
    /// `standardisation`, `convenience` or `precision` (规范性 / 便捷性 / 精确性).
    pub dimension: String,
    pub dimension_name: String,
    pub sub_dimension: String,
    pub sub_dimension_name: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StaffCriterion {
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LevelCriteria {
    pub level: Level,
    pub service_criteria: Vec<ServiceCriterion>,
    pub staff_criteria: Vec<StaffCriterion>,
}

#[derive(Debug, Deserialize)]
struct AnnexFile {
    levels: Vec<LevelCriteria>,
}

/// Which kind of criterion an id names, and at which level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CriterionKind {
    Service,
    Staff,
}

#[derive(Debug)]
pub struct Annex {
    levels: Vec<LevelCriteria>,
    by_id: HashMap<String, (CriterionKind, Level)>,
}

impl Annex {
    /// The annex as shipped with the program; parsed once.
    pub fn get() -> &'static Annex {
        static ANNEX: OnceLock<Annex> = OnceLock::new();
        ANNEX.get_or_init(|| {
            let file: AnnexFile = serde_json::from_str(include_str!("../data/indicators.json"))
                .expect("data/indicators.json is valid (checked by a unit test)");
            let mut by_id = HashMap::new();
            for lc in &file.levels {
                for c in &lc.service_criteria {
                    by_id.insert(c.id.clone(), (CriterionKind::Service, lc.level));
                }
                for c in &lc.staff_criteria {
                    by_id.insert(c.id.clone(), (CriterionKind::Staff, lc.level));
                }
            }
            Annex { levels: file.levels, by_id }
        })
    }

    /// All levels, from very satisfied to very dissatisfied.
    pub fn levels(&self) -> &[LevelCriteria] {
        &self.levels
    }

    pub fn for_level(&self, level: Level) -> &LevelCriteria {
        self.levels.iter().find(|l| l.level == level).expect("the annex has every level (checked by a unit test)")
    }

    /// Every criterion id, in annex order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.levels.iter().flat_map(|l| {
            l.service_criteria.iter().map(|c| c.id.as_str()).chain(l.staff_criteria.iter().map(|c| c.id.as_str()))
        })
    }

    pub fn lookup(&self, id: &str) -> Option<(CriterionKind, Level)> {
        self.by_id.get(id).copied()
    }

    /// The text of a criterion, for pages and exports.
    pub fn text(&self, id: &str) -> Option<&str> {
        self.levels.iter().find_map(|l| {
            l.service_criteria
                .iter()
                .find(|c| c.id == id)
                .map(|c| c.text.as_str())
                .or_else(|| l.staff_criteria.iter().find(|c| c.id == id).map(|c| c.text.as_str()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_has_three_by_three_service_criteria_ra_1() {
        let annex = Annex::get();
        assert_eq!(annex.levels().len(), 5);
        for (lc, level) in annex.levels().iter().zip(Level::ALL) {
            assert_eq!(lc.level, level);
            assert_eq!(lc.service_criteria.len(), 9, "{level:?}");
            let dims: Vec<_> = lc.service_criteria.iter().map(|c| c.dimension_name.as_str()).collect();
            assert_eq!(dims.iter().filter(|d| **d == "服务规范性").count(), 3);
            assert_eq!(dims.iter().filter(|d| **d == "服务便捷性").count(), 3);
            assert_eq!(dims.iter().filter(|d| **d == "服务精确性").count(), 3);
        }
    }

    #[test]
    fn texts_are_exactly_those_of_the_source_ra() {
        let annex = Annex::get();
        assert_eq!(annex.text("S111"), Some("该事项在网上政务综合大厅办理"));
        assert_eq!(annex.text("S533"), Some("该事项超过法定时限办结且未给出正当理由"));
        assert_eq!(annex.text("S432"), Some("该事项的办事指南未列明应提交的材料"));
        assert_eq!(annex.text("P53"), Some("对办事材料不能一次告知或者告知不清晰、不具体"));
        assert_eq!(annex.lookup("P54"), Some((CriterionKind::Staff, Level::VeryDissatisfied)));
        assert_eq!(annex.lookup("S312"), Some((CriterionKind::Service, Level::BasicallySatisfied)));
        assert_eq!(annex.lookup("S999"), None);
    }

    #[test]
    fn staff_criteria_have_other_only_for_bad_levels_ra_2() {
        let annex = Annex::get();
        for lc in annex.levels() {
            let has_other = lc.staff_criteria.iter().any(|c| c.text == "其他");
            assert_eq!(has_other, lc.level.is_bad_review(), "{:?}", lc.level);
            let expected = match lc.level {
                Level::VeryDissatisfied => 4,
                Level::Dissatisfied => 3,
                _ => 2,
            };
            assert_eq!(lc.staff_criteria.len(), expected);
        }
    }

    #[test]
    fn ids_are_unique() {
        let annex = Annex::get();
        let total: usize = annex.levels().iter().map(|l| l.service_criteria.len() + l.staff_criteria.len()).sum();
        assert_eq!(annex.by_id.len(), total);
    }
}
