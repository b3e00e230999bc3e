//! Delivering the outbox (issue 5 §7). Messages are written with the step that causes them; this worker
//! claims a batch, hands each to the gateway, and marks it sent or schedules a retry with growing pauses
//! (30 s, 1 min, 2 min … at most an hour), forever: a gateway that is down loses nothing, it delays.
//!
//! Two gateways ship: [`Gateway::Log`] writes a line per message (what a county without an SMS contract
//! runs; the console still shows every message), and [`Gateway::Webhook`] posts each message as JSON to the
//! county's SMS or messaging platform, which resolves unit and staff addresses itself.

use chrono::{DateTime, Duration, Utc};
use hcp_store::MessageRow;
use serde::Serialize;

use crate::{App, AppResult};

/// Messages claimed per batch, and how long a claim holds before another worker may take the message.
const BATCH: i64 = 50;
const LEASE_SECONDS: i64 = 120;

/// Where messages go.
#[derive(Debug, Clone)]
pub enum Gateway {
    /// Log one line per message (no personal data) and count it delivered.
    Log,
    /// POST `{"id", "to_kind", "to", "template", "text"}` to this URL; any 2xx is delivered.
    Webhook { url: String, client: reqwest::Client },
}

impl Gateway {
    /// How a message this gateway delivers is recorded.
    pub fn via(&self) -> hcp_store::DeliveredVia {
        match self {
            Gateway::Log => hcp_store::DeliveredVia::Log,
            Gateway::Webhook { .. } => hcp_store::DeliveredVia::Webhook,
        }
    }

    pub fn webhook(url: &str) -> Gateway {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Gateway::Webhook { url: url.to_string(), client }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Gateway::Log => "log",
            Gateway::Webhook { .. } => "webhook",
        }
    }
}

#[derive(Serialize)]
struct WebhookBody<'a> {
    id: i64,
    to_kind: &'a str,
    to: &'a str,
    template: &'a str,
    text: &'a str,
}

/// Where a message's secret goes in its body.
pub const SECRET: &str = "{secret}";

/// A message as people see it on a console page: the secret (a code, the evaluator's link) is never shown.
pub fn shown_body(m: &MessageRow) -> String {
    crate::cases::without_second_link(&m.body.replace(SECRET, "〔已隐藏〕"))
}

/// The pause before attempt `attempts + 1`.
pub fn retry_after(attempts: i64) -> Duration {
    let secs = 30i64.saturating_mul(1i64 << attempts.clamp(0, 7) as u32);
    Duration::seconds(secs.min(3600))
}

#[derive(Debug, Default, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct DeliveryReport {
    pub delivered: u64,
    pub failed: u64,
}

impl App {
    /// Delivers every message due at `now`, batch by batch.
    pub async fn deliver_messages(&self, now: DateTime<Utc>) -> AppResult<DeliveryReport> {
        let mut report = DeliveryReport::default();
        for _ in 0..100 {
            let batch = self.store.claim_messages(now, Duration::seconds(LEASE_SECONDS), BATCH).await?;
            for m in &batch {
                match self.send(m).await {
                    Ok(()) => {
                        self.store.mark_delivered(m.id, self.now(), self.gateway.via()).await?;
                        report.delivered += 1;
                    }
                    Err(reason) => {
                        tracing::warn!(message_id = m.id, attempts = m.attempts, %reason, "message not delivered; will retry");
                        self.store.mark_failed(m.id, &reason, now + retry_after(m.attempts)).await?;
                        report.failed += 1;
                    }
                }
            }
            if batch.len() < BATCH as usize {
                break;
            }
        }
        Ok(report)
    }

    /// The address of a message: an org code, a staff number, or the evaluator's mobile (opened only now).
    async fn address(&self, m: &MessageRow) -> Result<String, String> {
        if m.recipient_kind != "evaluator" {
            return Ok(m.recipient.clone());
        }
        let id: i64 = m.recipient.parse().map_err(|_| "bad evaluator reference".to_string())?;
        let rec = self.store.record_by_id(id).await.map_err(|e| e.to_string())?.ok_or("record gone")?;
        Ok(self.keys.open(&rec).map_err(|e| e.code().to_string())?.mobile)
    }

    /// The text a message is sent with: its body with the secret, opened only now, in its place.
    pub fn message_text(&self, m: &MessageRow) -> Result<String, String> {
        match &m.secret {
            Some(secret) => {
                let value =
                    self.keys.open_secret(m, secret).map_err(|e| format!("cannot open the message's secret: {e}"))?;
                Ok(m.body.replace(SECRET, &value))
            }
            None => Ok(m.body.clone()),
        }
    }

    async fn send(&self, m: &MessageRow) -> Result<(), String> {
        match &*self.gateway {
            Gateway::Log => {
                tracing::info!(message_id = m.id, to_kind = %m.recipient_kind, template = %m.template, "message (log gateway)");
                Ok(())
            }
            Gateway::Webhook { url, client } => {
                let to = self.address(m).await?;
                let text = self.message_text(m)?;
                let body =
                    WebhookBody { id: m.id, to_kind: &m.recipient_kind, to: &to, template: &m.template, text: &text };
                let res = client
                    .post(url)
                    .header("Idempotency-Key", format!("hcp-outbox-{}", m.id))
                    .json(&body)
                    .send()
                    .await
                    .map_err(|e| format!("gateway unreachable: {}", e.without_url()))?;
                if res.status().is_success() {
                    Ok(())
                } else {
                    Err(format!("gateway answered {}", res.status().as_u16()))
                }
            }
        }
    }
}

/// The state of the outbox for operators: how many sent, and the ones still waiting (oldest first).
#[derive(Debug, Clone, Serialize)]
pub struct OutboxOverview {
    pub total: i64,
    pub delivered: i64,
    pub gateway: &'static str,
    pub waiting: Vec<WaitingMessage>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WaitingMessage {
    pub id: i64,
    pub case_id: Option<i64>,
    pub recipient_kind: String,
    pub template: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
}

impl App {
    pub async fn outbox_overview(&self, who: &crate::policy::Principal) -> AppResult<OutboxOverview> {
        if !who.may(crate::policy::Action::ViewOutbox, None) {
            return Err(crate::AppError::Forbidden);
        }
        let (total, delivered) = self.store.count_messages().await?;
        let waiting = self
            .store
            .pending_messages(200)
            .await?
            .into_iter()
            .map(|m| WaitingMessage {
                body: shown_body(&m),
                id: m.id,
                case_id: m.case_id,
                recipient_kind: m.recipient_kind,
                template: m.template,
                created_at: m.created_at,
                attempts: m.attempts,
                last_error: m.last_error,
                next_attempt_at: m.next_attempt_at,
            })
            .collect();
        Ok(OutboxOverview { total, delivered, gateway: self.gateway.name(), waiting })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(retry_after(1), Duration::seconds(60));
        assert_eq!(retry_after(3), Duration::seconds(240));
        assert_eq!(retry_after(50), Duration::seconds(3600));
    }
}
