//! The exchange with the upper-level 好差评 system (issue 13): pushing records (I1), evaluations (I2) and
//! their later changes (I8) from the queue the store keeps, in SM2 envelopes, batch by batch. The wire
//! format is docs/upstream.md; the rules (codes, keys, what a reply means) are `hcp_domain::upstream`.
//!
//! A batch that fails as a whole (timeout, dropped connection, 5xx, a reply that is not JSON, 401) is tried
//! again after 5 s, 10 s, 20 s … up to the configured maximum, forever; an item the upper level rejects (400)
//! stays rejected with its reason until an operator corrects the data and resends. Nothing personal is
//! logged: items travel only inside the encrypted `params`.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use hcp_crypto::Sm2PublicKey;
use hcp_domain::upstream::{self as wire, ItemKey, ItemKind, Outcome, Reply};
use hcp_domain::{ApplicantKind, Channel, Level};
use hcp_store::{UpstreamClaim, UpstreamMark};
use serde::Serialize;

use crate::{App, AppResult};

/// How to reach the upper level; from `serve --upstream-*` (or `HCP_UPSTREAM_*`).
#[derive(Clone)]
pub struct UpstreamConfig {
    /// Base URL without a trailing slash; items go to `{base}/service` and so on.
    pub url: String,
    pub app_mark: String,
    /// The shared secret; only ever inside the encrypted `sign`.
    pub app_word: String,
    pub public_key: Sm2PublicKey,
    pub data_source: String,
    /// `areaCode` of records whose organization has none.
    pub area_code: Option<String>,
    pub timeout: StdDuration,
    pub retry_max: StdDuration,
    pub pull_every: StdDuration,
    /// The county's own SM2 key, which opens what the province sends back; without it nothing is pulled.
    pub county_key: Option<hcp_crypto::Sm2SecretKey>,
    /// When the upper level signs its replies: its key. Every reply must then carry a valid SM2 signature of
    /// its body in the `Sign` header, or it is not used (issue 29 §4).
    pub reply_key: Option<Sm2PublicKey>,
}

impl std::fmt::Debug for UpstreamConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamConfig")
            .field("url", &self.url)
            .field("app_mark", &self.app_mark)
            .field("data_source", &self.data_source)
            .finish_non_exhaustive()
    }
}

/// The configured upper level with its HTTP client.
#[derive(Debug)]
pub struct Upstream {
    pub config: UpstreamConfig,
    pub(crate) client: reqwest::Client,
}

impl Upstream {
    pub fn new(config: UpstreamConfig) -> Upstream {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Upstream { config, client }
    }
}

/// Items claimed per batch (the contract's maximum), and batches per kind in one round of the worker.
const BATCH: i64 = wire::MAX_BATCH as i64;
const ROUNDS: usize = 50;

/// The pause before the next try of an item tried `attempts` times: 5 s, doubling, at most `max`.
pub fn retry_after(attempts: i64, max: StdDuration) -> Duration {
    let secs = 5i64.saturating_mul(1i64 << (attempts - 1).clamp(0, 30) as u32);
    Duration::seconds(secs.min(max.as_secs().max(1) as i64))
}

/// What one round of pushing did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PushReport {
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub retried: u64,
}

/// The JSON body of every call.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    app_mark: String,
    time: String,
    sign: String,
    params: String,
}

/// Why a batch did not get per-item answers.
struct BatchFailure {
    reason: String,
    unauthorized: bool,
}

impl App {
    /// Sends what is due: service items first, then the evaluations whose records were accepted, then the
    /// updates. Without a configured upper level, nothing is sent and the queue keeps everything.
    pub async fn push_upstream(&self, now: DateTime<Utc>) -> AppResult<PushReport> {
        let mut report = PushReport::default();
        let Some(up) = self.upstream.clone() else {
            return Ok(report);
        };
        // A batch takes at most the timeout to send; the lease covers that twice over, so an item claimed by a
        // worker that died is claimed again soon after.
        let lease = Duration::from_std(up.config.timeout * 2).unwrap_or(Duration::seconds(20)) + Duration::seconds(10);
        'kinds: for kind in ItemKind::ALL {
            for _ in 0..ROUNDS {
                let claims = self.store.claim_upstream(kind, now, lease, BATCH).await?;
                if claims.is_empty() {
                    break;
                }
                let full = claims.len() == BATCH as usize;
                let failed = self.push_batch(&up, kind, &claims, &mut report).await?;
                // An upper level that is down is not hammered: the rest waits for the next round.
                if failed {
                    break 'kinds;
                }
                if !full {
                    break;
                }
            }
        }
        Ok(report)
    }

    /// Builds, sends and marks one batch; answers whether the batch failed as a whole.
    async fn push_batch(
        &self,
        up: &Arc<Upstream>,
        kind: ItemKind,
        claims: &[UpstreamClaim],
        report: &mut PushReport,
    ) -> AppResult<bool> {
        let built = self.build_items(kind, claims).await?;
        let mut marks = Vec::with_capacity(claims.len());
        let mut sendable = Vec::new();
        for (claim, item) in claims.iter().zip(built) {
            match item {
                Ok((key, value)) => sendable.push((claim, key, value)),
                Err(reason) => {
                    // Our side cannot build it (e.g. a data key is missing): an operator must act; retry slowly.
                    tracing::error!(item = claim.id, kind = kind.as_str(), %reason, "upstream item cannot be built");
                    marks.push((claim.id, UpstreamMark::Retry { reason, at: self.now() + Duration::seconds(600) }));
                    report.retried += 1;
                }
            }
        }
        let mut failed = false;
        if !sendable.is_empty() {
            let values: Vec<&serde_json::Value> = sendable.iter().map(|(_, _, v)| v).collect();
            let reply = match self.post(up, kind, &values).await {
                Ok(reply) => reply,
                Err(f) => Reply::Failed { reason: f.reason, unauthorized: f.unauthorized },
            };
            let outcome = match &reply {
                Reply::Failed { reason, .. } => hcp_store::PushOutcome::Failed {
                    reason: reason.clone(),
                    next_retry_at: self.now()
                        + claims.iter().map(|c| retry_after(c.attempts, up.config.retry_max)).min().unwrap_or_default(),
                },
                _ => hcp_store::PushOutcome::Answered,
            };
            self.store.note_exchange_push(&outcome, self.now()).await?;
            if let Reply::Failed { reason, unauthorized } = &reply {
                failed = true;
                if *unauthorized {
                    tracing::error!(kind = kind.as_str(), items = sendable.len(), %reason, "UPPER LEVEL REFUSED OUR SIGN (401): check appMark, appWord and the public key");
                } else {
                    tracing::warn!(kind = kind.as_str(), items = sendable.len(), %reason, "upstream batch failed; will retry");
                }
            }
            let now = self.now();
            for (claim, key, _) in &sendable {
                let mark = match reply.outcome(key) {
                    Outcome::Accepted => {
                        report.accepted += 1;
                        UpstreamMark::Accepted { duplicate: false }
                    }
                    Outcome::Duplicate => {
                        report.duplicates += 1;
                        UpstreamMark::Accepted { duplicate: true }
                    }
                    Outcome::Rejected(reason) => {
                        report.rejected += 1;
                        tracing::warn!(item = claim.id, kind = kind.as_str(), key = %key, %reason, "upper level rejected an item");
                        UpstreamMark::Rejected { reason }
                    }
                    Outcome::Retry(reason) => {
                        report.retried += 1;
                        UpstreamMark::Retry { reason, at: now + retry_after(claim.attempts, up.config.retry_max) }
                    }
                };
                marks.push((claim.id, mark));
            }
        }
        self.store.mark_upstream(&marks, self.now()).await?;
        Ok(failed)
    }

    /// Encrypts, posts and reads the reply of one batch.
    async fn post(&self, up: &Upstream, kind: ItemKind, items: &[&serde_json::Value]) -> Result<Reply, BatchFailure> {
        let fail = |reason: String| BatchFailure { reason, unauthorized: false };
        let json = serde_json::to_string(items).map_err(|e| fail(e.to_string()))?;
        let (status, body) = self.call(up, kind.path(), json).await.map_err(fail)?;
        if status >= 500 {
            return Err(fail(format!("上级平台答复 HTTP {status}")));
        }
        let reply = wire::parse_reply(kind, &body);
        if let Reply::Failed { reason, unauthorized } = reply {
            return Err(BatchFailure { reason, unauthorized: unauthorized || status == 401 });
        }
        Ok(reply)
    }

    /// Seals `params` (JSON text) in an envelope, posts it to `{base}/{path}`, and answers the HTTP status and
    /// body; a transport failure is the reason, in Chinese, without the URL's secrets.
    pub(crate) async fn call(&self, up: &Upstream, path: &str, params: String) -> Result<(u16, String), String> {
        let cfg = up.config.clone();
        let time = wire::envelope_time(self.now());
        // SM2 over a 100-item batch is CPU work: off the async threads.
        let envelope = tokio::task::spawn_blocking(move || -> Result<Envelope, String> {
            let token = format!("{time}{}{}", cfg.app_mark, cfg.app_word);
            let sign = cfg.public_key.encrypt_hex(token.as_bytes()).map_err(|e| e.to_string())?;
            let params = cfg.public_key.encrypt_hex(params.as_bytes()).map_err(|e| e.to_string())?;
            Ok(Envelope { app_mark: cfg.app_mark, time, sign, params })
        })
        .await
        .map_err(|e| e.to_string())??;
        let url = format!("{}/{path}", up.config.url);
        let res = up
            .client
            .post(&url)
            .json(&envelope)
            .send()
            .await
            .map_err(|e| format!("无法连接上级平台:{}", e.without_url()))?;
        let status = res.status().as_u16();
        let signature = res.headers().get("sign").and_then(|v| v.to_str().ok()).map(str::to_string);
        let body = read_capped(res, MAX_REPLY_BYTES).await?;
        if let Some(key) = &up.config.reply_key
            && !signature.as_deref().is_some_and(|s| key.verify_hex(body.as_bytes(), s))
        {
            tracing::error!(path, "UPPER LEVEL REPLY NOT SIGNED BY ITS KEY: not used; check --upstream-reply-key");
            return Err("上级平台答复的签名缺失或不符(--upstream-reply-key),答复未采用".into());
        }
        Ok((status, body))
    }

    /// The items of claimed rows, in their order; an item that cannot be built carries the reason.
    async fn build_items(
        &self,
        kind: ItemKind,
        claims: &[UpstreamClaim],
    ) -> AppResult<Vec<Result<(ItemKey, serde_json::Value), String>>> {
        let ids: Vec<i64> = claims.iter().map(|c| c.service_record_id).collect();
        let to_value = |v: Result<serde_json::Value, serde_json::Error>| v.map_err(|e| e.to_string());
        Ok(match kind {
            ItemKind::Service => {
                let records = self.store.records_by_ids(&ids).await?;
                let codes = self.store.upstream_codes(&ids).await?;
                claims
                    .iter()
                    .map(|c| {
                        let rec = records.iter().find(|r| r.id == c.service_record_id).ok_or("办件不存在")?;
                        let codes = codes.iter().find(|x| x.record_id == c.service_record_id).ok_or("办件不存在")?;
                        let item = self.service_item(rec, codes)?;
                        let key = ItemKey { project_no: item.project_no.clone(), number: 1, update_number: 0 };
                        Ok((key, to_value(serde_json::to_value(item))?))
                    })
                    .collect()
            }
            ItemKind::Evaluation => {
                let evaluations = self.store.upstream_evaluations(&ids).await?;
                claims
                    .iter()
                    .map(|c| {
                        let e = evaluations
                            .iter()
                            .find(|e| e.record_id == c.service_record_id && e.round == c.round)
                            .ok_or("评价不存在")?;
                        let item = self.evaluation_item(e)?;
                        let key = ItemKey { project_no: item.project_no.clone(), number: c.round, update_number: 0 };
                        Ok((key, to_value(serde_json::to_value(item))?))
                    })
                    .collect()
            }
            ItemKind::Update => {
                let numbers = self.store.record_numbers(&ids).await?;
                claims
                    .iter()
                    .map(|c| {
                        let (_, number) =
                            numbers.iter().find(|(id, _)| *id == c.service_record_id).ok_or("办件不存在")?;
                        let item = wire::UpdateItem {
                            project_no: number.clone(),
                            assess_number: c.round,
                            update_number: c.update_number,
                            effective: c.effective.unwrap_or(1),
                            rectification: c.rectification.clone().unwrap_or_default(),
                            app_status: "2".into(),
                        };
                        let key =
                            ItemKey { project_no: number.clone(), number: c.round, update_number: c.update_number };
                        Ok((key, to_value(serde_json::to_value(item))?))
                    })
                    .collect()
            }
        })
    }

    fn service_item(
        &self,
        rec: &hcp_store::RecordRow,
        codes: &hcp_store::RecordCodes,
    ) -> Result<wire::ServiceItem, String> {
        let Some(up) = &self.upstream else { return Err("未配置上级平台".into()) };
        let applicant = self.keys.open(rec).map_err(|e| format!("无法解密评价人信息({})", e.code()))?;
        let kind = ApplicantKind::parse(&rec.applicant_kind).unwrap_or(ApplicantKind::Person);
        let category = hcp_domain::Category::parse(&rec.category).unwrap_or(hcp_domain::Category::OtherPower);
        let completed = rec.completed_at.unwrap_or(rec.received_at);
        let implementation = codes.implementation_code.clone().unwrap_or_default();
        Ok(wire::ServiceItem {
            project_no: rec.record_number.clone(),
            service_number: 1,
            task_code: implementation.clone(),
            task_handle_item: codes.handle_item_code.clone().unwrap_or_default(),
            task_name: rec.item_name.clone(),
            task_type: wire::task_type(category).into(),
            pro_status: 3,
            accept_date: wire::item_time(rec.received_at),
            result_date: wire::item_time(completed),
            dept_code: codes.credit_code.clone().unwrap_or_default(),
            pro_depart: rec.org_name.clone(),
            area_code: codes.area_code.clone().or_else(|| up.config.area_code.clone()).unwrap_or_default(),
            pro_manager: rec.staff_name.clone().unwrap_or_default(),
            user_prop: wire::user_prop(kind),
            user_name: applicant.name.clone(),
            user_page_type: wire::user_page_type(kind).into(),
            cert_key_gov: applicant.id_number.clone(),
            mobile: applicant.mobile.clone(),
            service_name: "办结".into(),
            service_time: wire::item_time(completed),
            // Records reach us from the hall's systems; an online platform as a source is issue 15's.
            pro_channel: 2,
            data_source: up.config.data_source.clone(),
        })
    }

    fn evaluation_item(&self, e: &hcp_store::UpstreamEvaluation) -> Result<wire::EvaluationItem, String> {
        let level = Level::parse(&e.level).ok_or_else(|| format!("未知的评价等级 {}", e.level))?;
        let channel = Channel::parse(&e.channel).ok_or_else(|| format!("未知的评价渠道 {}", e.channel))?;
        let pf = self.codes.pf(channel).ok_or_else(|| format!("渠道 {} 没有上级平台的 pf 编码", e.channel))?;
        let ids = hcp_domain::evaluation::split_ids(&e.indicator_ids)
            .into_iter()
            .chain(hcp_domain::evaluation::split_ids(&e.staff_indicator_ids))
            .collect::<Vec<_>>();
        Ok(wire::EvaluationItem {
            project_no: e.record_number.clone(),
            service_number: 1,
            assess_number: e.round,
            satisfaction: wire::satisfaction(level),
            pf,
            default_evaluation: e.is_default.then_some(1),
            eval_detail: self.codes.eval_detail(ids.iter().map(String::as_str)),
            writing_evaluation: e.comment.clone().unwrap_or_default(),
            assess_time: wire::item_time(e.created_at),
        })
    }
}

/// Everything the console's exchange page shows.
#[derive(Debug, Clone)]
pub struct ExchangeOverview {
    pub status: ExchangeStatus,
    /// How the exchange stands: unconfigured, working or failing, with the last error.
    pub health: crate::exchange_health::ExchangeHealth,
    /// Base URL and appMark of the upper level, when configured.
    pub upper_level: Option<(String, String)>,
    pub rejected: Vec<hcp_store::UpstreamListRow>,
    /// Pulled evaluations per state, and those kept aside.
    pub pulled: Vec<(String, i64)>,
    pub aside: Vec<hcp_store::PulledRow>,
}

/// The state of the exchange, for `hcp exchange status` and the console.
#[derive(Debug, Clone, Serialize)]
pub struct ExchangeStatus {
    pub configured: bool,
    pub kinds: Vec<KindStatus>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct KindStatus {
    pub kind: &'static str,
    pub name: &'static str,
    pub waiting: i64,
    pub sent: i64,
    pub accepted: i64,
    pub rejected: i64,
    /// When the oldest item still waiting (or in flight) was queued.
    pub oldest_waiting: Option<DateTime<Utc>>,
}

impl App {
    pub async fn exchange_status(&self) -> AppResult<ExchangeStatus> {
        let counts = self.store.upstream_counts().await?;
        let kinds = ItemKind::ALL
            .into_iter()
            .map(|k| {
                let mut s = KindStatus { kind: k.as_str(), name: k.name_zh(), ..KindStatus::default() };
                for c in counts.iter().filter(|c| c.kind == k.as_str()) {
                    match c.state.as_str() {
                        "waiting" => s.waiting = c.count,
                        "sent" => s.sent = c.count,
                        "accepted" => s.accepted = c.count,
                        "rejected" => s.rejected = c.count,
                        _ => {}
                    }
                    if matches!(c.state.as_str(), "waiting" | "sent") {
                        s.oldest_waiting = match (s.oldest_waiting, c.oldest) {
                            (Some(a), Some(b)) => Some(a.min(b)),
                            (a, b) => a.or(b),
                        };
                    }
                }
                s
            })
            .collect();
        Ok(ExchangeStatus { configured: self.upstream.is_some(), kinds })
    }

    /// The console's view of the exchange, for the center.
    pub async fn exchange_overview(&self, who: &crate::policy::Principal) -> AppResult<ExchangeOverview> {
        if !who.may(crate::policy::Action::ManageExchange, None) {
            return Err(crate::AppError::Forbidden);
        }
        let mut aside = Vec::new();
        for state in ["conflict", "unmatched", "expired", "invalid"] {
            aside.extend(self.store.pulled_items(state, 100).await?);
        }
        let status = self.exchange_status().await?;
        let health = self.exchange_health_of(&status).await?;
        Ok(ExchangeOverview {
            status,
            health,
            upper_level: self.upstream.as_ref().map(|u| (u.config.url.clone(), u.config.app_mark.clone())),
            rejected: self.exchange_rejected(200).await?,
            pulled: self.store.pulled_counts().await?,
            aside,
        })
    }

    /// The console's resend button.
    pub async fn exchange_resend_by(&self, who: &crate::policy::Principal) -> AppResult<u64> {
        if !who.may(crate::policy::Action::ManageExchange, None) {
            return Err(crate::AppError::Forbidden);
        }
        self.exchange_resend_rejected(&crate::audit::Actor::user(&who.username)).await
    }

    /// Items the upper level rejected, with its reasons, oldest first.
    pub async fn exchange_rejected(&self, limit: i64) -> AppResult<Vec<hcp_store::UpstreamListRow>> {
        Ok(self.store.upstream_items("rejected", limit).await?)
    }

    /// Sends every rejected item again, built from the data as it is now (after a correction); audited.
    pub async fn exchange_resend_rejected(&self, actor: &crate::audit::Actor) -> AppResult<u64> {
        let audit = self.audit(actor, "exchange.resend", "upstream_item:rejected", serde_json::Value::Null);
        Ok(self.store.resend_rejected(self.now(), &audit).await?)
    }
}

/// The largest reply the upper level may send (issue 29 §4: a 2 GB reply held 4 GB of memory). A page of 100
/// pulled items is well under 1 MB.
pub const MAX_REPLY_BYTES: usize = 16 * 1024 * 1024;

/// Reads a reply body chunk by chunk, refusing it as soon as it passes `cap` (or declares more), so a huge or
/// endless reply costs at most `cap` bytes of memory.
async fn read_capped(mut res: reqwest::Response, cap: usize) -> Result<String, String> {
    let too_large = || format!("上级平台的答复超过 {} MB,已中止读取", cap / (1024 * 1024));
    if res.content_length().is_some_and(|n| n > cap as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| format!("读取上级平台答复失败:{}", e.without_url()))?
    {
        if body.len() + chunk.len() > cap {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|_| "上级平台的答复不是 UTF-8 文本".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_start_within_five_seconds_and_double_to_the_cap() {
        let max = StdDuration::from_secs(3600);
        assert_eq!(retry_after(1, max), Duration::seconds(5));
        assert_eq!(retry_after(2, max), Duration::seconds(10));
        assert_eq!(retry_after(4, max), Duration::seconds(40));
        assert_eq!(retry_after(40, max), Duration::seconds(3600));
        assert_eq!(retry_after(40, StdDuration::from_secs(60)), Duration::seconds(60));
    }
}
