//! `hcp import history FILE.jsonl` (issue 16 §2): service records with their evaluations and original times
//! from an earlier system, one JSON object per line — for counties moving over, and for testing the integrity
//! checks on real history. Every line is checked with the rules of live registration and evaluation; a file
//! with any bad line is refused whole, each bad line named; a good file is written in one transaction as if
//! its evaluations had come live (but not reported upward again: the earlier system did).

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use hcp_domain::calendar::parse_instant;
use hcp_domain::evaluation::{RawSubmission, Submission, join_ids};
use hcp_domain::{Channel, Violation};
use hcp_store::{BulkEvaluation, BulkRecord, HistoryCatalog, NewEvaluation};
use serde::Deserialize;
use serde_json::json;

use crate::audit::Actor;
use crate::records::{RecordInput, ValidRecord, evaluation_deadline, placement_violations, validate};
use crate::{App, AppError, AppResult};

/// Lines per file at most (a county's year is about a million; split bigger histories by year).
pub const MAX_LINES: usize = 2_000_000;
/// Bytes per line at most (a record with its evaluation is well under 2 KB): a longer line is refused without
/// being held (issue 29 §1).
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// One line of a history file as read, bounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawLine {
    Text(String),
    /// Longer than [`MAX_LINE_BYTES`]: skipped to its end, never held whole.
    TooLong,
    /// Not UTF-8.
    NotText,
}

/// The lines of a reader, each read with a bound: memory per line stays under [`MAX_LINE_BYTES`] however the
/// file is made.
pub struct BoundedLines<R> {
    reader: R,
    done: bool,
}

impl<R: std::io::BufRead> BoundedLines<R> {
    pub fn new(reader: R) -> Self {
        BoundedLines { reader, done: false }
    }
}

impl<R: std::io::BufRead> Iterator for BoundedLines<R> {
    type Item = std::io::Result<RawLine>;

    fn next(&mut self) -> Option<Self::Item> {
        use std::io::{BufRead, Read};
        if self.done {
            return None;
        }
        let mut buf = Vec::new();
        let read = (&mut self.reader).take(MAX_LINE_BYTES as u64 + 1).read_until(b'\n', &mut buf);
        match read {
            Err(e) => return Some(Err(e)),
            Ok(0) => {
                self.done = true;
                return None;
            }
            Ok(_) => {}
        }
        if buf.len() > MAX_LINE_BYTES && buf.last() != Some(&b'\n') {
            // Skip the rest of the line in bounded pieces.
            loop {
                let chunk = match self.reader.fill_buf() {
                    Ok(c) => c,
                    Err(e) => return Some(Err(e)),
                };
                if chunk.is_empty() {
                    self.done = true;
                    break;
                }
                match chunk.iter().position(|b| *b == b'\n') {
                    Some(at) => {
                        self.reader.consume(at + 1);
                        break;
                    }
                    None => {
                        let n = chunk.len();
                        self.reader.consume(n);
                    }
                }
            }
            return Some(Ok(RawLine::TooLong));
        }
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        Some(Ok(String::from_utf8(buf).map_or(RawLine::NotText, RawLine::Text)))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    record_number: String,
    item_code: String,
    org_code: String,
    #[serde(default)]
    window_code: Option<String>,
    #[serde(default)]
    staff_number: Option<String>,
    applicant: ApplicantLine,
    received_at: String,
    #[serde(default)]
    completed_at: Option<String>,
    #[serde(default)]
    platform_code: Option<String>,
    #[serde(default)]
    evaluation: Option<EvaluationLine>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplicantLine {
    kind: String,
    name: String,
    id_number: String,
    mobile: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EvaluationLine {
    level: String,
    #[serde(default)]
    indicator_ids: Option<Vec<String>>,
    #[serde(default)]
    staff_indicator_ids: Option<Vec<String>>,
    #[serde(default)]
    comment: Option<String>,
    channel: String,
    created_at: String,
    #[serde(default)]
    client_address: Option<String>,
    #[serde(default)]
    device_code: Option<String>,
    #[serde(default)]
    agent_username: Option<String>,
}

/// A bad line: where, which field (the JSON name), why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub line: usize,
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "第 {} 行 {}: {}", self.line, self.field, self.message)
    }
}

/// What an import wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryReport {
    pub records: usize,
    pub evaluations: usize,
    pub bad_reviews: usize,
}

impl HistoryReport {
    pub fn summary(&self) -> String {
        format!(
            "导入办件 {} 件,评价 {} 条,其中差评 {} 条(已生成差评工单)。",
            self.records, self.evaluations, self.bad_reviews
        )
    }
}

/// A checked line, ready to write.
struct Checked {
    valid: ValidRecord,
    item_id: i64,
    org_id: i64,
    window_id: Option<i64>,
    staff_id: Option<i64>,
    platform_id: Option<i64>,
    evaluation: Option<CheckedEvaluation>,
}

/// A checked evaluation of a line.
struct CheckedEvaluation {
    submission: Submission,
    at: DateTime<Utc>,
    address: Option<std::net::IpAddr>,
    device: Option<String>,
    agent: Option<String>,
}

/// The field a serde error is about, when it says, and the reason in words a clerk reads.
fn json_error(e: &serde_json::Error) -> (String, String) {
    let msg = e.to_string();
    let quoted = |prefix: &str| msg.strip_prefix(prefix).and_then(|rest| rest.split('`').nth(1)).map(str::to_string);
    if let Some(f) = quoted("missing field ") {
        (f, "缺少该字段。".into())
    } else if let Some(f) = quoted("unknown field ") {
        (f, "不认识的字段(字段名请见 docs/history-import.md)。".into())
    } else if msg.starts_with("invalid type") {
        ("-".into(), format!("某个字段的类型不对(如应为文字却是数字):{msg}"))
    } else {
        ("-".into(), format!("不是一个有效的 JSON 对象:{msg}"))
    }
}

fn bad(line: usize, field: &str, message: impl Into<String>) -> BadLine {
    BadLine { line, field: field.to_string(), message: message.into() }
}

/// Checks one parsed line against the catalog; every reason at once.
fn check_line(n: usize, l: Line, cat: &HistoryCatalog, now: DateTime<Utc>, out: &mut Vec<BadLine>) -> Option<Checked> {
    let before = out.len();
    let input = RecordInput {
        record_number: l.record_number.clone(),
        item_code: l.item_code.clone(),
        org_code: l.org_code.clone(),
        window_code: l.window_code.clone(),
        staff_number: l.staff_number.clone(),
        applicant_kind: l.applicant.kind.clone(),
        applicant_name: l.applicant.name.clone(),
        applicant_id_number: l.applicant.id_number.clone(),
        applicant_mobile: l.applicant.mobile.clone(),
        received_at: l.received_at.clone(),
        completed_at: l.completed_at.clone(),
        platform_code: l.platform_code.clone(),
    };
    let valid = match validate(&input, now) {
        Ok(v) => Some(v),
        Err(v) => {
            out.extend(v.into_iter().map(|v| bad(n, &v.field, v.message)));
            None
        }
    };
    let item_id = cat.items.get(l.item_code.trim()).copied();
    if item_id.is_none() {
        out.push(bad(n, "item_code", format!("政务服务事项编码“{}”不存在。", l.item_code)));
    }
    let org = cat.orgs.get(l.org_code.trim());
    if org.is_none() {
        out.push(bad(n, "org_code", format!("机构代码“{}”不存在。", l.org_code)));
    }
    let given = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let window_code = given(&l.window_code);
    let window = window_code.as_deref().and_then(|code| {
        let w = cat.windows.get(code).copied();
        if w.is_none() {
            out.push(bad(n, "window_code", format!("窗口编码“{code}”不存在。")));
        }
        w.map(|w| (code, w))
    });
    let staff_number = given(&l.staff_number);
    let staff = staff_number.as_deref().and_then(|number| {
        let s = cat.staff.get(number).copied();
        if s.is_none() {
            out.push(bad(n, "staff_number", format!("工号“{number}”不存在。")));
        }
        s.map(|s| (number, s))
    });
    // The same rule as live registration: window and staff belong to the record's organization.
    if let Some((org_id, org_name)) = org {
        for v in placement_violations(*org_id, org_name, window, staff) {
            out.push(bad(n, &v.field, v.message));
        }
    }
    let platform_id = given(&l.platform_code).and_then(|code| {
        let p = cat.platforms.get(&code).copied();
        if p.is_none() {
            out.push(bad(n, "platform_code", format!("平台编码“{code}”不存在。")));
        }
        p
    });
    let evaluation = l.evaluation.and_then(|e| {
        let ids = e.indicator_ids.unwrap_or_default();
        let staff_ids = e.staff_indicator_ids.unwrap_or_default();
        let raw = RawSubmission {
            level: &e.level,
            indicator_ids: &ids,
            staff_indicator_ids: &staff_ids,
            comment: e.comment.as_deref(),
            channel: &e.channel,
        };
        let sub = match Submission::parse_history(raw) {
            Ok(s) => Some(s),
            Err(v) => {
                out.extend(v.into_iter().map(|v| bad(n, &format!("evaluation.{}", v.field), v.message)));
                None
            }
        };
        let at = match parse_instant("evaluation.created_at", &e.created_at) {
            Ok(at) => Some(at),
            Err(v) => {
                out.push(bad(n, "evaluation.created_at", v.message));
                None
            }
        };
        if let (Some(at), Some(v)) = (at, &valid) {
            match v.completed_at {
                None => out.push(bad(n, "completed_at", "有评价的办件须填写办结时间。")),
                Some(done) if at < done => {
                    out.push(bad(n, "evaluation.created_at", "评价时间早于办结时间,请核对。"));
                }
                Some(done) if at > evaluation_deadline(done) => {
                    out.push(bad(n, "evaluation.created_at", "评价时间超出办结后 7 个自然日的评价期。"));
                }
                Some(_) => {}
            }
            if at > now + Duration::minutes(5) {
                out.push(bad(n, "evaluation.created_at", "评价时间晚于当前时间,请核对。"));
            }
        }
        let address = given(&e.client_address).and_then(|a| match a.parse::<std::net::IpAddr>() {
            Ok(ip) => Some(ip),
            Err(_) => {
                out.push(bad(n, "evaluation.client_address", format!("“{a}”不是有效的 IP 地址。")));
                None
            }
        });
        let device = given(&e.device_code);
        if let Some(d) = &device
            && !cat.devices.contains(d)
        {
            out.push(bad(n, "evaluation.device_code", format!("评价设备“{d}”未登记。")));
        }
        let agent = given(&e.agent_username);
        if let Some(a) = &agent {
            if sub.as_ref().is_some_and(|s| s.channel != Channel::Hotline) {
                out.push(bad(n, "evaluation.agent_username", "只有“12345热线”渠道的评价可以填写话务员账号。"));
            } else if !cat.hotline_agents.contains(a) {
                // Issue 29 §8: any account (a system administrator's) could be named as the agent.
                out.push(bad(
                    n,
                    "evaluation.agent_username",
                    format!("“{a}”不是12345热线坐席的账号(只有热线坐席可代来电人记录评价)。"),
                ));
            }
        }
        Some(CheckedEvaluation { submission: sub?, at: at?, address, device, agent })
    });
    if out.len() > before {
        return None;
    }
    Some(Checked {
        valid: valid?,
        item_id: item_id?,
        org_id: org?.0,
        window_id: window.map(|(_, w)| w.0),
        staff_id: staff.map(|(_, s)| s.0),
        platform_id,
        evaluation,
    })
}

impl App {
    /// Imports a history file (JSON Lines) held as text; all or nothing. `progress(done, total)` follows the
    /// writing.
    pub async fn import_history(
        &self,
        actor: &Actor,
        file_name: &str,
        text: &str,
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> AppResult<HistoryReport> {
        self.import_history_lines(actor, file_name, BoundedLines::new(text.as_bytes()), progress).await
    }

    /// Imports a history file read line by line (each bounded, [`BoundedLines`]); all or nothing.
    pub async fn import_history_lines(
        &self,
        actor: &Actor,
        file_name: &str,
        lines: impl Iterator<Item = std::io::Result<RawLine>> + Send,
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> AppResult<HistoryReport> {
        let now = self.now();
        let catalog = self.store.history_catalog().await?;
        let mut errors = Vec::new();
        let mut checked: Vec<(usize, Checked)> = Vec::new();
        let mut first_of: HashMap<String, usize> = HashMap::new();
        for (i, raw) in lines.enumerate() {
            let n = i + 1;
            let raw = match raw
                .map_err(|e| AppError::invalid("file", "unreadable_file", format!("读取文件出错:{e}")))?
            {
                RawLine::Text(t) => t,
                RawLine::TooLong => {
                    errors.push(bad(n, "-", format!("该行超过 {} KB,不是一个办件的记录。", MAX_LINE_BYTES / 1024)));
                    continue;
                }
                RawLine::NotText => {
                    errors.push(bad(n, "-", "该行不是 UTF-8 文本,请另存为 UTF-8 编码。"));
                    continue;
                }
            };
            let raw = raw.as_str();
            if raw.trim().is_empty() {
                continue;
            }
            if checked.len() + errors.len() >= MAX_LINES {
                errors.push(bad(n, "-", format!("文件超过 {MAX_LINES} 行,请按年份拆分后分别导入。")));
                break;
            }
            let line: Line = match serde_json::from_str(raw.trim_start_matches('\u{feff}')) {
                Ok(l) => l,
                Err(e) => {
                    let (field, message) = json_error(&e);
                    errors.push(bad(n, &field, message));
                    continue;
                }
            };
            let number = line.record_number.trim().to_string();
            if let Some(first) = first_of.insert(number.clone(), n) {
                errors.push(bad(n, "record_number", format!("办件编号“{number}”与第 {first} 行重复。")));
                continue;
            }
            if let Some(c) = check_line(n, line, &catalog, now, &mut errors) {
                checked.push((n, c));
            }
        }
        let numbers: Vec<&str> = checked.iter().map(|(_, c)| c.valid.record_number.as_str()).collect();
        let stored = self.store.existing_record_numbers(&numbers).await?;
        for (n, c) in &checked {
            if stored.contains(&c.valid.record_number) {
                errors.push(bad(*n, "record_number", format!("办件编号“{}”已在系统中。", c.valid.record_number)));
            }
        }
        if checked.is_empty() && errors.is_empty() {
            errors.push(bad(1, "-", "文件中没有办件。"));
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.line);
            return Err(AppError::Invalid(
                errors
                    .into_iter()
                    .map(|e| Violation::new(format!("line {}: {}", e.line, e.field), "invalid_line", e.to_string()))
                    .collect(),
            ));
        }
        self.write_history(actor, file_name, checked, progress).await
    }

    async fn write_history(
        &self,
        actor: &Actor,
        file_name: &str,
        checked: Vec<(usize, Checked)>,
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> AppResult<HistoryReport> {
        let now = self.now();
        let source = format!("history:{}", file_name.rsplit('/').next().unwrap_or(file_name));
        let sealed: Vec<_> =
            checked.iter().map(|(_, c)| self.keys.seal(&c.valid.record_number, &c.valid.applicant)).collect();
        let records: Vec<BulkRecord<'_>> = checked
            .iter()
            .zip(&sealed)
            .map(|((_, c), s)| BulkRecord {
                source_system: &source,
                record_number: &c.valid.record_number,
                item_id: c.item_id,
                org_id: c.org_id,
                window_id: c.window_id,
                staff_id: c.staff_id,
                platform_id: c.platform_id,
                applicant_kind: c.valid.applicant.kind.as_str(),
                applicant: s.as_store(),
                received_at: c.valid.received_at,
                completed_at: c.valid.completed_at,
                default_due_at: c.valid.completed_at.map(evaluation_deadline),
                created_at: now,
            })
            .collect();
        let mut bad_reviews = 0;
        let evaluations: Vec<BulkEvaluation> = checked
            .iter()
            .enumerate()
            .filter_map(|(i, (_, c))| {
                let CheckedEvaluation { submission: sub, at, address, device, agent } = c.evaluation.as_ref()?;
                bad_reviews += usize::from(sub.level.is_bad_review());
                Some((
                    i,
                    NewEvaluation {
                        service_record_id: 0,
                        round: 1,
                        level: sub.level.as_str(),
                        channel: sub.channel.as_str(),
                        indicator_ids: join_ids(&sub.indicator_ids),
                        staff_indicator_ids: join_ids(&sub.staff_indicator_ids),
                        comment: sub.comment.clone(),
                        is_default: false,
                        created_at: *at,
                        recorded_by: agent.clone(),
                        evidence: Some(self.keys.evidence(*address, device.as_deref(), None)),
                    },
                ))
            })
            .collect();
        let total = records.len();
        let audit = self.audit(
            actor,
            "history.import",
            "",
            json!({ "file": file_name, "records": total, "evaluations": evaluations.len() }),
        );
        let line_of: Vec<usize> = checked.iter().map(|(n, _)| *n).collect();
        let numbers: Vec<&str> = checked.iter().map(|(_, c)| c.valid.record_number.as_str()).collect();
        let evaluation_audit = |evaluation_id: i64, index: usize| {
            self.audit(
                actor,
                "evaluation.import",
                format!("evaluation:{evaluation_id}"),
                json!({ "file": file_name, "line": line_of[index], "record_number": numbers[index] }),
            )
        };
        let written = self
            .store
            .import_history(&records, &evaluations, &audit, &evaluation_audit, &|done| progress(done, total))
            .await
            .map_err(|e| {
                if e.is_unique_violation() {
                    AppError::conflict(
                        "record_number_taken",
                        "导入期间有办件编号被其他系统登记,整个文件未导入,请重新导入。",
                    )
                } else {
                    e.into()
                }
            })?;
        if written.records > 0 {
            self.completed();
        }
        tracing::info!(records = written.records, evaluations = written.evaluations, "history imported");
        Ok(HistoryReport { records: written.records, evaluations: written.evaluations, bad_reviews })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_read_with_a_bound() {
        let long = "y".repeat(MAX_LINE_BYTES + 10);
        let text = format!("a\r\n{long}\nb\n\n{long}");
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(b"\n\xff\nlast");
        let lines: Vec<RawLine> = BoundedLines::new(bytes.as_slice()).map(Result::unwrap).collect();
        let t = |s: &str| RawLine::Text(s.into());
        assert_eq!(lines, [t("a"), RawLine::TooLong, t("b"), t(""), RawLine::TooLong, RawLine::NotText, t("last")]);
    }
}
