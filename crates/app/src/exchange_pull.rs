//! Pulling evaluations made on the province's channels for our records (回流, issue 13 §5): every
//! `--upstream-pull-every` seconds the worker asks `{base}/evaluation-query` for what is new since the
//! stored cursor, opens the reply with the county's SM2 key, and takes each item once by (projectNo,
//! assessNumber) — stored, or kept aside as a conflict, unmatched or invalid, so nothing pulled is lost.

use chrono::{DateTime, Utc};
use hcp_domain::indicators::{Annex, CriterionKind};
use hcp_domain::upstream::{self as wire, Codes};
use hcp_store::{PullOutcome, PulledEvaluation, PulledItem};
use serde::Serialize;

use crate::{App, AppError, AppResult};

/// The cursor's name in `upstream_cursor`.
const CURSOR: &str = "pull";
/// Pages per round, so one round ends even if the upper level keeps answering.
const PAGES: usize = 20;
/// How many pulled evaluations may wait for their records, and for how long, before they are kept as `expired`
/// (listed, no longer retried on every pull; issue 29 §4).
pub const UNMATCHED_CAP: i64 = 10_000;
pub const UNMATCHED_DAYS: i64 = 30;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PullReport {
    pub stored: u64,
    pub known: u64,
    pub conflicts: u64,
    pub unmatched: u64,
    pub invalid: u64,
    /// Unmatched past the cap or the age limit: kept, not retried.
    pub expired: u64,
}

impl PullReport {
    fn count(&mut self, o: PullOutcome) {
        match o {
            PullOutcome::Stored(_) => self.stored += 1,
            PullOutcome::Known => self.known += 1,
            PullOutcome::Conflict => self.conflicts += 1,
            PullOutcome::Unmatched => self.unmatched += 1,
            PullOutcome::Invalid => self.invalid += 1,
            PullOutcome::Expired => self.expired += 1,
        }
    }
}

/// Reads one pulled I2 item: its key, and what it means in our terms (or, naming the field, why not).
/// `now` bounds `assessTime`: an evaluation from the future (beyond a few minutes of clock drift) is kept as
/// invalid with the reason, never stored (issue 29 §4: one dated 2031 was).
pub fn read_item(codes: &Codes, item: &serde_json::Value, now: DateTime<Utc>) -> Option<PulledItem> {
    let project_no = item.get("projectNo")?.as_str()?.trim().to_string();
    let assess_number = match item.get("assessNumber") {
        Some(serde_json::Value::Number(n)) => n.as_i64()?,
        Some(serde_json::Value::String(s)) => s.trim().parse().ok()?,
        _ => return None,
    };
    if project_no.is_empty() {
        return None;
    }
    Some(PulledItem {
        project_no,
        assess_number,
        item: item.to_string(),
        evaluation: meaning(codes, item, assess_number, now),
    })
}

/// Clocks at the two ends may differ this much.
const CLOCK_DRIFT: chrono::Duration = chrono::Duration::minutes(10);

fn meaning(
    codes: &Codes,
    item: &serde_json::Value,
    assess_number: i64,
    now: DateTime<Utc>,
) -> Result<PulledEvaluation, String> {
    if !(1..=2).contains(&assess_number) {
        return Err(format!("assessNumber 取值 {assess_number} 无效(应为 1 或 2)"));
    }
    let satisfaction = item.get("satisfaction").and_then(serde_json::Value::as_i64).unwrap_or(0);
    let level = wire::level_of_satisfaction(satisfaction).ok_or_else(|| {
        format!("satisfaction 取值 {} 无效(应为 1–5)", item.get("satisfaction").unwrap_or(&serde_json::Value::Null))
    })?;
    let created_at = item
        .get("assessTime")
        .and_then(serde_json::Value::as_str)
        .and_then(wire::parse_item_time)
        .ok_or("assessTime 缺失或格式不是 yyyy-MM-dd HH:mm:ss")?;
    if created_at > now + CLOCK_DRIFT {
        return Err(format!(
            "assessTime {} 晚于当前时间,不予记录",
            item.get("assessTime").and_then(serde_json::Value::as_str).unwrap_or("")
        ));
    }
    let (mut service, mut staff) = (Vec::new(), Vec::new());
    let detail = item.get("evalDetail").and_then(serde_json::Value::as_str).unwrap_or("");
    for code in detail.split([',', ',']).map(str::trim).filter(|c| !c.is_empty()) {
        let id =
            codes.annex_id(code).ok_or_else(|| format!("evalDetail 中的指标编码 {code} 无法对应本系统的评价指标"))?;
        match Annex::get().lookup(&id) {
            Some((kind, at)) if at == level => match kind {
                CriterionKind::Service => service.push(id),
                CriterionKind::Staff => staff.push(id),
            },
            _ => return Err(format!("evalDetail 中的指标 {code} 不属于“{}”这一等级", level.name_zh())),
        }
    }
    let comment = item
        .get("writingEvaluation")
        .and_then(serde_json::Value::as_str)
        .map(|c| c.trim().chars().take(hcp_domain::evaluation::COMMENT_MAX_CHARS).collect::<String>())
        .filter(|c| !c.is_empty());
    Ok(PulledEvaluation {
        level: level.as_str(),
        indicator_ids: hcp_domain::evaluation::join_ids(&service),
        staff_indicator_ids: hcp_domain::evaluation::join_ids(&staff),
        comment,
        created_at,
    })
}

impl App {
    /// One round of pulling: items kept aside as unmatched are tried again (their records may have come),
    /// then every page the upper level has since the stored cursor. Nothing without an upper level and the
    /// county's key.
    pub async fn pull_upstream(&self, now: DateTime<Utc>) -> AppResult<PullReport> {
        let mut report = PullReport::default();
        let Some(up) = self.upstream.clone() else { return Ok(report) };
        let Some(county_key) = up.config.county_key.clone() else { return Ok(report) };
        let audit = self.audit(&crate::audit::Actor::system(), "evaluation.pulled", "", serde_json::Value::Null);
        report.expired += self.store.expire_unmatched(now - chrono::Duration::days(UNMATCHED_DAYS), now).await?;
        for row in self.store.pulled_items("unmatched", 1000).await? {
            let Ok(value) = serde_json::from_str::<serde_json::Value>(&row.item) else { continue };
            if let Some(item) = read_item(&self.codes, &value, now) {
                report.count(self.store.take_pulled(&item, UNMATCHED_CAP, &audit).await?);
            }
        }
        for _ in 0..PAGES {
            let since = self.store.upstream_cursor(CURSOR).await?.unwrap_or_default();
            let params = serde_json::json!({
                "areaCode": up.config.area_code.clone().unwrap_or_default(),
                "since": since,
            });
            let failed = |reason: String| {
                tracing::warn!(%reason, "pulling from the upper level failed; will try again");
                Ok(report)
            };
            let (status, body) = match self.call(&up, "evaluation-query", params.to_string()).await {
                Ok(r) => r,
                Err(reason) => return failed(reason),
            };
            let reply: wire::PullReply = match serde_json::from_str(&body) {
                Ok(r) => r,
                Err(_) => return failed(format!("上级平台的答复不是 JSON(HTTP {status})")),
            };
            let code = match &reply.code {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if code != "200" {
                if code == "401" {
                    tracing::error!(
                        "UPPER LEVEL REFUSED OUR SIGN (401) on evaluation-query: check appMark, appWord and the public key"
                    );
                }
                return failed(format!("上级平台答复 code {code}"));
            }
            let items: Vec<serde_json::Value> = match reply.data.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
                None => Vec::new(),
                Some(hex) => {
                    let plain = match county_key.decrypt_hex(hex) {
                        Ok(p) => p,
                        Err(e) => return failed(format!("无法用本县私钥解开回流数据:{e}")),
                    };
                    match serde_json::from_slice(&plain) {
                        Ok(items) => items,
                        Err(_) => return failed("回流数据解密后不是 JSON 数组".into()),
                    }
                }
            };
            for value in &items {
                match read_item(&self.codes, value, now) {
                    Some(item) => report.count(self.store.take_pulled(&item, UNMATCHED_CAP, &audit).await?),
                    None => {
                        report.invalid += 1;
                        tracing::warn!("a pulled item without projectNo or assessNumber was skipped");
                    }
                }
            }
            let next = reply.next.unwrap_or_else(|| since.clone());
            self.store.set_upstream_cursor(CURSOR, &next, now).await?;
            if next == since || items.is_empty() {
                break;
            }
        }
        Ok(report)
    }

    /// Pulled items kept aside: `conflict`, `unmatched`, `expired` or `invalid`.
    pub async fn exchange_pulled(&self, state: &str, limit: i64) -> AppResult<Vec<hcp_store::PulledRow>> {
        if !matches!(state, "conflict" | "unmatched" | "expired" | "invalid" | "stored") {
            return Err(AppError::invalid(
                "state",
                "invalid_state",
                "只能列出 conflict、unmatched、expired、invalid 或 stored。",
            ));
        }
        Ok(self.store.pulled_items(state, limit).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_pulled_item_is_read_in_our_terms() {
        let codes = Codes::builtin();
        let item = json!({ "projectNo": "QS-1", "serviceNumber": 1, "assessNumber": 1, "satisfaction": 1, "pf": 2,
            "evalDetail": "S511,P51", "writingEvaluation": "太慢", "assessTime": "2026-03-02 08:30:00" });
        let p = read_item(&codes, &item, chrono::Utc::now()).unwrap();
        let e = p.evaluation.unwrap();
        assert_eq!(
            (e.level, e.indicator_ids.as_str(), e.staff_indicator_ids.as_str()),
            ("very_dissatisfied", "S511", "P51")
        );
        assert_eq!(e.comment.as_deref(), Some("太慢"));
    }

    #[test]
    fn unknown_codes_are_named() {
        let codes = Codes::builtin();
        let bad = |patch: serde_json::Value| {
            let mut item = json!({ "projectNo": "QS-1", "assessNumber": 1, "satisfaction": 5, "evalDetail": "",
                "assessTime": "2026-03-02 08:30:00" });
            for (k, v) in patch.as_object().unwrap() {
                item[k] = v.clone();
            }
            read_item(&codes, &item, chrono::Utc::now()).unwrap().evaluation.unwrap_err()
        };
        assert!(bad(json!({ "satisfaction": 9 })).contains("satisfaction"));
        assert!(bad(json!({ "evalDetail": "999" })).contains("999"));
        assert!(bad(json!({ "evalDetail": "S511" })).contains("不属于"));
        assert!(bad(json!({ "assessTime": "昨天" })).contains("assessTime"));
        assert!(bad(json!({ "assessTime": "2031-01-01 08:00:00" })).contains("晚于当前时间"), "issue 29 §4");
        assert!(bad(json!({ "assessNumber": 3 })).contains("assessNumber"));
        assert!(read_item(&codes, &json!({ "assessNumber": 1 }), chrono::Utc::now()).is_none());
    }
}
