//! What bad reviews say (issue 17 §6), grouped: per service item, the annex criteria the evaluators chose —
//! "事项 X:材料清单不清楚(7 条,较上月 +4)" — counted this month against last month, and marked when the same
//! theme has come back three months running. Pure; the store brings the month's bad reviews.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One bad review as far as themes go: the item and the criteria chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadReview {
    pub item_code: String,
    pub item_name: String,
    pub criteria: Vec<String>,
}

/// A theme of the month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Theme {
    pub item_code: String,
    pub item_name: String,
    pub criterion_id: String,
    pub text: String,
    pub count: u64,
    pub previous: u64,
    /// Present in each of the last three months (this one included).
    pub recurring: bool,
}

impl Theme {
    /// "事项 X:材料清单不清楚(7 条,较上月 +4)".
    pub fn sentence(&self) -> String {
        let delta = self.count as i64 - self.previous as i64;
        format!("事项 {}:{}({} 条,较上月 {delta:+})", self.item_name, self.text, self.count)
    }
}

fn counts(reviews: &[BadReview]) -> BTreeMap<(String, String), u64> {
    let mut out = BTreeMap::new();
    for r in reviews {
        for c in &r.criteria {
            *out.entry((r.item_code.clone(), c.clone())).or_insert(0) += 1;
        }
    }
    out
}

/// The month's themes, the most frequent first (at most `top`), from its bad reviews and those of the two
/// months before; `text` names a criterion (the annex's words).
pub fn themes(
    month: &[BadReview],
    last_month: &[BadReview],
    month_before: &[BadReview],
    text: impl Fn(&str) -> Option<String>,
    top: usize,
) -> Vec<Theme> {
    let (now, prev, before) = (counts(month), counts(last_month), counts(month_before));
    let names: BTreeMap<&str, &str> = month.iter().map(|r| (r.item_code.as_str(), r.item_name.as_str())).collect();
    let mut out: Vec<Theme> = now
        .iter()
        .filter_map(|((item, criterion), n)| {
            let previous = prev.get(&(item.clone(), criterion.clone())).copied().unwrap_or(0);
            Some(Theme {
                item_code: item.clone(),
                item_name: names.get(item.as_str()).copied().unwrap_or(item).to_string(),
                criterion_id: criterion.clone(),
                text: text(criterion)?,
                count: *n,
                previous,
                recurring: previous > 0 && before.contains_key(&(item.clone(), criterion.clone())),
            })
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(b.recurring.cmp(&a.recurring)).then(a.item_code.cmp(&b.item_code)));
    out.truncate(top);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(item: &str, criteria: &[&str]) -> BadReview {
        BadReview {
            item_code: item.into(),
            item_name: format!("{item}证办理"),
            criteria: criteria.iter().map(|c| c.to_string()).collect(),
        }
    }

    fn text(id: &str) -> Option<String> {
        match id {
            "S411" => Some("材料清单不清楚".into()),
            "S412" => Some("等候时间长".into()),
            "S421" => Some("态度冷漠".into()),
            _ => None,
        }
    }

    #[test]
    fn a_fixed_set_of_bad_reviews_falls_into_the_expected_themes() {
        let month: Vec<BadReview> = [
            vec![r("A", &["S411"]); 7],
            vec![r("A", &["S412", "S411"])],
            vec![r("B", &["S421"]); 2],
            vec![r("B", &["X999"])],
        ]
        .concat();
        let last = [vec![r("A", &["S411"]); 4], vec![r("B", &["S421"])]].concat();
        let before = vec![r("A", &["S411"])];
        let t = themes(&month, &last, &before, text, 10);
        let lines: Vec<String> = t.iter().map(Theme::sentence).collect();
        assert_eq!(
            lines,
            [
                "事项 A证办理:材料清单不清楚(8 条,较上月 +4)",
                "事项 B证办理:态度冷漠(2 条,较上月 +1)",
                "事项 A证办理:等候时间长(1 条,较上月 +1)",
            ]
        );
        assert!(t[0].recurring, "three months running");
        assert!(!t[1].recurring, "not the month before");
        // An unknown criterion is no theme; the list is cut at `top`.
        assert_eq!(themes(&month, &last, &before, text, 1).len(), 1);
        assert!(themes(&[], &last, &before, text, 10).is_empty());
    }
}
