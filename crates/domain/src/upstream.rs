//! The exchange with the upper-level (provincial) 好差评 system, as pure rules: the codes of the national
//! field set, the three kinds of items we push and their keys, what a reply means for each item, and the
//! catalog codes the upper level needs (area code, implementation code, business-handling item code).
//! The wire format itself is described in docs/upstream.md; transport and SM2 live elsewhere.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

use crate::{ApplicantKind, Category, Channel, Level, Violation};

/// At most this many items travel in one envelope (the issue's contract).
pub const MAX_BATCH: usize = 100;

/// The three kinds of items pushed upward, in the order the upper level needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ItemKind {
    /// I1 办件服务信息: a completed service record.
    Service,
    /// I2 评价: an evaluation (first or second rating, by anyone or by default).
    Evaluation,
    /// I8 评价修改: a later change the upper level must know (invalidated, rectified).
    Update,
}

impl ItemKind {
    pub const ALL: [ItemKind; 3] = [ItemKind::Service, ItemKind::Evaluation, ItemKind::Update];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Service => "service",
            ItemKind::Evaluation => "evaluation",
            ItemKind::Update => "update",
        }
    }

    pub fn parse(s: &str) -> Option<ItemKind> {
        ItemKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The path under the upper level's base URL.
    pub fn path(self) -> &'static str {
        match self {
            ItemKind::Service => "service",
            ItemKind::Evaluation => "evaluation",
            ItemKind::Update => "evaluation-update",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            ItemKind::Service => "办件",
            ItemKind::Evaluation => "评价",
            ItemKind::Update => "评价修改",
        }
    }
}

/// What identifies an item at the upper level: projectNo + serviceNumber (I1), projectNo + assessNumber
/// (I2), projectNo + assessNumber + updateNumber (I8).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemKey {
    pub project_no: String,
    /// serviceNumber for a service item, assessNumber otherwise.
    pub number: i64,
    /// updateNumber of an update; 0 otherwise.
    pub update_number: i64,
}

impl std::fmt::Display for ItemKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.update_number > 0 {
            write!(f, "{}#{}.{}", self.project_no, self.number, self.update_number)
        } else {
            write!(f, "{}#{}", self.project_no, self.number)
        }
    }
}

/// The national 事项类型 of our categories (the issue's explicit map; 12345 matters are 99 其它).
pub fn task_type(category: Category) -> &'static str {
    match category {
        Category::Licensing => "01",
        Category::Payment => "05",
        Category::Confirmation => "07",
        Category::Reward => "08",
        Category::Adjudication => "09",
        Category::OtherPower => "10",
        Category::PublicService => "20",
        Category::Hotline => "99",
    }
}

/// The interface's satisfaction: 5 = 非常满意 … 1 = 非常不满意 (the 好差评 interfaces' direction, the
/// opposite of GB/T 39046 A.8).
pub fn satisfaction(level: Level) -> i64 {
    match level {
        Level::VerySatisfied => 5,
        Level::Satisfied => 4,
        Level::BasicallySatisfied => 3,
        Level::Dissatisfied => 2,
        Level::VeryDissatisfied => 1,
    }
}

pub fn level_of_satisfaction(n: i64) -> Option<Level> {
    Level::ALL.into_iter().find(|l| satisfaction(*l) == n)
}

/// userProp: 1 自然人, 2 企业法人, 9 其他组织.
pub fn user_prop(kind: ApplicantKind) -> i64 {
    match kind {
        ApplicantKind::Person => 1,
        ApplicantKind::Enterprise => 2,
        ApplicantKind::Organization => 9,
    }
}

/// userPageType: "111" a resident ID, "001" a credit code.
pub fn user_page_type(kind: ApplicantKind) -> &'static str {
    match kind {
        ApplicantKind::Person => "111",
        ApplicantKind::Enterprise | ApplicantKind::Organization => "001",
    }
}

fn china(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset"))
}

/// Times inside items: `yyyy-MM-dd HH:mm:ss`, UTC+8.
pub fn item_time(t: DateTime<Utc>) -> String {
    china(t).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Reads an item time back (pulled evaluations).
pub fn parse_item_time(s: &str) -> Option<DateTime<Utc>> {
    let naive = chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S").ok()?;
    naive.and_local_timezone(FixedOffset::east_opt(8 * 3600)?).single().map(|t| t.with_timezone(&Utc))
}

/// The envelope's `time`: `yyyyMMddHHmmss`, UTC+8.
pub fn envelope_time(t: DateTime<Utc>) -> String {
    china(t).format("%Y%m%d%H%M%S").to_string()
}

/// A 12-digit 行政区划代码 (6-digit region + 6 more digits, `000000` at county level).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaCode(String);

impl AreaCode {
    pub fn parse(field: &str, raw: &str) -> Result<Self, Violation> {
        let s = raw.trim();
        if s.len() != 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Violation::new(field, "invalid_area_code", "行政区划代码应为 12 位数字(如 510824000000)。"));
        }
        Ok(AreaCode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn code_of_length(field: &str, raw: &str, len: usize, code: &'static str, what: &str) -> Result<String, Violation> {
    let s = raw.trim().to_ascii_uppercase();
    if s.len() != len || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Violation::new(field, code, format!("{what}应为 {len} 位数字或字母。")));
    }
    Ok(s)
}

/// A 31-character 实施编码 of a service item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImplementationCode(String);

impl ImplementationCode {
    pub fn parse(field: &str, raw: &str) -> Result<Self, Violation> {
        code_of_length(field, raw, 31, "invalid_implementation_code", "实施编码").map(ImplementationCode)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A 33-character 业务办理项编码 of a service item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandleItemCode(String);

impl HandleItemCode {
    pub fn parse(field: &str, raw: &str) -> Result<Self, Violation> {
        code_of_length(field, raw, 33, "invalid_handle_item_code", "业务办理项编码").map(HandleItemCode)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The channel (`pf`) and indicator (`evalDetail`) codes of the upper level, from the codes file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Codes {
    pf: BTreeMap<Channel, i64>,
    /// Annex id → upper-level code; `None` sends our annex ids as they are.
    indicators: Option<BTreeMap<String, String>>,
}

/// Why a codes file cannot be used; stops `serve` at start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodesError {
    #[error("代码对照文件不是有效的 JSON:{0}")]
    Json(String),
    #[error("代码对照文件的 pf 中“{0}”不是本系统的评价渠道(可用:{1})")]
    UnknownChannel(String, String),
    #[error("代码对照文件的 indicators 中“{0}”不是附件评价指标的编号")]
    UnknownIndicator(String),
    #[error("代码对照文件的 indicators 缺少评价指标 {0} 的上级编码(给出对照表时须覆盖全部指标)")]
    MissingIndicator(String),
    #[error("代码对照文件中 pf 编码 {0} 对应了多个渠道,回流的评价无法确定渠道")]
    AmbiguousPf(i64),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodesFile {
    #[serde(default)]
    pf: BTreeMap<String, i64>,
    #[serde(default)]
    indicators: Option<BTreeMap<String, String>>,
}

impl Default for Codes {
    fn default() -> Self {
        Codes::builtin()
    }
}

impl Codes {
    /// The built-in channel map (the issue's): web 1, app 2, qr_code 3, hall_device 4, kiosk 5, hotline 6,
    /// sms 7, system 8; our annex ids sent as they are.
    pub fn builtin() -> Codes {
        let pf = [
            (Channel::Web, 1),
            (Channel::App, 2),
            (Channel::QrCode, 3),
            (Channel::HallDevice, 4),
            (Channel::Kiosk, 5),
            (Channel::Hotline, 6),
            (Channel::Sms, 7),
            (Channel::System, 8),
        ]
        .into_iter()
        .collect();
        Codes { pf, indicators: None }
    }

    /// Reads a codes file: `{"pf": {"web": 1, …}, "indicators": {"S111": "501", …}}`. Channels left out keep
    /// the built-in numbers; an indicator map, when given, must name every annex id (each can be in use).
    pub fn parse(json: &str) -> Result<Codes, CodesError> {
        let file: CodesFile = serde_json::from_str(json).map_err(|e| CodesError::Json(e.to_string()))?;
        let mut codes = Codes::builtin();
        for (k, v) in file.pf {
            let channel = Channel::parse(&k).ok_or_else(|| CodesError::UnknownChannel(k.clone(), Channel::codes()))?;
            codes.pf.insert(channel, v);
        }
        let mut seen = HashMap::new();
        for (c, n) in &codes.pf {
            if *c != Channel::Provincial && seen.insert(*n, *c).is_some() {
                return Err(CodesError::AmbiguousPf(*n));
            }
        }
        if let Some(map) = &file.indicators {
            let annex = crate::indicators::Annex::get();
            if let Some(unknown) = map.keys().find(|id| annex.lookup(id).is_none()) {
                return Err(CodesError::UnknownIndicator(unknown.clone()));
            }
            if let Some(missing) = annex.ids().find(|id| !map.contains_key(*id)) {
                return Err(CodesError::MissingIndicator(missing.to_string()));
            }
        }
        codes.indicators = file.indicators;
        Ok(codes)
    }

    /// `pf` of a channel. Evaluations pulled from the province are never pushed, so `provincial` has none.
    pub fn pf(&self, channel: Channel) -> Option<i64> {
        self.pf.get(&channel).copied()
    }

    /// The channel a pulled evaluation's `pf` names.
    pub fn channel_of_pf(&self, pf: i64) -> Option<Channel> {
        self.pf.iter().find(|(c, n)| **n == pf && **c != Channel::Provincial).map(|(c, _)| *c)
    }

    /// `evalDetail` of our annex ids, in order.
    pub fn eval_detail<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> String {
        let mapped: Vec<&str> = ids
            .into_iter()
            .map(|id| match &self.indicators {
                Some(map) => map.get(id).map_or(id, String::as_str),
                None => id,
            })
            .collect();
        mapped.join(",")
    }

    /// Our annex id of an upper-level indicator code (pulled evaluations).
    pub fn annex_id(&self, code: &str) -> Option<String> {
        match &self.indicators {
            Some(map) => map.iter().find(|(_, c)| c.as_str() == code).map(|(id, _)| id.clone()),
            None => crate::indicators::Annex::get().lookup(code).map(|_| code.to_string()),
        }
    }
}

/// I1 办件服务信息, with the national field names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceItem {
    pub project_no: String,
    pub service_number: i64,
    pub task_code: String,
    pub task_handle_item: String,
    pub task_name: String,
    pub task_type: String,
    pub pro_status: i64,
    pub accept_date: String,
    pub result_date: String,
    pub dept_code: String,
    pub pro_depart: String,
    pub area_code: String,
    pub pro_manager: String,
    pub user_prop: i64,
    pub user_name: String,
    pub user_page_type: String,
    #[serde(rename = "certKeyGOV")]
    pub cert_key_gov: String,
    pub mobile: String,
    pub service_name: String,
    pub service_time: String,
    pub pro_channel: i64,
    pub data_source: String,
}

/// I2 评价, pushed and pulled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvaluationItem {
    pub project_no: String,
    pub service_number: i64,
    pub assess_number: i64,
    pub satisfaction: i64,
    pub pf: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_evaluation: Option<i64>,
    #[serde(default)]
    pub eval_detail: String,
    #[serde(default)]
    pub writing_evaluation: String,
    pub assess_time: String,
}

/// I8 评价修改: one change of an evaluation the upper level holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateItem {
    pub project_no: String,
    pub assess_number: i64,
    pub update_number: i64,
    /// 0 when an upheld appeal made the evaluation invalid, 1 otherwise.
    #[serde(rename = "effectivEvalua")]
    pub effective: i64,
    /// The unit's rectification text ("" for an invalidation).
    pub rectification: String,
    /// 审核状态: "2" 已审核.
    pub app_status: String,
}

/// What the upper level said of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Stored now.
    Accepted,
    /// Already there (409 or "不可重复"): accepted, and the upper level counts it once.
    Duplicate,
    /// Refused with the upper level's reason (400): kept, shown, sent again only after correction.
    Rejected(String),
    /// Not decided (another code, or the item missing from the reply): sent again later.
    Retry(String),
}

/// What a reply to a batch means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Per item, by key.
    Items(HashMap<ItemKey, Outcome>),
    /// The batch as a whole failed (not JSON, no `code`, a code other than 200); `unauthorized` for 401
    /// (a bad sign: wrong appMark, appWord or key, which an operator must fix).
    Failed { reason: String, unauthorized: bool },
}

fn code_of(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn int_of(v: Option<&serde_json::Value>) -> Option<i64> {
    match v? {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Reads the reply to a push of `kind`: `{"code": "200", "results": [{"projectNo", "serviceNumber" |
/// "assessNumber", ["updateNumber"], "code", "message"}]}`.
pub fn parse_reply(kind: ItemKind, body: &str) -> Reply {
    let failed = |reason: String, unauthorized| Reply::Failed { reason, unauthorized };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(body) else {
        return failed("上级平台的答复不是 JSON".into(), false);
    };
    let Some(code) = v.get("code").and_then(code_of) else {
        return failed("上级平台的答复缺少 code".into(), false);
    };
    let message = v.get("message").and_then(|m| m.as_str()).unwrap_or("").chars().take(200).collect::<String>();
    if code == "401" {
        return failed(format!("上级平台拒绝了签名(401),请核对 appMark、appWord 和公钥:{message}"), true);
    }
    if code != "200" {
        return failed(format!("上级平台答复 code {code}:{message}"), false);
    }
    let mut items = HashMap::new();
    for r in v.get("results").and_then(|r| r.as_array()).map(Vec::as_slice).unwrap_or_default() {
        let Some(project_no) = r.get("projectNo").and_then(|p| p.as_str()) else { continue };
        let number = match kind {
            ItemKind::Service => int_of(r.get("serviceNumber")),
            ItemKind::Evaluation | ItemKind::Update => int_of(r.get("assessNumber")),
        };
        let Some(number) = number else { continue };
        let update_number = if kind == ItemKind::Update { int_of(r.get("updateNumber")).unwrap_or(1) } else { 0 };
        let message: String = r.get("message").and_then(|m| m.as_str()).unwrap_or("").chars().take(500).collect();
        let outcome = match r.get("code").and_then(code_of).as_deref() {
            Some("200") if !message.contains("不可重复") => Outcome::Accepted,
            Some("200" | "409") => Outcome::Duplicate,
            _ if message.contains("不可重复") => Outcome::Duplicate,
            Some("400") => Outcome::Rejected(if message.is_empty() {
                "上级平台拒收(未说明原因)".into()
            } else {
                message
            }),
            Some(other) => Outcome::Retry(format!("上级平台答复 {other}:{message}")),
            None => Outcome::Retry("上级平台的答复缺少该条的 code".into()),
        };
        items.insert(ItemKey { project_no: project_no.to_string(), number, update_number }, outcome);
    }
    Reply::Items(items)
}

impl Reply {
    /// The outcome of one item sent in the batch; an item the reply does not mention is retried.
    pub fn outcome(&self, key: &ItemKey) -> Outcome {
        match self {
            Reply::Items(items) => {
                items.get(key).cloned().unwrap_or_else(|| Outcome::Retry("上级平台的答复未提及该条".into()))
            }
            Reply::Failed { reason, .. } => Outcome::Retry(reason.clone()),
        }
    }
}

/// The pull reply: `{"code": "200", "data": HEX, "next": CURSOR}`.
#[derive(Debug, Clone, Deserialize)]
pub struct PullReply {
    pub code: serde_json::Value,
    #[serde(default)]
    pub data: Option<String>,
    #[serde(default)]
    pub next: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_has_a_national_type() {
        let types: Vec<_> = Category::ALL.iter().map(|c| task_type(*c)).collect();
        assert_eq!(types, ["01", "05", "07", "09", "08", "10", "20", "99"]);
    }

    #[test]
    fn satisfaction_runs_the_interface_way() {
        assert_eq!(satisfaction(Level::VerySatisfied), 5);
        assert_eq!(satisfaction(Level::VeryDissatisfied), 1);
        for l in Level::ALL {
            assert_eq!(level_of_satisfaction(satisfaction(l)), Some(l));
        }
        assert_eq!(level_of_satisfaction(0), None);
    }

    #[test]
    fn times_are_china_time() {
        let t = DateTime::parse_from_rfc3339("2026-03-01T16:30:05Z").unwrap().with_timezone(&Utc);
        assert_eq!(item_time(t), "2026-03-02 00:30:05");
        assert_eq!(envelope_time(t), "20260302003005");
        assert_eq!(parse_item_time("2026-03-02 00:30:05"), Some(t));
        assert_eq!(parse_item_time("2026-03-02"), None);
    }

    #[test]
    fn catalog_codes_are_checked() {
        assert!(AreaCode::parse("area_code", "510824000000").is_ok());
        assert_eq!(AreaCode::parse("area_code", "5108240000").unwrap_err().code, "invalid_area_code");
        assert_eq!(AreaCode::parse("area_code", "51082400000X").unwrap_err().code, "invalid_area_code");
        let code = "11510824MB0000000X4000111017000";
        assert_eq!(ImplementationCode::parse("c", &code.to_lowercase()).unwrap().as_str(), code);
        assert_eq!(ImplementationCode::parse("c", "123").unwrap_err().code, "invalid_implementation_code");
        assert!(HandleItemCode::parse("h", &format!("{code}01")).is_ok());
        assert_eq!(HandleItemCode::parse("h", &format!("{code}0-")).unwrap_err().code, "invalid_handle_item_code");
    }

    #[test]
    fn codes_file_overrides_and_checks() {
        let c = Codes::parse(r#"{"pf": {"sms": 6, "hotline": 9}}"#).unwrap();
        assert_eq!(c.pf(Channel::Sms), Some(6));
        assert_eq!(c.pf(Channel::Web), Some(1));
        assert_eq!(c.pf(Channel::Provincial), None);
        assert_eq!(c.channel_of_pf(9), Some(Channel::Hotline));
        assert_eq!(c.eval_detail(["S111", "P11"]), "S111,P11");
        assert!(matches!(Codes::parse(r#"{"pf": {"fax": 1}}"#), Err(CodesError::UnknownChannel(..))));
        assert_eq!(Codes::parse(r#"{"pf": {"sms": 1}}"#), Err(CodesError::AmbiguousPf(1)));
        assert!(matches!(Codes::parse("{"), Err(CodesError::Json(_))));
        assert!(matches!(Codes::parse(r#"{"indicators": {"S111": "501"}}"#), Err(CodesError::MissingIndicator(_))));
        assert_eq!(Codes::parse(r#"{"indicators": {"X1": "501"}}"#), Err(CodesError::UnknownIndicator("X1".into())));
        let all: BTreeMap<String, String> = crate::indicators::Annex::get()
            .ids()
            .enumerate()
            .map(|(i, id)| (id.to_string(), format!("{}", 500 + i)))
            .collect();
        let json = serde_json::json!({ "indicators": all }).to_string();
        let c = Codes::parse(&json).unwrap();
        let s111 = all["S111"].clone();
        assert_eq!(c.eval_detail(["S111"]), s111);
        assert_eq!(c.annex_id(&s111).as_deref(), Some("S111"));
        assert_eq!(c.annex_id("nope"), None);
    }

    #[test]
    fn items_use_the_national_names_and_types() {
        let e = EvaluationItem {
            project_no: "QS-1".into(),
            service_number: 1,
            assess_number: 1,
            satisfaction: 3,
            pf: 8,
            default_evaluation: Some(1),
            eval_detail: String::new(),
            writing_evaluation: String::new(),
            assess_time: "2026-03-02 00:30:05".into(),
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["projectNo"], "QS-1");
        assert_eq!(v["defaultEvaluation"], 1);
        assert_eq!(v["satisfaction"], 3);
        let u = UpdateItem {
            project_no: "QS-1".into(),
            assess_number: 1,
            update_number: 2,
            effective: 0,
            rectification: String::new(),
            app_status: "2".into(),
        };
        let v = serde_json::to_value(&u).unwrap();
        assert_eq!(v["effectivEvalua"], 0);
        assert_eq!(v["appStatus"], "2");
    }

    fn key(p: &str, n: i64) -> ItemKey {
        ItemKey { project_no: p.into(), number: n, update_number: 0 }
    }

    #[test]
    fn replies_decide_each_item() {
        let body = r#"{"code": "200", "results": [
            {"projectNo": "A", "serviceNumber": 1, "code": "200", "message": "成功"},
            {"projectNo": "B", "serviceNumber": 1, "code": "409", "message": ""},
            {"projectNo": "C", "serviceNumber": "1", "code": "500", "message": "评价数据不可重复"},
            {"projectNo": "D", "serviceNumber": 1, "code": "400", "message": "deptCode 不能为空"},
            {"projectNo": "E", "serviceNumber": 1, "code": "503", "message": "忙"}
        ]}"#;
        let r = parse_reply(ItemKind::Service, body);
        assert_eq!(r.outcome(&key("A", 1)), Outcome::Accepted);
        assert_eq!(r.outcome(&key("B", 1)), Outcome::Duplicate);
        assert_eq!(r.outcome(&key("C", 1)), Outcome::Duplicate);
        assert_eq!(r.outcome(&key("D", 1)), Outcome::Rejected("deptCode 不能为空".into()));
        assert!(matches!(r.outcome(&key("E", 1)), Outcome::Retry(_)));
        assert!(matches!(r.outcome(&key("F", 1)), Outcome::Retry(_)));
    }

    #[test]
    fn whole_batch_failures_are_retried() {
        for body in ["<html>502</html>", "{}", r#"{"code": "500"}"#, r#"{"code": 401}"#] {
            let r = parse_reply(ItemKind::Evaluation, body);
            assert!(matches!(r, Reply::Failed { .. }), "{body}");
            assert!(matches!(r.outcome(&key("A", 1)), Outcome::Retry(_)));
        }
        assert!(matches!(
            parse_reply(ItemKind::Service, r#"{"code":"401"}"#),
            Reply::Failed { unauthorized: true, .. }
        ));
    }

    #[test]
    fn update_keys_carry_the_update_number() {
        let body = r#"{"code":"200","results":[{"projectNo":"A","assessNumber":1,"updateNumber":2,"code":"200"}]}"#;
        let r = parse_reply(ItemKind::Update, body);
        assert_eq!(r.outcome(&ItemKey { project_no: "A".into(), number: 1, update_number: 2 }), Outcome::Accepted);
    }
}
