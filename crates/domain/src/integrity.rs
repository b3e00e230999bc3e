//! Integrity checks (issue 16): the rules that find fake good reviews and malicious bad reviews, as pure
//! functions over what evaluations came with. Each flag is explained to a person and decided by a person;
//! nothing is set aside by a rule alone.
//!
//! What must not be flagged is as much part of each rule as what must: agents (代办) handling many records,
//! families and hall Wi-Fi sharing an address, staff helping elderly applicants on the pad right after the
//! service, real waves of complaints after a failure, and a bad review after a lawful refusal.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::Level;
use crate::calendar::{Calendar, business_date};

crate::catalog::coded_enum! {
    /// What a flag suspects.
    Pattern {
        SelfRating = "self_rating", "工作人员自评";
        DeviceTakeover = "device_takeover", "评价设备被代刷";
        RatingRing = "rating_ring", "刷好评团伙";
        FabricatedRecords = "fabricated_records", "虚构办件刷评";
        PeriodEndCampaign = "period_end_campaign", "期末突击刷好评";
        Revenge = "revenge", "报复性差评";
        AbusiveText = "abusive_text", "辱骂威胁";
        CoordinatedBadReviews = "coordinated_bad_reviews", "组织刷差评";
    }
}

crate::catalog::coded_enum! {
    /// How the county office concludes an investigation (issue 16 §4).
    Conclusion {
        FakeGood = "fake_good", "虚假好评";
        MaliciousBad = "malicious_bad", "恶意差评";
        Cleared = "cleared", "排除嫌疑";
        Referred = "referred", "移送有关部门";
    }
}

impl Conclusion {
    /// Whether the evaluations concerned are set aside (kept, out of every figure).
    pub fn invalidates(self) -> bool {
        matches!(self, Conclusion::FakeGood | Conclusion::MaliciousBad)
    }
}

crate::catalog::coded_enum! {
    /// What a referred clue is about (issue 16 §6).
    ReferralSubject {
        Evaluation = "evaluation", "评价";
        Case = "case", "差评工单";
        Flag = "flag", "真实性线索";
    }
}

/// Words in a comment that suggest misconduct (索贿、吃拿卡要、故意刁难): such an evaluation is suggested for
/// referral to the bodies that handle it — never referred by the program itself.
const MISCONDUCT: &[&str] = &[
    "索要",
    "索贿",
    "好处费",
    "红包",
    "回扣",
    "吃拿卡要",
    "故意刁难",
    "刁难",
    "收礼",
    "送礼",
    "请吃饭",
    "塞钱",
    "辛苦费",
    "打点",
    "走后门",
    "托关系",
];

/// The misconduct words a comment contains, in the order of the list.
pub fn misconduct_terms(comment: &str) -> Vec<&'static str> {
    let mut found: Vec<&'static str> = MISCONDUCT.iter().copied().filter(|w| comment.contains(w)).collect();
    // "刁难" inside "故意刁难" is one mention, not two.
    if found.contains(&"故意刁难") {
        found.retain(|w| *w != "刁难");
    }
    found
}

/// One evaluation as the checks see it: who, what, when, where from — identities only as blind indexes.
#[derive(Debug, Clone)]
pub struct Observation {
    pub evaluation_id: i64,
    pub at: DateTime<Utc>,
    pub level: Level,
    pub comment: Option<String>,
    pub record_number: String,
    pub received_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub org_id: i64,
    /// The record's organization's path (`/1/5/`), for who may see a flag.
    pub org_path: String,
    pub window: Option<String>,
    /// The staff member the record names: id, staff number, name.
    pub staff: Option<(i64, String, String)>,
    /// The applicant's mobile and ID number (blind indexes).
    pub applicant_mobile: String,
    pub applicant_id: String,
    pub device: Option<String>,
    pub address: Option<String>,
}

/// A staff member's identity (blind indexes), to recognise them as an evaluator.
#[derive(Debug, Clone)]
pub struct StaffIdentity {
    pub staff_id: i64,
    pub staff_number: String,
    pub name: String,
    pub org_id: i64,
    pub mobile: Option<String>,
    pub id_number: Option<String>,
}

/// A suspicion, with its evidence and its explanation for a county officer.
#[derive(Debug, Clone, PartialEq)]
pub struct Flag {
    pub pattern: Pattern,
    /// What the flag is about, stable across scans of the same window (a rescan finds the same flag).
    pub subject: String,
    pub evaluation_ids: Vec<i64>,
    pub staff_numbers: Vec<String>,
    pub window_codes: Vec<String>,
    pub device_codes: Vec<String>,
    /// 0–1: how strongly the evidence points this way.
    pub score: f64,
    pub explanation: String,
    /// The deepest organization all its evaluations lie under (`/1/5/`): who may see the flag. Filled in by
    /// [`scan`].
    pub org_path: String,
}

/// The deepest organization path all these paths lie under (`/1/5/` and `/1/6/` → `/1/`).
pub fn common_path<'a>(paths: impl IntoIterator<Item = &'a str>) -> String {
    let mut common: Option<Vec<&str>> = None;
    for p in paths {
        let parts: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
        common = Some(match common {
            None => parts,
            Some(c) => c.iter().zip(&parts).take_while(|(a, b)| a == b).map(|(a, _)| *a).collect(),
        });
    }
    match common {
        Some(c) if !c.is_empty() => format!("/{}/", c.join("/")),
        _ => "/".into(),
    }
}

/// The numbers the rules use (documented in docs/integrity.md; the county may tune them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Device takeover: this many top ratings on one device within `burst_minutes`, each given this long after
    /// the record was completed (the applicant has gone).
    pub burst_size: usize,
    pub burst_minutes: i64,
    pub gone_after_minutes: i64,
    /// Revenge: this many bad reviews of one staff member by one evaluator, while the staff member's bad-review
    /// share among everyone else stays under `revenge_others_bad_share`.
    pub revenge_min_bad: usize,
    pub revenge_others_bad_share: f64,
    /// Fabricated records: this many at one window in a day, each handled within `quick_minutes` and rated
    /// "非常满意" within `quick_minutes` of completion, from at most `pool` applicants.
    pub fabricated_min: usize,
    pub quick_minutes: i64,
    pub pool: usize,
    /// Rating ring: this many evaluators, each with quick top-rated services at one window on this many days.
    pub ring_members: usize,
    pub ring_visits: usize,
    /// Coordinated bad reviews: this many evaluators from one address or device against one staff member
    /// within a day.
    pub coordinated_min: usize,
    /// Period-end campaign: the top-box share of the last three working days of a month above the window's own
    /// share for the rest of the month by this much more than its peers' jump, significant at `campaign_z`
    /// (a two-proportion z statistic), on at least `campaign_min` evaluations each side.
    pub campaign_jump: f64,
    pub campaign_z: f64,
    pub campaign_min: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            burst_size: 5,
            burst_minutes: 15,
            gone_after_minutes: 60,
            revenge_min_bad: 3,
            revenge_others_bad_share: 0.2,
            fabricated_min: 6,
            quick_minutes: 5,
            pool: 3,
            ring_members: 3,
            ring_visits: 4,
            coordinated_min: 4,
            campaign_jump: 0.15,
            campaign_z: 3.0,
            campaign_min: 10,
        }
    }
}

impl Thresholds {
    /// The county's own numbers over the defaults: `burst_size=6,quick_minutes=3` (any of the fields above,
    /// by name). An unknown name or a value that is not a positive number is refused with the reason.
    pub fn with_overrides(mut self, spec: &str) -> Result<Thresholds, String> {
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) =
                pair.split_once('=').ok_or_else(|| format!("“{pair}”应写成 名称=数值,如 burst_size=6"))?;
            let (name, value) = (name.trim(), value.trim());
            let whole = || -> Result<usize, String> {
                value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("{name} 应为正整数,而不是“{value}”"))
            };
            let minutes = || whole().map(|n| n as i64);
            let share = || -> Result<f64, String> {
                value
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x > 0.0)
                    .ok_or_else(|| format!("{name} 应为正数,而不是“{value}”"))
            };
            match name {
                "burst_size" => self.burst_size = whole()?,
                "burst_minutes" => self.burst_minutes = minutes()?,
                "gone_after_minutes" => self.gone_after_minutes = minutes()?,
                "revenge_min_bad" => self.revenge_min_bad = whole()?,
                "revenge_others_bad_share" => self.revenge_others_bad_share = share()?.min(1.0),
                "fabricated_min" => self.fabricated_min = whole()?,
                "quick_minutes" => self.quick_minutes = minutes()?,
                "pool" => self.pool = whole()?,
                "ring_members" => self.ring_members = whole()?,
                "ring_visits" => self.ring_visits = whole()?,
                "coordinated_min" => self.coordinated_min = whole()?,
                "campaign_jump" => self.campaign_jump = share()?.min(1.0),
                "campaign_z" => self.campaign_z = share()?,
                "campaign_min" => self.campaign_min = whole()?,
                _ => return Err(format!("没有名为“{name}”的检查阈值(见 docs/integrity.md)")),
            }
        }
        Ok(self)
    }
}

/// Runs every rule over the evaluations of a scan (with the history before it that the rules may read);
/// only flags with at least one evaluation at or after `from` are kept.
pub fn scan(
    obs: &[Observation],
    staff: &[StaffIdentity],
    calendar: &Calendar,
    from: DateTime<Utc>,
    t: &Thresholds,
) -> Vec<Flag> {
    let mut flags = Vec::new();
    flags.extend(self_rating(obs, staff));
    flags.extend(abusive_text(obs));
    flags.extend(revenge(obs, t));
    flags.extend(device_takeover(obs, t));
    flags.extend(fabricated_records(obs, t));
    flags.extend(rating_ring(obs, t));
    flags.extend(coordinated_bad_reviews(obs, t));
    flags.extend(period_end_campaign(obs, calendar, t));
    let by_id: HashMap<i64, &Observation> = obs.iter().map(|o| (o.evaluation_id, o)).collect();
    flags.retain(|f| f.evaluation_ids.iter().any(|id| by_id.get(id).is_some_and(|o| o.at >= from)));
    for f in &mut flags {
        f.org_path = common_path(f.evaluation_ids.iter().filter_map(|id| by_id.get(id)).map(|o| o.org_path.as_str()));
    }
    flags.sort_by(|a, b| a.pattern.as_str().cmp(b.pattern.as_str()).then(a.subject.cmp(&b.subject)));
    flags
}

fn sorted<T: Ord + Clone>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let set: std::collections::BTreeSet<T> = items.into_iter().collect();
    set.into_iter().collect()
}

fn staff_label(s: &(i64, String, String)) -> String {
    format!("{}({})", s.2, s.1)
}

/// `self_rating`: a good review given with the mobile or ID number of a staff member of the record's own
/// organization — the one who served, or a colleague. Hard evidence: the identity is theirs.
pub fn self_rating(obs: &[Observation], staff: &[StaffIdentity]) -> Vec<Flag> {
    let mut by_identity: HashMap<&str, Vec<&StaffIdentity>> = HashMap::new();
    for s in staff {
        for idx in [&s.mobile, &s.id_number].into_iter().flatten() {
            by_identity.entry(idx.as_str()).or_default().push(s);
        }
    }
    let mut flags = Vec::new();
    for o in obs.iter().filter(|o| !o.level.is_bad_review()) {
        let mut who: Vec<(&StaffIdentity, &str)> = Vec::new();
        for (idx, how) in [(&o.applicant_id, "身份证号"), (&o.applicant_mobile, "手机号")] {
            for s in by_identity.get(idx.as_str()).into_iter().flatten() {
                if s.org_id == o.org_id && !who.iter().any(|(w, _)| w.staff_id == s.staff_id) {
                    who.push((s, how));
                }
            }
        }
        let Some((s, how)) = who.first() else { continue };
        let own = o.staff.as_ref().is_some_and(|(id, _, _)| *id == s.staff_id);
        let served = o.staff.as_ref().map(staff_label).unwrap_or_else(|| "(未指定工作人员)".into());
        let explanation = if own {
            format!(
                "办件 {} 的评价人{how}与经办工作人员 {}({})本人登记的一致:本人给自己经办的业务评了“{}”。",
                o.record_number,
                s.name,
                s.staff_number,
                o.level.name_zh()
            )
        } else {
            format!(
                "办件 {} 的评价人{how}与同单位工作人员 {}({})登记的一致:为同事 {served} 经办的业务评了“{}”。",
                o.record_number,
                s.name,
                s.staff_number,
                o.level.name_zh()
            )
        };
        let mut numbers = vec![s.staff_number.clone()];
        numbers.extend(o.staff.as_ref().map(|(_, n, _)| n.clone()));
        flags.push(Flag {
            pattern: Pattern::SelfRating,
            subject: format!("evaluation:{}", o.evaluation_id),
            evaluation_ids: vec![o.evaluation_id],
            staff_numbers: sorted(numbers),
            window_codes: o.window.iter().cloned().collect(),
            device_codes: o.device.iter().cloned().collect(),
            score: if own { 0.99 } else { 0.9 },
            explanation,
            org_path: String::new(),
        });
    }
    flags
}

/// Words of insult and threat (辱骂、威胁). Not "垃圾" or "差劲" alone: those describe a service, and a harsh
/// complaint is still a complaint.
const ABUSIVE: &[&str] = &[
    "傻逼",
    "傻b",
    "煞笔",
    "sb工作人员",
    "操你",
    "草你",
    "你妈",
    "妈的",
    "他妈",
    "去死",
    "死全家",
    "弄死你",
    "弄死",
    "杀了你",
    "砍死",
    "捅死",
    "炸了你们",
    "放火",
    "王八蛋",
    "混蛋",
    "狗东西",
    "畜生",
    "贱人",
    "废物东西",
    "滚蛋",
    "你等着",
    "走着瞧",
    "饶不了",
    "报复你",
    "不得好死",
];

/// `abusive_text`: a comment with insults or threats. Shown so the office can judge it; the bad review
/// itself may still be a real one.
pub fn abusive_text(obs: &[Observation]) -> Vec<Flag> {
    let mut flags = Vec::new();
    for o in obs {
        let Some(c) = &o.comment else { continue };
        let lower = c.to_lowercase();
        let hits: Vec<&str> = ABUSIVE.iter().copied().filter(|w| lower.contains(w)).collect();
        if hits.is_empty() {
            continue;
        }
        let threat = hits.iter().any(|w| {
            ["去死", "弄死", "杀了你", "砍死", "捅死", "炸了你们", "放火", "你等着", "走着瞧", "饶不了", "报复你"]
                .contains(w)
        });
        flags.push(Flag {
            pattern: Pattern::AbusiveText,
            subject: format!("evaluation:{}", o.evaluation_id),
            evaluation_ids: vec![o.evaluation_id],
            staff_numbers: o.staff.iter().map(|(_, n, _)| n.clone()).collect(),
            window_codes: o.window.iter().cloned().collect(),
            device_codes: Vec::new(),
            score: if threat { 0.95 } else { (0.6 + 0.1 * hits.len() as f64).min(0.9) },
            explanation: format!(
                "办件 {} 的评价内容含{}用语(“{}”),评价为“{}”。",
                o.record_number,
                if threat { "威胁" } else { "辱骂" },
                hits.join("”“"),
                o.level.name_zh()
            ),
            org_path: String::new(),
        });
    }
    flags
}

/// `revenge`: one evaluator rates one staff member badly again and again while everyone else finds that staff
/// member's service fine. A real problem shows in others' ratings too (a wave of complaints is not revenge).
pub fn revenge(obs: &[Observation], t: &Thresholds) -> Vec<Flag> {
    // Per staff member: each evaluator's ratings and bad reviews, and everyone's counts — one pass.
    let mut per: BTreeMap<i64, BTreeMap<&str, (usize, Vec<&Observation>)>> = BTreeMap::new();
    let mut totals: HashMap<i64, (usize, usize)> = HashMap::new();
    for o in obs {
        let Some((staff_id, _, _)) = &o.staff else { continue };
        let total = totals.entry(*staff_id).or_default();
        total.0 += 1;
        let mine = per.entry(*staff_id).or_default().entry(o.applicant_id.as_str()).or_default();
        mine.0 += 1;
        if o.level.is_bad_review() {
            total.1 += 1;
            mine.1.push(o);
        }
    }
    let mut flags = Vec::new();
    for (staff_id, by_evaluator) in per {
        let (all, all_bad) = totals[&staff_id];
        for (evaluator, (rated, bad)) in by_evaluator {
            // Again and again, and mostly bad: three bad among twenty visits is a regular's bad luck.
            if bad.len() < t.revenge_min_bad || bad.len() * 2 < rated {
                continue;
            }
            let others = all - rated;
            let others_bad = all_bad - bad.len();
            if others < 5 {
                continue; // too little from others to say the service is fine
            }
            let share = others_bad as f64 / others as f64;
            if share >= t.revenge_others_bad_share {
                continue;
            }
            let s = bad[0].staff.as_ref().expect("grouped by staff");
            let mut ids: Vec<i64> = bad.iter().map(|o| o.evaluation_id).collect();
            ids.sort_unstable();
            flags.push(Flag {
                pattern: Pattern::Revenge,
                subject: format!("staff:{staff_id}:evaluator:{evaluator}"),
                evaluation_ids: ids,
                staff_numbers: vec![s.1.clone()],
                window_codes: sorted(bad.iter().filter_map(|o| o.window.clone())),
                device_codes: Vec::new(),
                score: (0.5 + 0.1 * bad.len() as f64 + (t.revenge_others_bad_share - share)).min(0.95),
                explanation: format!(
                    "同一评价人 {} 次给工作人员 {} 差评(其 {} 次评价中),而其他评价人的 {} 条评价中差评仅占 {:.0}%。",
                    bad.len(),
                    staff_label(s),
                    rated,
                    others,
                    share * 100.0
                ),
                org_path: String::new(),
            });
        }
    }
    flags
}

/// `device_takeover`: a hall device or kiosk giving a burst of top ratings for records completed long before
/// — the applicants have gone, someone else is pressing. Staff helping an elderly applicant rate on the pad
/// right after the service is not a burst of late ratings.
pub fn device_takeover(obs: &[Observation], t: &Thresholds) -> Vec<Flag> {
    let mut per_device: BTreeMap<&str, Vec<&Observation>> = BTreeMap::new();
    for o in obs {
        let (Some(device), Some(done)) = (&o.device, o.completed_at) else { continue };
        if o.level == Level::VerySatisfied && o.at - done >= Duration::minutes(t.gone_after_minutes) {
            per_device.entry(device.as_str()).or_default().push(o);
        }
    }
    let mut flags = Vec::new();
    for (device, mut late) in per_device {
        late.sort_by_key(|o| (o.at, o.evaluation_id));
        let mut start = 0;
        while start < late.len() {
            // The longest run starting here within the burst window.
            let mut end = start;
            while end + 1 < late.len() && late[end + 1].at - late[start].at <= Duration::minutes(t.burst_minutes) {
                end += 1;
            }
            let burst = &late[start..=end];
            if burst.len() >= t.burst_size {
                let minutes = (burst[burst.len() - 1].at - burst[0].at).num_minutes().max(1);
                let windows = sorted(burst.iter().filter_map(|o| o.window.clone()));
                flags.push(Flag {
                    pattern: Pattern::DeviceTakeover,
                    subject: format!("device:{device}:{}", burst[0].evaluation_id),
                    evaluation_ids: sorted(burst.iter().map(|o| o.evaluation_id)),
                    staff_numbers: sorted(burst.iter().filter_map(|o| o.staff.as_ref().map(|s| s.1.clone()))),
                    window_codes: windows,
                    device_codes: vec![device.to_string()],
                    score: (0.6 + 0.05 * burst.len() as f64).min(0.98),
                    explanation: format!(
                        "评价设备 {device} 在 {minutes} 分钟内连续给出 {} 条“非常满意”,对应办件均已办结 {} 分钟以上(申请人早已离开)。",
                        burst.len(),
                        t.gone_after_minutes
                    ),
                    org_path: String::new(),
                });
                start = end + 1;
            } else {
                start += 1;
            }
        }
    }
    flags
}

/// A quick top rating: handled within `quick` minutes and rated "非常满意" within `quick` minutes of completion.
fn quick_top(o: &Observation, quick: i64) -> bool {
    let Some(done) = o.completed_at else { return false };
    o.level == Level::VerySatisfied
        && done - o.received_at <= Duration::minutes(quick)
        && o.at - done <= Duration::minutes(quick)
}

/// `fabricated_records`: one window's day full of records that look made up to carry ratings — each handled in
/// minutes and rated top at once, by a handful of "applicants". An agent (代办) with many records of one day is
/// one applicant with services of normal length, and rates like anyone else.
pub fn fabricated_records(obs: &[Observation], t: &Thresholds) -> Vec<Flag> {
    let mut per: BTreeMap<(&str, chrono::NaiveDate), Vec<&Observation>> = BTreeMap::new();
    for o in obs.iter().filter(|o| quick_top(o, t.quick_minutes)) {
        if let Some(w) = &o.window {
            per.entry((w.as_str(), business_date(o.at))).or_default().push(o);
        }
    }
    let mut flags = Vec::new();
    for ((window, day), group) in per {
        let applicants = sorted(group.iter().map(|o| o.applicant_id.as_str())).len();
        if group.len() < t.fabricated_min || applicants > t.pool {
            continue;
        }
        flags.push(Flag {
            pattern: Pattern::FabricatedRecords,
            subject: format!("window:{window}:{day}"),
            evaluation_ids: sorted(group.iter().map(|o| o.evaluation_id)),
            staff_numbers: sorted(group.iter().filter_map(|o| o.staff.as_ref().map(|s| s.1.clone()))),
            window_codes: vec![window.to_string()],
            device_codes: sorted(group.iter().filter_map(|o| o.device.clone())),
            score: (0.6 + 0.03 * group.len() as f64).min(0.95),
            explanation: format!(
                "窗口 {window} 在 {day} 有 {} 件办件均在 {} 分钟内办结并随即评为“非常满意”,申请人只有 {applicants} 人。",
                group.len(),
                t.quick_minutes
            ),
            org_path: String::new(),
        });
    }
    flags
}

/// `rating_ring`: a small group of evaluators each coming again and again to one window for quick services
/// they all rate top. One busy agent is one evaluator, not a ring; a family rarely returns four times a month.
pub fn rating_ring(obs: &[Observation], t: &Thresholds) -> Vec<Flag> {
    let mut per: BTreeMap<&str, BTreeMap<&str, Vec<&Observation>>> = BTreeMap::new();
    for o in obs.iter().filter(|o| quick_top(o, 3 * t.quick_minutes)) {
        if let Some(w) = &o.window {
            per.entry(w.as_str()).or_default().entry(o.applicant_id.as_str()).or_default().push(o);
        }
    }
    let mut flags = Vec::new();
    for (window, by_evaluator) in per {
        // Members come back on different days: many quick records of one day are `fabricated_records`.
        let members: Vec<&Vec<&Observation>> = by_evaluator
            .values()
            .filter(|v| sorted(v.iter().map(|o| business_date(o.at))).len() >= t.ring_visits)
            .collect();
        if members.len() < t.ring_members {
            continue;
        }
        let all: Vec<&Observation> = members.iter().flat_map(|v| v.iter().copied()).collect();
        flags.push(Flag {
            pattern: Pattern::RatingRing,
            subject: format!("window:{window}:ring"),
            evaluation_ids: sorted(all.iter().map(|o| o.evaluation_id)),
            staff_numbers: sorted(all.iter().filter_map(|o| o.staff.as_ref().map(|s| s.1.clone()))),
            window_codes: vec![window.to_string()],
            device_codes: Vec::new(),
            score: (0.55 + 0.1 * members.len() as f64).min(0.95),
            explanation: format!(
                "{} 名评价人反复在窗口 {window} 办理简短业务并一律评为“非常满意”(共 {} 次,每人至少 {} 次)。",
                members.len(),
                all.len(),
                t.ring_visits
            ),
            org_path: String::new(),
        });
    }
    flags
}

/// `coordinated_bad_reviews`: within a day, several evaluators from one address or one device give one staff
/// member bad reviews, while everyone else finds the service fine. A real wave after a failure shows in
/// everyone's ratings; a family or the hall's Wi-Fi is a couple of people, not a campaign.
pub fn coordinated_bad_reviews(obs: &[Observation], t: &Thresholds) -> Vec<Flag> {
    let mut totals: HashMap<i64, (usize, usize)> = HashMap::new();
    let mut daily: HashMap<(i64, chrono::NaiveDate), (usize, usize)> = HashMap::new();
    let mut groups: BTreeMap<(i64, String, chrono::NaiveDate), Vec<&Observation>> = BTreeMap::new();
    for o in obs {
        let Some((staff_id, _, _)) = &o.staff else { continue };
        let total = totals.entry(*staff_id).or_default();
        total.0 += 1;
        let day = daily.entry((*staff_id, business_date(o.at))).or_default();
        day.0 += 1;
        if !o.level.is_bad_review() {
            continue;
        }
        total.1 += 1;
        day.1 += 1;
        for source in
            [o.address.as_ref().map(|a| format!("address:{a}")), o.device.as_ref().map(|d| format!("device:{d}"))]
                .into_iter()
                .flatten()
        {
            groups.entry((*staff_id, source, business_date(o.at))).or_default().push(o);
        }
    }
    let mut flags = Vec::new();
    let mut taken: std::collections::HashSet<i64> = std::collections::HashSet::new();
    for ((staff_id, source, day), group) in groups {
        let evaluators = sorted(group.iter().map(|o| o.applicant_id.as_str())).len();
        if evaluators < t.coordinated_min || group.iter().all(|o| taken.contains(&o.evaluation_id)) {
            continue;
        }
        let (all, all_bad) = totals[&staff_id];
        let (others, others_bad) = (all - group.len(), all_bad - group.len());
        if others < 5 || others_bad as f64 / others as f64 >= t.revenge_others_bad_share {
            continue;
        }
        // The same day's other evaluators: after a real failure they are dissatisfied too (the hall's Wi-Fi
        // puts many of them on one address), in a campaign they are not.
        let (that_day, that_day_bad) = daily[&(staff_id, day)];
        let (day_others, day_others_bad) = (that_day - group.len(), that_day_bad - group.len());
        if day_others >= 3 && day_others_bad as f64 / day_others as f64 >= t.revenge_others_bad_share {
            continue;
        }
        taken.extend(group.iter().map(|o| o.evaluation_id));
        let s = group[0].staff.as_ref().expect("grouped by staff");
        let from = if source.starts_with("device:") { "同一评价设备" } else { "同一网络地址" };
        flags.push(Flag {
            pattern: Pattern::CoordinatedBadReviews,
            subject: format!("staff:{staff_id}:{source}:{day}"),
            evaluation_ids: sorted(group.iter().map(|o| o.evaluation_id)),
            staff_numbers: vec![s.1.clone()],
            window_codes: sorted(group.iter().filter_map(|o| o.window.clone())),
            device_codes: sorted(group.iter().filter_map(|o| o.device.clone())),
            score: (0.55 + 0.08 * evaluators as f64).min(0.95),
            explanation: format!(
                "{day} 有 {evaluators} 名评价人从{from}集中给工作人员 {} 差评,而其他 {others} 条评价中差评仅占 {:.0}%。",
                staff_label(s),
                others_bad as f64 / others as f64 * 100.0
            ),
            org_path: String::new(),
        });
    }
    flags
}

/// The last three working days of each month the evaluations touch.
fn period_ends(obs: &[Observation], calendar: &Calendar) -> std::collections::HashSet<chrono::NaiveDate> {
    use chrono::Datelike;
    let mut months = std::collections::BTreeSet::new();
    for o in obs {
        let d = business_date(o.at);
        months.insert((d.year(), d.month()));
    }
    let mut ends = std::collections::HashSet::new();
    for (y, m) in months {
        let first_next = if m == 12 {
            chrono::NaiveDate::from_ymd_opt(y + 1, 1, 1)
        } else {
            chrono::NaiveDate::from_ymd_opt(y, m + 1, 1)
        };
        let Some(mut d) = first_next else { continue };
        let mut found = 0;
        while found < 3 {
            d -= Duration::days(1);
            if calendar.is_working_day(d) {
                ends.insert(d);
                found += 1;
            }
        }
    }
    ends
}

/// `period_end_campaign`: a window whose top ratings jump in the last three working days of a month, against
/// its own rest of the month and against its peers' jump (a county-wide push at month end is no one window's
/// campaign). Judged per window; its period-end top ratings are the evidence.
pub fn period_end_campaign(obs: &[Observation], calendar: &Calendar, t: &Thresholds) -> Vec<Flag> {
    use chrono::Datelike;
    let ends = period_ends(obs, calendar);
    // (window, year, month) → [rest: (top, all), end: (top, all)], and the end's top ratings.
    type Shares = [(usize, usize); 2];
    let mut per: BTreeMap<(&str, i32, u32), (Shares, Vec<i64>)> = BTreeMap::new();
    for o in obs {
        let Some(w) = &o.window else { continue };
        let d = business_date(o.at);
        let at_end = ends.contains(&d);
        let e = per.entry((w.as_str(), d.year(), d.month())).or_default();
        let slot = &mut e.0[usize::from(at_end)];
        slot.1 += 1;
        if o.level == Level::VerySatisfied {
            slot.0 += 1;
            if at_end {
                e.1.push(o.evaluation_id);
            }
        }
    }
    let share = |(top, all): (usize, usize)| if all == 0 { None } else { Some(top as f64 / all as f64) };
    let mut jumps: BTreeMap<(i32, u32), Vec<(&str, f64)>> = BTreeMap::new();
    for ((w, y, m), (s, _)) in &per {
        if let (Some(rest), Some(end)) = (share(s[0]), share(s[1])) {
            jumps.entry((*y, *m)).or_default().push((w, end - rest));
        }
    }
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(|a, b| a.total_cmp(b));
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let mut flags = Vec::new();
    for ((window, y, m), (s, ids)) in per {
        let (Some(rest), Some(end)) = (share(s[0]), share(s[1])) else { continue };
        // The other windows' jump that month (none: nothing to compare with but itself, taken as no jump).
        let others: Vec<f64> = jumps[&(y, m)].iter().filter(|(w, _)| *w != window).map(|(_, j)| *j).collect();
        let peers = median(&others);
        let jump = end - rest;
        if s[1].1 < t.campaign_min || s[0].1 < t.campaign_min || jump - peers < t.campaign_jump {
            continue;
        }
        // Is the excess more than chance on these numbers? (A small window swings by itself.)
        let (n_end, n_rest) = (s[1].1 as f64, s[0].1 as f64);
        let pooled = (s[0].0 + s[1].0) as f64 / (n_end + n_rest);
        let se = (pooled * (1.0 - pooled) * (1.0 / n_end + 1.0 / n_rest)).sqrt();
        if se > 0.0 && (jump - peers) / se < t.campaign_z {
            continue;
        }
        flags.push(Flag {
            pattern: Pattern::PeriodEndCampaign,
            subject: format!("window:{window}:{y}-{m:02}"),
            evaluation_ids: ids,
            staff_numbers: Vec::new(),
            window_codes: vec![window.to_string()],
            device_codes: Vec::new(),
            score: (0.5 + (jump - peers)).min(0.9),
            explanation: format!(
                "窗口 {window} 在 {y} 年 {m} 月最后三个工作日的“非常满意”占比为 {:.0}%({} 条中 {} 条),当月其余日子为 {:.0}%,同期各窗口一般只变化 {:+.0} 个百分点。",
                end * 100.0,
                s[1].1,
                s[1].0,
                rest * 100.0,
                peers * 100.0
            ),
            org_path: String::new(),
        });
    }
    flags
}

/// Where a window's or staff member's share of "非常满意" stands against the county's, its sample size taken
/// into account: the funnel-plot limits p0 ± 3·√(p0(1−p0)/n). Context beside a flag, never a flag itself — a
/// small window swings widely by chance, a large one should not.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FunnelPoint {
    pub n: u64,
    pub share: f64,
    pub lower: f64,
    pub upper: f64,
    /// Beyond the limits.
    pub outside: bool,
}

/// The funnel point of `hits` out of `n` against the overall share `p0`; `None` without evaluations.
pub fn funnel(p0: f64, hits: u64, n: u64) -> Option<FunnelPoint> {
    if n == 0 {
        return None;
    }
    let share = hits as f64 / n as f64;
    let spread = 3.0 * (p0 * (1.0 - p0) / n as f64).sqrt();
    let (lower, upper) = ((p0 - spread).max(0.0), (p0 + spread).min(1.0));
    Some(FunnelPoint { n, share, lower, upper, outside: share < lower || share > upper })
}

/// The family of a browser or app from its user-agent line: enough to see a hall pad's one browser rating
/// for hundreds of applicants, or a script, without keeping the whole line.
pub fn user_agent_family(ua: &str) -> &'static str {
    let has = |s: &str| ua.contains(s);
    if has("MicroMessenger") {
        "wechat"
    } else if has("AlipayClient") {
        "alipay"
    } else if has("HarmonyOS") || has("OpenHarmony") {
        "harmony"
    } else if has("Android") {
        "android"
    } else if has("iPhone") || has("iPad") {
        "ios"
    } else if has("Windows") {
        "windows"
    } else if has("Macintosh") || has("Mac OS X") {
        "mac"
    } else if has("Linux") || has("X11") {
        "linux"
    } else if ["curl", "python", "Go-http", "okhttp", "Java/", "wget", "reqwest"].iter().any(|s| ua.contains(s)) {
        "script"
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_county_may_set_its_own_thresholds() {
        let t = Thresholds::default().with_overrides(" burst_size=7, campaign_z=2.5 ,quick_minutes=3").unwrap();
        assert_eq!((t.burst_size, t.quick_minutes, t.campaign_z), (7, 3, 2.5));
        assert_eq!(t.pool, Thresholds::default().pool);
        assert!(Thresholds::default().with_overrides("").is_ok());
        for bad in ["burst_size", "burst_size=0", "burst_size=-1", "nope=3", "campaign_z=abc", "pool=1.5"] {
            assert!(Thresholds::default().with_overrides(bad).is_err(), "{bad}");
        }
    }
    use chrono::{Datelike, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap()
    }

    fn ob(id: i64, minutes: i64, level: Level, staff: i64, evaluator: &str) -> Observation {
        Observation {
            evaluation_id: id,
            at: t0() + Duration::minutes(minutes),
            level,
            comment: None,
            record_number: format!("R-{id}"),
            received_at: t0() + Duration::minutes(minutes - 20),
            completed_at: Some(t0() + Duration::minutes(minutes - 2)),
            org_id: 1,
            org_path: "/1/".into(),
            window: Some("W-1".into()),
            staff: Some((staff, format!("S{staff}"), format!("员工{staff}"))),
            applicant_mobile: format!("m-{evaluator}"),
            applicant_id: format!("i-{evaluator}"),
            device: None,
            address: None,
        }
    }

    fn staff(id: i64, mobile: &str) -> StaffIdentity {
        StaffIdentity {
            staff_id: id,
            staff_number: format!("S{id}"),
            name: format!("员工{id}"),
            org_id: 1,
            mobile: Some(format!("m-{mobile}")),
            id_number: None,
        }
    }

    #[test]
    fn staff_rating_their_own_or_a_colleagues_service() {
        let me = staff(1, "me");
        let obs = [
            ob(1, 0, Level::VerySatisfied, 1, "me"),
            ob(2, 5, Level::VerySatisfied, 2, "me"),
            ob(3, 9, Level::Dissatisfied, 2, "me"),
            ob(4, 9, Level::VerySatisfied, 1, "someone"),
        ];
        let flags = self_rating(&obs, &[me, staff(2, "colleague")]);
        assert_eq!(flags.iter().map(|f| f.evaluation_ids[0]).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(flags[0].score, 0.99);
        assert!(flags[0].explanation.contains("本人给自己经办的业务"), "{}", flags[0].explanation);
        assert!(flags[1].explanation.contains("为同事 员工2(S2)"), "{}", flags[1].explanation);
        // A staff member of another organization is just an applicant there.
        let mut elsewhere = staff(1, "me");
        elsewhere.org_id = 9;
        assert!(self_rating(&obs, &[elsewhere]).is_empty());
    }

    #[test]
    fn insults_and_threats_but_not_a_harsh_complaint() {
        let mut a = ob(1, 0, Level::VeryDissatisfied, 1, "a");
        a.comment = Some("办事效率太低,你等着,我饶不了你".into());
        let mut b = ob(2, 0, Level::VeryDissatisfied, 1, "b");
        b.comment = Some("服务太垃圾了,材料清单说不清楚,跑了三趟".into());
        let flags = abusive_text(&[a, b]);
        assert_eq!(flags.len(), 1);
        assert!(flags[0].score >= 0.95 && flags[0].explanation.contains("威胁"), "{flags:?}");
    }

    #[test]
    fn one_evaluator_against_one_staff_member_is_revenge_a_wave_is_not() {
        let mut obs: Vec<Observation> =
            (0..10).map(|i| ob(100 + i, i, Level::Satisfied, 1, &format!("p{i}"))).collect();
        obs.extend((0..3).map(|i| ob(i, 100 + i, Level::VeryDissatisfied, 1, "angry")));
        obs.push(ob(50, 200, Level::Satisfied, 2, "angry")); // rates others normally
        let flags = revenge(&obs, &Thresholds::default());
        assert_eq!(flags.len(), 1, "{flags:?}");
        assert_eq!(flags[0].evaluation_ids, [0, 1, 2]);
        assert!(flags[0].explanation.contains("同一评价人 3 次给工作人员 员工1(S1) 差评"), "{}", flags[0].explanation);
        // A regular who was unlucky three times in twenty visits is not singled out.
        let mut regular: Vec<Observation> =
            (0..10).map(|i| ob(600 + i, i, Level::Satisfied, 3, &format!("x{i}"))).collect();
        regular.extend((0..17).map(|i| ob(700 + i, 50 + i, Level::Satisfied, 3, "regular")));
        regular.extend((0..3).map(|i| ob(800 + i, 90 + i, Level::Dissatisfied, 3, "regular")));
        assert!(revenge(&regular, &Thresholds::default()).is_empty());
        // After a real failure many people rate badly: no one is singled out.
        obs.extend((0..6).map(|i| ob(300 + i, 300 + i, Level::Dissatisfied, 1, &format!("q{i}"))));
        assert!(revenge(&obs, &Thresholds::default()).is_empty());
    }

    #[test]
    fn a_burst_of_late_top_ratings_on_a_device_but_not_help_on_the_spot() {
        let t = Thresholds::default();
        let device = |mut o: Observation, late_minutes: i64| {
            o.device = Some("D-1".into());
            o.completed_at = Some(o.at - Duration::minutes(late_minutes));
            o
        };
        // Staff helping elderly applicants: every rating a minute after the service, all day.
        let helped: Vec<Observation> =
            (0..40).map(|i| device(ob(i, i * 3, Level::VerySatisfied, 1, &format!("e{i}")), 1)).collect();
        assert!(device_takeover(&helped, &t).is_empty());
        // Someone pressing 8 top ratings in 8 minutes for services of the morning.
        let pressed: Vec<Observation> =
            (0..8).map(|i| device(ob(100 + i, 600 + i, Level::VerySatisfied, 1, &format!("g{i}")), 240)).collect();
        let flags = device_takeover(&[helped, pressed].concat(), &t);
        assert_eq!(flags.len(), 1, "{flags:?}");
        assert_eq!(flags[0].evaluation_ids.len(), 8);
        assert_eq!(flags[0].device_codes, ["D-1"]);
    }

    /// A quick top-rated service: handled in two minutes, rated a minute after.
    fn quick(id: i64, minutes: i64, evaluator: &str) -> Observation {
        let mut o = ob(id, minutes, Level::VerySatisfied, 1, evaluator);
        o.completed_at = Some(o.at - Duration::minutes(1));
        o.received_at = o.at - Duration::minutes(3);
        o
    }

    #[test]
    fn made_up_records_but_not_an_agents_busy_day() {
        let t = Thresholds::default();
        let made_up: Vec<Observation> = (0..8).map(|i| quick(i, i * 10, ["a", "b"][i as usize % 2])).collect();
        let flags = fabricated_records(&made_up, &t);
        assert_eq!(flags.len(), 1, "{flags:?}");
        assert!(flags[0].explanation.contains("申请人只有 2 人"), "{}", flags[0].explanation);
        // An agent: twelve records of one day, each of normal length, rated as anyone would.
        let agent: Vec<Observation> = (0..12).map(|i| ob(100 + i, i * 30, Level::VerySatisfied, 1, "agent")).collect();
        assert!(fabricated_records(&agent, &t).is_empty());
        // Many different applicants with quick services are a quick window, not a made-up one.
        let busy: Vec<Observation> = (0..12).map(|i| quick(200 + i, i * 10, &format!("p{i}"))).collect();
        assert!(fabricated_records(&busy, &t).is_empty());
    }

    #[test]
    fn a_ring_returning_to_one_window_but_not_one_agent() {
        let t = Thresholds::default();
        let ring: Vec<Observation> =
            (0..12).map(|i| quick(i, i * 60 * 24, ["r1", "r2", "r3"][i as usize % 3])).collect();
        assert_eq!(rating_ring(&ring, &t).len(), 1);
        let agent: Vec<Observation> = (0..12).map(|i| quick(100 + i, i * 60 * 24, "agent")).collect();
        assert!(rating_ring(&agent, &t).is_empty(), "one evaluator is not a ring");
    }

    #[test]
    fn bad_reviews_from_one_address_but_not_a_wave_or_a_family() {
        let t = Thresholds::default();
        let mut obs: Vec<Observation> =
            (0..10).map(|i| ob(100 + i, i, Level::Satisfied, 1, &format!("p{i}"))).collect();
        let from_one = |id: i64, who: &str, addr: &str| {
            let mut o = ob(id, 300 + id, Level::VeryDissatisfied, 1, who);
            o.address = Some(addr.into());
            o
        };
        // A family of two from home: not a campaign.
        obs.extend([from_one(1, "f1", "home"), from_one(2, "f2", "home")]);
        assert!(coordinated_bad_reviews(&obs, &t).is_empty());
        // Five people from one address within the day against one staff member everyone else is content with.
        obs.extend((0..5).map(|i| from_one(10 + i, &format!("c{i}"), "office-x")));
        let flags = coordinated_bad_reviews(&obs, &t);
        assert_eq!(flags.len(), 1, "{flags:?}");
        assert_eq!(flags[0].evaluation_ids.len(), 5);
        // After a real failure everyone is dissatisfied: no one is singled out.
        obs.extend((0..10).map(|i| ob(500 + i, 400 + i, Level::Dissatisfied, 1, &format!("w{i}"))));
        assert!(coordinated_bad_reviews(&obs, &t).is_empty());
    }

    #[test]
    fn a_window_whose_top_ratings_jump_at_month_end_against_its_peers() {
        let cal = Calendar::bundled();
        let t = Thresholds::default();
        // November 2026: windows W-1 and W-2 rate 40 % top all month; at the last three working days W-1 jumps to
        // 100 %, W-2 stays.
        let day = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap();
        let mut obs = Vec::new();
        let mut id = 0;
        for d in 2..=30u32 {
            let date = chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
            if !cal.is_working_day(date) {
                continue;
            }
            let end = d >= 26;
            for w in ["W-1", "W-2"] {
                for k in 0..5 {
                    id += 1;
                    let top = if end && w == "W-1" { true } else { k < 2 };
                    let mut o =
                        ob(id, 0, if top { Level::VerySatisfied } else { Level::Satisfied }, 1, &format!("e{id}"));
                    o.at = day(d, 2 + k);
                    o.window = Some(w.into());
                    obs.push(o);
                }
            }
        }
        let flags = period_end_campaign(&obs, &cal, &t);
        assert_eq!(flags.len(), 1, "{flags:?}");
        assert_eq!(flags[0].window_codes, ["W-1"]);
        assert!(flags[0].explanation.contains("最后三个工作日"), "{}", flags[0].explanation);
        // If every window jumps (a county-wide push), no one window is singled out.
        for o in obs.iter_mut().filter(|o| o.window.as_deref() == Some("W-2") && business_date(o.at).day() >= 26) {
            o.level = Level::VerySatisfied;
        }
        assert!(period_end_campaign(&obs, &cal, &t).is_empty());
    }

    #[test]
    fn a_scan_keeps_flags_touching_its_window_and_finds_the_same_twice() {
        let me = staff(1, "me");
        let obs = [ob(1, 0, Level::VerySatisfied, 1, "me"), ob(2, 60 * 24 * 3, Level::VerySatisfied, 1, "me")];
        let from = t0() + Duration::days(1);
        let cal = Calendar::bundled();
        let a = scan(&obs, std::slice::from_ref(&me), &cal, from, &Thresholds::default());
        assert_eq!(a.iter().map(|f| f.evaluation_ids[0]).collect::<Vec<_>>(), [2]);
        assert_eq!(a, scan(&obs, &[me], &cal, from, &Thresholds::default()));
    }

    #[test]
    fn a_flag_belongs_to_the_deepest_organization_of_its_evaluations() {
        assert_eq!(common_path(["/1/5/", "/1/5/9/"]), "/1/5/");
        assert_eq!(common_path(["/1/5/", "/1/6/"]), "/1/");
        assert_eq!(common_path(["/1/", "/2/"]), "/");
        assert_eq!(common_path(std::iter::empty()), "/");
    }

    #[test]
    fn funnel_limits_narrow_with_the_sample() {
        // 80 % of 10 is within chance of a county at 70 %; 80 % of 1,000 is not.
        let small = funnel(0.7, 8, 10).unwrap();
        let large = funnel(0.7, 800, 1000).unwrap();
        assert!(!small.outside && large.outside, "{small:?} {large:?}");
        assert!(large.upper - large.lower < small.upper - small.lower);
        assert_eq!(funnel(0.7, 0, 0), None);
    }

    #[test]
    fn comments_suggesting_misconduct() {
        assert_eq!(misconduct_terms("窗口人员暗示要交好处费才给办,还故意刁难"), ["好处费", "故意刁难"]);
        assert_eq!(misconduct_terms("材料清单不清楚,跑了三趟"), Vec::<&str>::new());
    }

    #[test]
    fn families_of_common_clients() {
        let wx = "Mozilla/5.0 (Linux; Android 12; M2012K11AC) AppleWebKit/537.36 MicroMessenger/8.0.40";
        assert_eq!(user_agent_family(wx), "wechat");
        assert_eq!(user_agent_family("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"), "ios");
        assert_eq!(user_agent_family("Mozilla/5.0 (Linux; Android 10; HarmonyOS; ELS-AN00)"), "harmony");
        assert_eq!(user_agent_family("Mozilla/5.0 (Windows NT 10.0; Win64; x64)"), "windows");
        assert_eq!(user_agent_family("python-requests/2.31"), "script");
        assert_eq!(user_agent_family(""), "other");
    }
}
