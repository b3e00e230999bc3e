//! The truth about the exchange (issue 28 §5): unconfigured, working, or failing — with the last accepted
//! push, the last error and its reason, the next retry and the oldest waiting item — for the console,
//! `hcp exchange status`, `hcp doctor`, `/readyz` and `/metrics`. Nothing says "已对接" before the upper
//! level accepted a push.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::{App, AppResult};

/// Items waiting this long with nothing accepted meanwhile: the center and system administrators are warned.
pub const STALL_AFTER: Duration = Duration::minutes(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExchangeState {
    /// `serve` runs without an upper level: the queue is kept.
    Unconfigured,
    /// Configured, and the last push was answered (or nothing has failed yet).
    Ok,
    /// The last push failed (unreachable, refused, timed out) after any accepted one.
    Failing,
}

impl ExchangeState {
    pub fn as_str(self) -> &'static str {
        match self {
            ExchangeState::Unconfigured => "unconfigured",
            ExchangeState::Ok => "ok",
            ExchangeState::Failing => "failing",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            ExchangeState::Unconfigured => "未配置",
            ExchangeState::Ok => "正常",
            ExchangeState::Failing => "连接失败",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ExchangeHealth {
    pub state: ExchangeState,
    /// The upper level's address as configured.
    pub url: Option<String>,
    pub last_accepted_at: Option<DateTime<Utc>>,
    pub last_failure_at: Option<DateTime<Utc>>,
    /// The last failure's reason, in Chinese.
    pub last_error: Option<String>,
    pub next_retry_at: Option<DateTime<Utc>>,
    /// Items still to send, and when the oldest of them was queued.
    pub waiting: i64,
    pub oldest_waiting_at: Option<DateTime<Utc>>,
    /// Configured, items waiting longer than [`STALL_AFTER`], and nothing accepted for as long.
    pub stalled: bool,
}

impl ExchangeHealth {
    /// One sentence for an operator, in Chinese.
    pub fn summary(&self, now: DateTime<Utc>) -> String {
        use hcp_domain::calendar::display_cst;
        match self.state {
            ExchangeState::Unconfigured => format!(
                "未配置上级平台:数据在队列中保留({} 条待上报),配置 --upstream-url 等参数后自动上报。",
                self.waiting
            ),
            ExchangeState::Ok => match self.last_accepted_at {
                Some(t) => format!("正常:最近一次上报于 {} 被省平台接收;待上报 {} 条。", display_cst(t), self.waiting),
                None => format!("已配置,尚无上报被省平台接收(待上报 {} 条)。", self.waiting),
            },
            ExchangeState::Failing => {
                let since = match self.last_accepted_at {
                    Some(t) => format!("最近一次成功上报于 {}", display_cst(t)),
                    None => "从未成功上报".into(),
                };
                let retry = self
                    .next_retry_at
                    .map(|t| format!(",{} 秒后重试", (t - now).num_seconds().max(0)))
                    .unwrap_or_default();
                format!(
                    "连接失败:{}{retry};{since};待上报 {} 条。",
                    self.last_error.as_deref().unwrap_or("原因未知"),
                    self.waiting
                )
            }
        }
    }
}

impl App {
    /// The exchange's state as the last pushes found it.
    pub async fn exchange_health(&self) -> AppResult<ExchangeHealth> {
        let status = self.exchange_status().await?;
        self.exchange_health_of(&status).await
    }

    /// [`App::exchange_health`] with the queue's counts already read (the console page shows both).
    pub async fn exchange_health_of(&self, status: &crate::exchange::ExchangeStatus) -> AppResult<ExchangeHealth> {
        let row = self.store.exchange_health().await?;
        let waiting = status.kinds.iter().map(|k| k.waiting + k.sent).sum();
        let oldest_waiting_at = status.kinds.iter().filter_map(|k| k.oldest_waiting).min();
        let url = self.upstream.as_ref().map(|u| u.config.url.clone()).or(row.configured_url.clone());
        let failing = match (row.last_failure_at, row.last_accepted_at) {
            (Some(f), Some(a)) => f > a,
            (Some(_), None) => true,
            (None, _) => false,
        };
        let state = match (&url, failing) {
            (None, _) => ExchangeState::Unconfigured,
            (Some(_), true) => ExchangeState::Failing,
            (Some(_), false) => ExchangeState::Ok,
        };
        let now = self.now();
        let long_ago = |t: Option<DateTime<Utc>>| t.is_none_or(|t| now - t > STALL_AFTER);
        let stalled = state != ExchangeState::Unconfigured
            && oldest_waiting_at.is_some_and(|t| now - t > STALL_AFTER)
            && long_ago(row.last_accepted_at);
        Ok(ExchangeHealth {
            state,
            url,
            last_accepted_at: row.last_accepted_at,
            last_failure_at: row.last_failure_at,
            last_error: row.last_error,
            next_retry_at: row.next_retry_at,
            waiting,
            oldest_waiting_at,
            stalled,
        })
    }
}
