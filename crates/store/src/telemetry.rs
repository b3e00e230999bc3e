//! What `/metrics` reads from the database at each scrape (issue 18 §2): queues and cases, counted where they
//! live so that every instance reports the same figures; and the connection pool of this instance.

use chrono::{DateTime, Utc};

use crate::time::from_ms;
use crate::{Store, StoreError};

/// The notifications not yet delivered, and when the oldest of them was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Backlog {
    pub waiting: i64,
    pub oldest: Option<DateTime<Utc>>,
}

impl Store {
    pub async fn outbox_backlog(&self) -> Result<Backlog, StoreError> {
        let (waiting, oldest): (i64, Option<i64>) =
            sqlx::query_as("SELECT COUNT(*), MIN(created_at) FROM outbox WHERE delivered_at IS NULL")
                .fetch_one(&self.pool)
                .await?;
        Ok(Backlog { waiting, oldest: oldest.map(from_ms) })
    }

    /// Open cases past one of their limits (逾期).
    pub async fn overdue_open_cases(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM bad_review_case WHERE state NOT IN ('closed', 'closed_as_appealed')
             AND (overdue_at IS NOT NULL OR (state = 'unassigned' AND dispatch_missed = 1))",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    /// This instance's pool: connections open, and of those idle.
    pub fn pool_use(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }
}
