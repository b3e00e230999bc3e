//! What bad reviews say (issue 17 §6), grouped: per unit and service item, the annex criteria the evaluators chose —
//! "事项 X:材料清单不清楚(7 条,较上月 +4)" — and the words their comments keep using ("评论提到“排队”"), found
//! by Chinese word segmentation (jieba, with the annex criteria added to its vocabulary so "材料清单不清楚" stays
//! one word); counted this month against last month, and marked when the same theme has come back three months
//! running. Pure; the store brings the month's bad reviews.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// One bad review as far as themes go: the unit that served, the item, the criteria chosen, the comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadReview {
    /// The organization the record belongs to: the unit that must fix what the theme says.
    pub unit_code: String,
    pub unit_name: String,
    pub item_code: String,
    pub item_name: String,
    pub criteria: Vec<String>,
    pub comment: Option<String>,
}

/// Where a theme comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ThemeKind {
    /// An annex criterion the evaluators chose (`criterion_id`, `text` its words).
    #[default]
    Criterion,
    /// A word the comments keep using (`text` the word).
    Word,
}

/// A theme of the month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Theme {
    /// The unit whose bad reviews these are; empty in reports drafted before themes were kept per unit.
    #[serde(default)]
    pub unit_code: String,
    #[serde(default)]
    pub unit_name: String,
    pub item_code: String,
    pub item_name: String,
    /// Reports drafted before comment words were counted have no kind: criteria.
    #[serde(default)]
    pub kind: ThemeKind,
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
        let unit = if self.unit_name.is_empty() { String::new() } else { format!("{} · ", self.unit_name) };
        match self.kind {
            ThemeKind::Criterion => {
                format!("{unit}事项 {}:{}({} 条,较上月 {delta:+})", self.item_name, self.text, self.count)
            }
            ThemeKind::Word => {
                format!("{unit}事项 {}:评论提到“{}”({} 条,较上月 {delta:+})", self.item_name, self.text, self.count)
            }
        }
    }
}

/// Words too common in complaints to say what went wrong.
const STOP_WORDS: &[&str] = &[
    "一个",
    "一下",
    "一些",
    "一直",
    "不是",
    "不能",
    "为什么",
    "乱七八糟",
    "也是",
    "事项",
    "人员",
    "什么",
    "今天",
    "他们",
    "以后",
    "但是",
    "你们",
    "办事",
    "办理",
    "可以",
    "可能",
    "后来",
    "因为",
    "还是",
    "还有",
    "问题",
    "这个",
    "这么",
    "这样",
    "那个",
    "就是",
    "工作",
    "工作人员",
    "已经",
    "我们",
    "所以",
    "时候",
    "是不是",
    "有点",
    "服务",
    "没有",
    "然后",
    "现在",
    "真的",
    "自己",
    "觉得",
    "非常",
    "怎么",
    "知道",
    "而且",
    "如果",
    "只是",
    "只有",
    "之后",
    "之前",
    "还要",
    "要求",
];

/// Phrases of complaints about a service hall that a general dictionary would split ("不清楚" into 不 + 清楚, losing
/// the complaint), kept whole beside the annex's own words.
const COMPLAINT_WORDS: &[&str] = &[
    "不清楚",
    "不耐烦",
    "不告知",
    "一次性告知",
    "材料清单",
    "来回跑",
    "跑了好几次",
    "白跑",
    "排长队",
    "等太久",
    "态度差",
    "态度冷漠",
    "推诿",
    "刁难",
    "玩手机",
    "脱岗",
    "缺岗",
    "乱收费",
    "系统故障",
    "网络故障",
    "系统卡顿",
    "办理时限",
    "超时办理",
    "说法不一",
    "叫号",
];

/// The segmenter, built once (its dictionary takes a moment to load), with the annex criteria and
/// [`COMPLAINT_WORDS`] as words.
fn segmenter() -> &'static jieba_rs::Jieba {
    static JIEBA: OnceLock<jieba_rs::Jieba> = OnceLock::new();
    JIEBA.get_or_init(|| {
        let mut j = jieba_rs::Jieba::new();
        for w in COMPLAINT_WORDS {
            j.add_word(w, Some(100_000), None);
        }
        for level in crate::indicators::Annex::get().levels() {
            for c in &level.service_criteria {
                j.add_word(&c.sub_dimension_name, Some(100_000), None);
                j.add_word(&c.text, Some(100_000), None);
            }
            for c in &level.staff_criteria {
                j.add_word(&c.text, Some(100_000), None);
            }
        }
        j
    })
}

/// The distinct words of a comment that could name a problem: two characters or more, Chinese, not a stop word.
pub fn comment_words(comment: &str) -> BTreeSet<String> {
    segmenter()
        .cut(comment, true)
        .into_iter()
        .map(|t| t.word.trim())
        .filter(|w| w.chars().count() >= 2 && w.chars().all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)))
        .filter(|w| !STOP_WORDS.contains(w))
        .map(str::to_string)
        .collect()
}

/// What a theme is counted by: the unit, the item, and the criterion or the word.
type Key = (String, String, String);

/// The names of the month's units and items, by code.
struct Names<'a> {
    units: BTreeMap<&'a str, &'a str>,
    items: BTreeMap<&'a str, &'a str>,
}

impl<'a> Names<'a> {
    fn of(reviews: &'a [BadReview]) -> Names<'a> {
        Names {
            units: reviews.iter().map(|r| (r.unit_code.as_str(), r.unit_name.as_str())).collect(),
            items: reviews.iter().map(|r| (r.item_code.as_str(), r.item_name.as_str())).collect(),
        }
    }

    /// A theme of `kind` for `key`, counted `n` times this month, `previous` last month.
    fn theme(&self, key: &Key, kind: ThemeKind, text: String, n: u64, previous: u64, recurring: bool) -> Theme {
        let (unit, item, what) = key;
        Theme {
            unit_code: unit.clone(),
            unit_name: self.units.get(unit.as_str()).copied().unwrap_or(unit).to_string(),
            item_code: item.clone(),
            item_name: self.items.get(item.as_str()).copied().unwrap_or(item).to_string(),
            kind,
            criterion_id: if kind == ThemeKind::Criterion { what.clone() } else { String::new() },
            text,
            count: n,
            previous,
            recurring,
        }
    }
}

/// The strongest first: more reviews, then recurring, then by unit, item and text (a stable order).
fn strongest_first(out: &mut Vec<Theme>, top: usize) {
    out.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(b.recurring.cmp(&a.recurring))
            .then(a.unit_code.cmp(&b.unit_code))
            .then(a.item_code.cmp(&b.item_code))
            .then(a.text.cmp(&b.text))
    });
    out.truncate(top);
}

/// Per unit and item, in how many comments each word appears.
fn word_counts(reviews: &[BadReview]) -> BTreeMap<Key, u64> {
    let mut out = BTreeMap::new();
    for r in reviews {
        for w in r.comment.as_deref().map(comment_words).unwrap_or_default() {
            *out.entry((r.unit_code.clone(), r.item_code.clone(), w)).or_insert(0) += 1;
        }
    }
    out
}

/// The words of the month's comments, per unit and item, in at least two comments, the most frequent first (at
/// most `top`).
pub fn word_themes(
    month: &[BadReview],
    last_month: &[BadReview],
    month_before: &[BadReview],
    top: usize,
) -> Vec<Theme> {
    let (now, prev, before) = (word_counts(month), word_counts(last_month), word_counts(month_before));
    let names = Names::of(month);
    let mut out: Vec<Theme> = now
        .iter()
        .filter(|(_, n)| **n >= 2)
        .map(|(key, n)| {
            let previous = prev.get(key).copied().unwrap_or(0);
            let recurring = previous > 0 && before.contains_key(key);
            names.theme(key, ThemeKind::Word, key.2.clone(), *n, previous, recurring)
        })
        .collect();
    strongest_first(&mut out, top);
    out
}

fn counts(reviews: &[BadReview]) -> BTreeMap<Key, u64> {
    let mut out = BTreeMap::new();
    for r in reviews {
        for c in &r.criteria {
            *out.entry((r.unit_code.clone(), r.item_code.clone(), c.clone())).or_insert(0) += 1;
        }
    }
    out
}

/// The month's themes per unit and item, the most frequent first (at most `top`), from its bad reviews and those
/// of the two months before; `text` names a criterion (the annex's words).
pub fn themes(
    month: &[BadReview],
    last_month: &[BadReview],
    month_before: &[BadReview],
    text: impl Fn(&str) -> Option<String>,
    top: usize,
) -> Vec<Theme> {
    let (now, prev, before) = (counts(month), counts(last_month), counts(month_before));
    let names = Names::of(month);
    let mut out: Vec<Theme> = now
        .iter()
        .filter_map(|(key, n)| {
            let previous = prev.get(key).copied().unwrap_or(0);
            let recurring = previous > 0 && before.contains_key(key);
            Some(names.theme(key, ThemeKind::Criterion, text(&key.2)?, *n, previous, recurring))
        })
        .collect();
    strongest_first(&mut out, top);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(item: &str, criteria: &[&str]) -> BadReview {
        BadReview {
            unit_code: "510899".into(),
            unit_name: String::new(),
            item_code: item.into(),
            item_name: format!("{item}证办理"),
            criteria: criteria.iter().map(|c| c.to_string()).collect(),
            comment: None,
        }
    }

    fn said(item: &str, comment: &str) -> BadReview {
        BadReview { comment: Some(comment.into()), ..r(item, &[]) }
    }

    #[test]
    fn the_comments_words_fall_into_the_expected_themes() {
        let month = vec![
            said("A", "排队等了两个多小时,窗口只开了一个。"),
            said("A", "又是排队,窗口太少。"),
            said("A", "排队排到中午也没办完"),
            said("A", "材料清单不清楚,来回跑了好几次"),
            said("A", "材料清单不清楚,白跑一趟"),
            said("B", "排队"),
            said("B", "态度很差,工作人员在玩手机"),
            r("B", &["S421"]),
        ];
        let last = vec![said("A", "排队太久"), said("A", "又要排队")];
        let before = vec![said("A", "排队")];
        let t = word_themes(&month, &last, &before, 10);
        let lines: Vec<String> = t.iter().map(Theme::sentence).collect();
        assert_eq!(
            lines,
            [
                "事项 A证办理:评论提到“排队”(3 条,较上月 +1)",
                "事项 A证办理:评论提到“不清楚”(2 条,较上月 +2)",
                "事项 A证办理:评论提到“材料清单”(2 条,较上月 +2)",
                "事项 A证办理:评论提到“窗口”(2 条,较上月 +2)",
            ],
            "a word in one comment only (B's 排队, 玩手机) is no theme; stop words (工作人员, 一个) are none"
        );
        assert!(t[0].recurring && !t[1].recurring);
        assert!(t.iter().all(|t| t.kind == ThemeKind::Word));
    }

    #[test]
    fn the_annex_criteria_stay_whole_words() {
        let words = comment_words("申报材料太多,还说我们没有预约");
        assert!(words.contains("申报材料"), "the annex's 申报材料 is one word: {words:?}");
        assert!(!words.contains("我们") && !words.contains("没有"), "{words:?}");
    }

    #[test]
    fn themes_of_reports_drafted_before_words_read_as_criteria() {
        let old = r#"{"item_code":"A","item_name":"A证办理","criterion_id":"S411","text":"材料清单不清楚","count":3,"previous":1,"recurring":false}"#;
        let t: Theme = serde_json::from_str(old).unwrap();
        assert_eq!(t.kind, ThemeKind::Criterion);
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

    fn at(unit: &str, item: &str, criteria: &[&str]) -> BadReview {
        BadReview { unit_code: unit.into(), unit_name: format!("{unit}镇"), ..r(item, criteria) }
    }

    #[test]
    fn each_unit_has_its_own_themes() {
        // The same item and criterion in two units: two themes, each with its unit's count and its own history.
        let month = [vec![at("青山", "A", &["S411"]); 3], vec![at("白石", "A", &["S411"]); 2]].concat();
        let last = [vec![at("青山", "A", &["S411"])], vec![at("白石", "A", &["S411"]); 5]].concat();
        let before = vec![at("白石", "A", &["S411"])];
        let t = themes(&month, &last, &before, text, 10);
        let lines: Vec<String> = t.iter().map(Theme::sentence).collect();
        assert_eq!(
            lines,
            [
                "青山镇 · 事项 A证办理:材料清单不清楚(3 条,较上月 +2)",
                "白石镇 · 事项 A证办理:材料清单不清楚(2 条,较上月 -3)"
            ]
        );
        assert!(!t[0].recurring && t[1].recurring, "three months running for 白石 only");
        assert_eq!((t[0].unit_code.as_str(), t[1].unit_code.as_str()), ("青山", "白石"));
        let words = word_themes(
            &[
                BadReview { comment: Some("排队太久".into()), ..at("青山", "A", &[]) },
                BadReview { comment: Some("又要排队".into()), ..at("白石", "A", &[]) },
            ],
            &[],
            &[],
            10,
        );
        assert!(words.is_empty(), "one comment in each unit is no theme of either");
    }
}
