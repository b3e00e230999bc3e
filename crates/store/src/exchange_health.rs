//! The exchange's health as the last pushes found it (issue 28 §5), one row shared by every instance: what
//! `hcp exchange status`, `hcp doctor`, the console and `/readyz` report instead of "已对接".

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::time::{from_ms, to_ms};
use crate::{Store, StoreError};

/// The row as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExchangeHealthRow {
    /// The upper level's address `serve` was last started with (`None`: started without one).
    pub configured_url: Option<String>,
    pub configured_at: Option<DateTime<Utc>>,
    pub last_accepted_at: Option<DateTime<Utc>>,
    pub last_failure_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub next_retry_at: Option<DateTime<Utc>>,
}

/// One push round's result worth remembering.
#[derive(Debug, Clone)]
pub enum PushOutcome {
    /// The upper level answered item by item (accepted, duplicate or rejected: it is reachable and signs match).
    Answered,
    /// The batch failed as a whole: the reason, and when the items are tried again.
    Failed { reason: String, next_retry_at: DateTime<Utc> },
}

const UPSERT_ROW: &str = "INSERT INTO exchange_health (id) VALUES (1) ON CONFLICT (id) DO NOTHING";

impl Store {
    pub async fn exchange_health(&self) -> Result<ExchangeHealthRow, StoreError> {
        let row = sqlx::query(
            "SELECT configured_url, configured_at, last_accepted_at, last_failure_at, last_error, next_retry_at
             FROM exchange_health WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(ExchangeHealthRow::default()) };
        let at = |name: &str| -> Result<Option<DateTime<Utc>>, sqlx::Error> {
            Ok(r.try_get::<Option<i64>, _>(name)?.map(from_ms))
        };
        Ok(ExchangeHealthRow {
            configured_url: r.try_get("configured_url")?,
            configured_at: at("configured_at")?,
            last_accepted_at: at("last_accepted_at")?,
            last_failure_at: at("last_failure_at")?,
            last_error: r.try_get("last_error")?,
            next_retry_at: at("next_retry_at")?,
        })
    }

    /// `serve` records at start whether it has an upper level (its address, never the secrets).
    pub async fn note_exchange_configured(&self, url: Option<&str>, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(UPSERT_ROW).execute(&mut *tx).await?;
        sqlx::query("UPDATE exchange_health SET configured_url = $1, configured_at = $2 WHERE id = 1")
            .bind(url)
            .bind(to_ms(now))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a push round's outcome.
    pub async fn note_exchange_push(&self, outcome: &PushOutcome, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(UPSERT_ROW).execute(&mut *tx).await?;
        match outcome {
            PushOutcome::Answered => {
                sqlx::query("UPDATE exchange_health SET last_accepted_at = $1, next_retry_at = NULL WHERE id = 1")
                    .bind(to_ms(now))
                    .execute(&mut *tx)
                    .await?;
            }
            PushOutcome::Failed { reason, next_retry_at } => {
                sqlx::query(
                    "UPDATE exchange_health SET last_failure_at = $1, last_error = $2, next_retry_at = $3 WHERE id = 1",
                )
                .bind(to_ms(now))
                .bind(reason.chars().take(500).collect::<String>())
                .bind(to_ms(*next_retry_at))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
