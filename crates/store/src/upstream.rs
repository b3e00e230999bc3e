//! The queue of items for the upper-level 好差评 system (issue 13): written in the transaction of their
//! cause, claimed in batches by the exchange worker with a lease, and marked with what the upper level
//! answered. Rows refer to what they carry (record, evaluation round); the item itself is built at sending.
//!
//! Order is kept by state, not by timing: an evaluation is claimable only once its record's service item
//! was accepted, an update only once its evaluation was, so several workers (or a restart) cannot reorder.

use chrono::{DateTime, Utc};
use hcp_domain::upstream::ItemKind;
use sqlx::{AnyConnection, Row};

use crate::time::{from_ms, to_ms};
use crate::{Backend, Store, StoreError};

/// Queues the service item (I1) of each record that is completed (the caller passes records as they
/// become completed; a record queued before is left alone).
pub(crate) async fn queue_records(
    conn: &mut AnyConnection,
    backend: Backend,
    record_ids: &[i64],
) -> Result<(), StoreError> {
    for chunk in record_ids.chunks(1000) {
        let q = crate::sql::with_ids(
            "INSERT INTO upstream_item (kind, service_record_id, round, update_number, state, next_attempt_at,
                created_at)
             SELECT 'service', id, 0, 0, 'waiting', completed_at, completed_at
             FROM service_record WHERE completed_at IS NOT NULL AND id IN ",
            " ON CONFLICT (kind, service_record_id, round, update_number) DO NOTHING",
            backend,
            chunk,
        );
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Whether evaluations are queued (always, in the program; see [`measure_writer_without_queue`]).
static QUEUE_EVALUATIONS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// For the exchange benchmark only, which measures the evaluation writer with and without the queue in one
/// run: stops (or restarts) queueing evaluations in this process. Never called by the program: an
/// evaluation not queued would never reach the upper level.
#[doc(hidden)]
pub fn measure_writer_without_queue(off: bool) {
    QUEUE_EVALUATIONS.store(!off, std::sync::atomic::Ordering::SeqCst);
}

/// Queues the evaluation item (I2) of each evaluation, except those that came from the province (the upper
/// level has them already). One statement per batch: this runs in the evaluation writer's transaction.
pub(crate) async fn queue_evaluations(
    conn: &mut AnyConnection,
    backend: Backend,
    evaluation_ids: &[i64],
) -> Result<(), StoreError> {
    if !QUEUE_EVALUATIONS.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(());
    }
    for chunk in evaluation_ids.chunks(1000) {
        let q = crate::sql::with_ids(
            "INSERT INTO upstream_item (kind, service_record_id, round, update_number, state, next_attempt_at,
                created_at)
             SELECT 'evaluation', service_record_id, round, 0, 'waiting', created_at, created_at
             FROM evaluation WHERE channel <> 'provincial' AND id IN ",
            " ON CONFLICT (kind, service_record_id, round, update_number) DO NOTHING",
            backend,
            chunk,
        );
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The next update number of an evaluation: 1, 2, … (the key is projectNo + assessNumber + updateNumber).
const NEXT_UPDATE_NUMBER: &str = "COALESCE((SELECT MAX(u.update_number) FROM upstream_item u
    WHERE u.kind = 'update' AND u.service_record_id = e.service_record_id AND u.round = e.round), 0) + 1";

/// Queues an update (I8) saying an upheld appeal made this evaluation invalid (`effectivEvalua` 0).
pub(crate) async fn queue_invalidation(
    conn: &mut AnyConnection,
    evaluation_id: i64,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO upstream_item (kind, service_record_id, round, update_number, effective, rectification, state,
            next_attempt_at, created_at)
         SELECT 'update', e.service_record_id, e.round, {NEXT_UPDATE_NUMBER}, 0, '', 'waiting', $1, $1
         FROM evaluation e WHERE e.id = $2 AND e.channel <> 'provincial'"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(to_ms(at)).bind(evaluation_id).execute(&mut *conn).await?;
    Ok(())
}

/// Queues an update (I8) carrying the rectification of a bad review whose case was just closed: the unit's
/// last handling text (rectified, solved on the spot, or the plan it replied).
pub(crate) async fn queue_rectification(
    conn: &mut AnyConnection,
    case_id: i64,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO upstream_item (kind, service_record_id, round, update_number, effective, rectification, state,
            next_attempt_at, created_at)
         SELECT 'update', e.service_record_id, e.round, {NEXT_UPDATE_NUMBER}, 1,
            COALESCE((SELECT s.text FROM case_step s WHERE s.case_id = c.id
                AND s.kind IN ('rectified', 'solve_on_spot', 'plan_replied') ORDER BY s.at DESC, s.id DESC LIMIT 1), ''),
            'waiting', $1, $1
         FROM bad_review_case c JOIN evaluation e ON e.id = c.evaluation_id
         WHERE c.id = $2 AND e.channel <> 'provincial'"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(to_ms(at)).bind(case_id).execute(&mut *conn).await?;
    Ok(())
}

/// A claimed item: what to build and send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamClaim {
    pub id: i64,
    pub kind: ItemKind,
    pub service_record_id: i64,
    pub round: i64,
    pub update_number: i64,
    pub effective: Option<i64>,
    pub rectification: Option<String>,
    /// Attempts including this one.
    pub attempts: i64,
}

/// What became of a sent item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamMark {
    Accepted { duplicate: bool },
    Rejected { reason: String },
    Retry { reason: String, at: DateTime<Utc> },
}

/// Counts of one kind in one state, with the oldest item's creation time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamCount {
    pub kind: String,
    pub state: String,
    pub count: i64,
    pub oldest: Option<DateTime<Utc>>,
}

/// One item for the lists of `hcp exchange list` and the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamListRow {
    pub id: i64,
    pub kind: String,
    pub record_number: String,
    pub round: i64,
    pub update_number: i64,
    pub state: String,
    pub attempts: i64,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl UpstreamListRow {
    /// The item's key as the upper level knows it (`QS-1#1`, `QS-1#2`, `QS-1#1.2`).
    pub fn key(&self) -> hcp_domain::upstream::ItemKey {
        let service = self.kind == ItemKind::Service.as_str();
        hcp_domain::upstream::ItemKey {
            project_no: self.record_number.clone(),
            number: if service { 1 } else { self.round },
            update_number: self.update_number,
        }
    }
}

/// Only the items whose predecessors were accepted: records before their evaluations, first ratings before
/// second ones, an evaluation before its updates, updates in order.
fn ready_condition(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Service => "",
        ItemKind::Evaluation => {
            " AND EXISTS (SELECT 1 FROM upstream_item p WHERE p.kind = 'service'
                AND p.service_record_id = u.service_record_id AND p.round = 0 AND p.update_number = 0
                AND p.state = 'accepted')
              AND NOT EXISTS (SELECT 1 FROM upstream_item q WHERE q.kind = 'evaluation'
                AND q.service_record_id = u.service_record_id AND q.round < u.round AND q.state <> 'accepted')"
        }
        ItemKind::Update => {
            " AND EXISTS (SELECT 1 FROM upstream_item p WHERE p.kind = 'evaluation'
                AND p.service_record_id = u.service_record_id AND p.round = u.round AND p.update_number = 0
                AND p.state = 'accepted')
              AND NOT EXISTS (SELECT 1 FROM upstream_item q WHERE q.kind = 'update'
                AND q.service_record_id = u.service_record_id AND q.round = u.round
                AND q.update_number < u.update_number AND q.state <> 'accepted')"
        }
    }
}

impl Store {
    /// Claims up to `limit` items of `kind` that are due and ready, for `lease`; in id order (the order their
    /// causes happened). An item whose worker died is claimed again when its lease ends.
    pub async fn claim_upstream(
        &self,
        kind: ItemKind,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: i64,
    ) -> Result<Vec<UpstreamClaim>, StoreError> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE OF u SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE upstream_item SET state = 'sent', lease_until = $1, attempts = attempts + 1
             WHERE id IN (SELECT u.id FROM upstream_item u
                 WHERE u.kind = $2 AND u.state IN ('waiting', 'sent')
                   AND ((u.state = 'waiting' AND u.next_attempt_at <= $3) OR (u.state = 'sent' AND u.lease_until <= $3))
                   {ready}
                 ORDER BY u.id LIMIT $4{lock})
             RETURNING id, service_record_id, round, update_number, effective, rectification, attempts",
            ready = ready_condition(kind),
        );
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(to_ms(now + lease))
            .bind(kind.as_str())
            .bind(to_ms(now))
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok(UpstreamClaim {
                    id: r.try_get("id")?,
                    kind,
                    service_record_id: r.try_get("service_record_id")?,
                    round: r.try_get("round")?,
                    update_number: r.try_get("update_number")?,
                    effective: r.try_get("effective")?,
                    rectification: r.try_get("rectification")?,
                    attempts: r.try_get("attempts")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        out.sort_by_key(|c| c.id);
        Ok(out)
    }

    /// Records what the upper level answered for each item of a batch, in one transaction.
    pub async fn mark_upstream(&self, marks: &[(i64, UpstreamMark)], now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for (id, mark) in marks {
            let q = match mark {
                UpstreamMark::Accepted { duplicate } => sqlx::query(
                    "UPDATE upstream_item SET state = 'accepted', accepted_at = $1, duplicate = $2, reason = NULL,
                        lease_until = NULL WHERE id = $3",
                )
                .bind(to_ms(now))
                .bind(i64::from(*duplicate))
                .bind(*id),
                UpstreamMark::Rejected { reason } => sqlx::query(
                    "UPDATE upstream_item SET state = 'rejected', reason = $1, lease_until = NULL WHERE id = $2",
                )
                .bind(reason.chars().take(500).collect::<String>())
                .bind(*id),
                UpstreamMark::Retry { reason, at } => sqlx::query(
                    "UPDATE upstream_item SET state = 'waiting', reason = $1, next_attempt_at = $2, lease_until = NULL
                     WHERE id = $3 AND state = 'sent'",
                )
                .bind(reason.chars().take(500).collect::<String>())
                .bind(to_ms(*at))
                .bind(*id),
            };
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Counts per kind and state (for `hcp exchange status` and the console), from the tally the triggers keep,
    /// with the age of the oldest item still to send (the first entry of a partial index).
    pub async fn upstream_counts(&self) -> Result<Vec<UpstreamCount>, StoreError> {
        let rows = sqlx::query("SELECT kind, state, n FROM upstream_tally WHERE n <> 0 ORDER BY kind, state")
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let (kind, state): (String, String) = (r.try_get("kind")?, r.try_get("state")?);
            let oldest = if matches!(state.as_str(), "waiting" | "sent") {
                sqlx::query_scalar::<_, Option<i64>>(
                    "SELECT MIN(created_at) FROM upstream_item
                     WHERE kind = $1 AND state = $2 AND state IN ('waiting', 'sent')",
                )
                .bind(&kind)
                .bind(&state)
                .fetch_one(&self.pool)
                .await?
                .map(from_ms)
            } else {
                None
            };
            out.push(UpstreamCount { kind, state, count: r.try_get("n")?, oldest });
        }
        Ok(out)
    }

    /// Items in `state` ('rejected', or 'waiting' with a reason for the failing ones), oldest first.
    pub async fn upstream_items(&self, state: &str, limit: i64) -> Result<Vec<UpstreamListRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, u.kind, r.record_number, u.round, u.update_number, u.state, u.attempts, u.reason,
                u.created_at
             FROM upstream_item u JOIN service_record r ON r.id = u.service_record_id
             WHERE u.state = $1 ORDER BY u.id LIMIT $2",
        )
        .bind(state.to_string())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(UpstreamListRow {
                    id: r.try_get("id")?,
                    kind: r.try_get("kind")?,
                    record_number: r.try_get("record_number")?,
                    round: r.try_get("round")?,
                    update_number: r.try_get("update_number")?,
                    state: r.try_get("state")?,
                    attempts: r.try_get("attempts")?,
                    reason: r.try_get("reason")?,
                    created_at: from_ms(r.try_get("created_at")?),
                })
            })
            .collect()
    }

    /// Puts every rejected item back in the queue, to be built anew from the corrected data; audited.
    pub async fn resend_rejected(&self, now: DateTime<Utc>, audit: &crate::NewAudit) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE upstream_item SET state = 'waiting', next_attempt_at = $1, attempts = 0 WHERE state = 'rejected'",
        )
        .bind(to_ms(now))
        .execute(&mut *tx)
        .await?;
        let n = done.rows_affected();
        if n > 0 {
            let entry = crate::NewAudit { details: format!("{{\"items\":{n}}}"), ..audit.clone() };
            crate::audit::append(&mut tx, &self.chain(), &[entry]).await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// The upper-level codes of records' organizations and items, by record id.
    pub async fn upstream_codes(&self, record_ids: &[i64]) -> Result<Vec<RecordCodes>, StoreError> {
        let mut out = Vec::with_capacity(record_ids.len());
        for chunk in record_ids.chunks(500) {
            let q = crate::sql::with_ids(
                "SELECT r.id, o.credit_code, o.area_code, i.implementation_code, i.handle_item_code
                 FROM service_record r JOIN org o ON o.id = r.org_id JOIN service_item i ON i.id = r.item_id
                 WHERE r.id IN ",
                "",
                self.backend,
                chunk,
            );
            for r in q.fetch_all(&self.pool).await? {
                out.push(RecordCodes {
                    record_id: r.try_get("id")?,
                    credit_code: r.try_get("credit_code")?,
                    area_code: r.try_get("area_code")?,
                    implementation_code: r.try_get("implementation_code")?,
                    handle_item_code: r.try_get("handle_item_code")?,
                });
            }
        }
        Ok(out)
    }

    /// The evaluations (any round) of these records, with their record numbers, for building I2 items.
    pub async fn upstream_evaluations(&self, record_ids: &[i64]) -> Result<Vec<UpstreamEvaluation>, StoreError> {
        let mut out = Vec::with_capacity(record_ids.len());
        for chunk in record_ids.chunks(500) {
            let q = crate::sql::with_ids(
                "SELECT e.service_record_id, e.round, r.record_number, e.level, e.channel, e.indicator_ids,
                    e.staff_indicator_ids, e.comment, e.is_default, e.created_at
                 FROM evaluation e JOIN service_record r ON r.id = e.service_record_id
                 WHERE e.service_record_id IN ",
                "",
                self.backend,
                chunk,
            );
            for r in q.fetch_all(&self.pool).await? {
                out.push(UpstreamEvaluation {
                    record_id: r.try_get("service_record_id")?,
                    round: r.try_get("round")?,
                    record_number: r.try_get("record_number")?,
                    level: r.try_get("level")?,
                    channel: r.try_get("channel")?,
                    indicator_ids: r.try_get("indicator_ids")?,
                    staff_indicator_ids: r.try_get("staff_indicator_ids")?,
                    comment: r.try_get("comment")?,
                    is_default: r.try_get::<i64, _>("is_default")? != 0,
                    created_at: from_ms(r.try_get("created_at")?),
                });
            }
        }
        Ok(out)
    }

    /// Record numbers by id.
    pub async fn record_numbers(&self, record_ids: &[i64]) -> Result<Vec<(i64, String)>, StoreError> {
        let mut out = Vec::with_capacity(record_ids.len());
        for chunk in record_ids.chunks(500) {
            let q = crate::sql::with_ids(
                "SELECT id, record_number FROM service_record WHERE id IN ",
                "",
                self.backend,
                chunk,
            );
            for r in q.fetch_all(&self.pool).await? {
                out.push((r.try_get("id")?, r.try_get("record_number")?));
            }
        }
        Ok(out)
    }

    /// A durable cursor of the exchange (the pull's `next`), if set.
    pub async fn upstream_cursor(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT value FROM upstream_cursor WHERE name = $1")
            .bind(name.to_string())
            .fetch_optional(&self.pool)
            .await?)
    }
}

/// What the upper level needs of a record's organization and item, as entered in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordCodes {
    pub record_id: i64,
    pub credit_code: Option<String>,
    pub area_code: Option<String>,
    pub implementation_code: Option<String>,
    pub handle_item_code: Option<String>,
}

/// An evaluation as the exchange sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamEvaluation {
    pub record_id: i64,
    pub round: i64,
    pub record_number: String,
    pub level: String,
    pub channel: String,
    pub indicator_ids: String,
    pub staff_indicator_ids: String,
    pub comment: Option<String>,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
}
