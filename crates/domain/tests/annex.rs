//! Issue 15 §5: every criterion of the annex — all 58 texts, their levels, dimensions and order — checked against
//! the plan's annex itself (tests/data/plan-annex.txt, copied line for line from the source document), and the
//! ids built from that order: S{level}{dimension}{position}, P{level}{position}.

use hcp_domain::Level;
use hcp_domain::indicators::Annex;

const LEVELS: [&str; 5] = ["非常满意", "满意", "基本满意", "不满意", "非常不满意"];
const DIMENSIONS: [&str; 3] = ["服务规范性", "服务便捷性", "服务精确性"];
const SUB_DIMENSIONS: [&str; 9] =
    ["办事场所", "办事窗口", "一表申请", "网办深度", "移动办理", "跑动次数", "服务引导", "申报材料", "办理时间"];

/// The annex's lines without table marks and the spaces of its layout ("非常 满意" → "非常满意").
fn annex_lines() -> Vec<String> {
    include_str!("data/plan-annex.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.trim().trim_end_matches('|').trim().replace(' ', ""))
        .collect()
}

/// (level, dimension, sub-dimension, text) of each service criterion, and (level, text) of each staff one.
#[expect(clippy::type_complexity, reason = "two plain lists of tuples, read once")]
fn parse() -> (Vec<(usize, usize, String, String)>, Vec<(usize, String)>) {
    let lines = annex_lines();
    let staff_at = lines.iter().position(|l| l.starts_with("二、")).expect("the staff part of the annex");
    let (mut service, mut level, mut dimension) = (Vec::new(), 0, 0);
    for (i, l) in lines[..staff_at].iter().enumerate() {
        if let Some(n) = LEVELS.iter().position(|x| x == l) {
            level = n + 1;
        } else if let Some(n) = DIMENSIONS.iter().position(|x| x == l) {
            dimension = n + 1;
        } else if SUB_DIMENSIONS.contains(&l.as_str()) {
            service.push((level, dimension, l.clone(), lines[i + 1].clone()));
        }
    }
    let (mut staff, mut level) = (Vec::new(), 0);
    for l in &lines[staff_at + 1..] {
        if l.starts_with("信息公开") {
            break;
        }
        if let Some(n) = LEVELS.iter().position(|x| x == l) {
            level = n + 1;
        } else if !matches!(l.as_str(), "" | "评价等级" | "评价内容") {
            staff.push((level, l.clone()));
        }
    }
    (service, staff)
}

#[test]
fn every_service_criterion_is_the_annexs() {
    let (service, _) = parse();
    assert_eq!(service.len(), 45, "nine per level");
    let ours: Vec<_> =
        Annex::get().levels().iter().flat_map(|l| l.service_criteria.iter().map(move |c| (l.level, c))).collect();
    assert_eq!(ours.len(), service.len());
    let mut position = std::collections::HashMap::new();
    for ((level, c), (a_level, a_dim, a_sub, a_text)) in ours.iter().zip(&service) {
        assert_eq!(c.text, *a_text, "{}", c.id);
        assert_eq!(Level::ALL[a_level - 1], *level, "{} is of level {}", c.id, LEVELS[a_level - 1]);
        assert_eq!((c.dimension_name.as_str(), c.sub_dimension_name.as_str()), (DIMENSIONS[a_dim - 1], a_sub.as_str()));
        let n = position.entry((a_level, a_dim)).or_insert(0);
        *n += 1;
        assert_eq!(c.id, format!("S{a_level}{a_dim}{n}"), "the id follows the annex's order");
    }
}

#[test]
fn every_staff_criterion_is_the_annexs() {
    let (_, staff) = parse();
    assert_eq!(staff.len(), 13);
    let ours: Vec<_> =
        Annex::get().levels().iter().flat_map(|l| l.staff_criteria.iter().map(move |c| (l.level, c))).collect();
    assert_eq!(ours.len(), staff.len());
    let mut position = std::collections::HashMap::new();
    for ((level, c), (a_level, a_text)) in ours.iter().zip(&staff) {
        assert_eq!(c.text, *a_text, "{}", c.id);
        assert_eq!(Level::ALL[a_level - 1], *level, "{}", c.id);
        let n = position.entry(*a_level).or_insert(0);
        *n += 1;
        assert_eq!(c.id, format!("P{a_level}{n}"));
    }
    // 58 texts in all, each id once.
    let ids: std::collections::HashSet<&str> = Annex::get().ids().collect();
    assert_eq!(ids.len(), 58);
}
