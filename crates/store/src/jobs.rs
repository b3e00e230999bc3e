//! Background work that must run once even with several instances: each step is idempotent by a unique
//! constraint, so two processes running it at the same moment record nothing twice.

use chrono::{DateTime, Utc};

use crate::evaluations::{NewEvaluation, insert_evaluations};
use crate::time::{from_ms, to_ms};
use crate::{Store, StoreError};

/// How many records one transaction of the default job handles, so a backlog never holds a long lock.
const DEFAULT_BATCH: i64 = 1000;

impl Store {
    /// R7.3: gives every completed record whose evaluation window closed by `now` and that nobody rated
    /// one basically-satisfied evaluation marked as default, dated at the close of its window.
    /// Returns how many were recorded by this call.
    pub async fn record_default_evaluations(
        &self,
        now: DateTime<Utc>,
        level: &'static str,
        channel: &'static str,
    ) -> Result<u64, StoreError> {
        let mut total = 0u64;
        loop {
            let mut tx = self.begin_write().await?;
            let due: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT id, default_due_at FROM service_record
                 WHERE evaluated = 0 AND default_due_at IS NOT NULL AND default_due_at <= $1
                 ORDER BY default_due_at LIMIT $2",
            )
            .bind(to_ms(now))
            .bind(DEFAULT_BATCH)
            .fetch_all(&mut *tx)
            .await?;
            let rows: Vec<NewEvaluation> = due
                .iter()
                .map(|(id, due_at)| NewEvaluation {
                    service_record_id: *id,
                    round: 1,
                    level,
                    channel,
                    indicator_ids: String::new(),
                    staff_indicator_ids: String::new(),
                    comment: None,
                    is_default: true,
                    created_at: from_ms(*due_at),
                    recorded_by: None,
                    evidence: None,
                })
                .collect();
            let inserted = insert_evaluations(&mut tx, self.backend, &rows).await?;
            let audit: Vec<crate::NewAudit> = rows
                .iter()
                .filter_map(|r| {
                    inserted
                        .get(&r.service_record_id)
                        .map(|id| crate::writer::evaluation_audit(r, *id, "system", "evaluation.default"))
                })
                .collect();
            crate::audit::append(&mut tx, &self.chain(), &audit).await?;
            // A record another process evaluated meanwhile is marked too, so it leaves the queue.
            let raced: Vec<i64> = due.iter().map(|(id, _)| *id).filter(|id| !inserted.contains_key(id)).collect();
            crate::evaluations::mark_evaluated(&mut tx, &raced).await?;
            tx.commit().await?;
            total += inserted.len() as u64;
            if (due.len() as i64) < DEFAULT_BATCH {
                return Ok(total);
            }
        }
    }
}
