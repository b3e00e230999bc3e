//! Evaluations pulled from the upper level (回流, issue 13 §5): each stored once by (projectNo,
//! assessNumber) as the record's evaluation on channel `provincial` — opening a case when bad, counted in the
//! rollups by the same insert every evaluation goes through — or kept aside as a conflict (the record was
//! already rated here), unmatched (no such record yet) or invalid (codes we cannot map).

use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, Row};

use crate::evaluations::{NewEvaluation, bad_review_ids, insert_evaluations};
use crate::time::{from_ms, to_ms};
use crate::{Store, StoreError};

/// What a pulled item says, once its codes are mapped to ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledEvaluation {
    pub level: &'static str,
    pub indicator_ids: String,
    pub staff_indicator_ids: String,
    pub comment: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A pulled item: its key, the item as received, and what it means (or why it cannot be read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledItem {
    pub project_no: String,
    pub assess_number: i64,
    pub item: String,
    pub evaluation: Result<PulledEvaluation, String>,
}

/// What became of a pulled item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullOutcome {
    Stored(i64),
    /// Pulled before and settled: nothing done.
    Known,
    Conflict,
    Unmatched,
    Invalid,
    /// No such record, and the unmatched items are at their cap: kept, listed, not retried.
    Expired,
}

/// One kept-aside item for the lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledRow {
    pub project_no: String,
    pub assess_number: i64,
    pub state: String,
    pub item: String,
    pub reason: Option<String>,
    pub updated_at: DateTime<Utc>,
}

async fn keep(
    conn: &mut AnyConnection,
    p: &PulledItem,
    state: &str,
    reason: Option<&str>,
    evaluation_id: Option<i64>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO upstream_pulled (project_no, assess_number, state, item, reason, evaluation_id, created_at,
            updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
         ON CONFLICT (project_no, assess_number) DO UPDATE SET state = excluded.state, item = excluded.item,
            reason = excluded.reason, evaluation_id = excluded.evaluation_id, updated_at = excluded.updated_at",
    )
    .bind(p.project_no.clone())
    .bind(p.assess_number)
    .bind(state.to_string())
    .bind(p.item.clone())
    .bind(reason.map(str::to_string))
    .bind(evaluation_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Takes one pulled item in one transaction. Idempotent: an item already stored, in conflict or invalid
    /// is left as it is; an unmatched one is tried again.
    /// At most `unmatched_cap` items wait for their records (issue 29 §4: 151 from one reply were retried on
    /// every pull without bound); beyond it a new one is kept as `expired`, listed but not retried.
    pub async fn take_pulled(
        &self,
        p: &PulledItem,
        unmatched_cap: i64,
        audit: &crate::NewAudit,
    ) -> Result<PullOutcome, StoreError> {
        let now = to_ms(audit.at);
        let mut tx = self.begin_write().await?;
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM upstream_pulled WHERE project_no = $1 AND assess_number = $2")
                .bind(p.project_no.clone())
                .bind(p.assess_number)
                .fetch_optional(&mut *tx)
                .await?;
        if state.as_deref().is_some_and(|s| s != "unmatched") {
            tx.rollback().await?;
            return Ok(PullOutcome::Known);
        }
        let record: Option<(i64, i64, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT id, received_at, completed_at, default_due_at FROM service_record
             WHERE record_number = $1 ORDER BY id LIMIT 1",
        )
        .bind(p.project_no.clone())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((record, received_at, completed_at, closes_at)) = record else {
            let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM upstream_pulled WHERE state = 'unmatched'")
                .fetch_one(&mut *tx)
                .await?;
            if state.is_none() && waiting >= unmatched_cap {
                let why = format!("本系统没有该办件编号;待匹配的回流评价已达 {unmatched_cap} 条上限,不再自动重试");
                keep(&mut tx, p, "expired", Some(&why), None, now).await?;
                tx.commit().await?;
                return Ok(PullOutcome::Expired);
            }
            keep(&mut tx, p, "unmatched", Some("本系统没有该办件编号"), None, now).await?;
            tx.commit().await?;
            return Ok(PullOutcome::Unmatched);
        };
        let window = |e: &PulledEvaluation| outside_window(e.created_at, from_ms(received_at), completed_at, closes_at);
        let e = match p.evaluation.as_ref().map_err(String::clone).and_then(|e| match window(e) {
            Some(reason) if p.assess_number == 1 => Err(reason),
            _ => Ok(e),
        }) {
            Ok(e) => e,
            Err(reason) => {
                keep(&mut tx, p, "invalid", Some(&reason), None, now).await?;
                tx.commit().await?;
                return Ok(PullOutcome::Invalid);
            }
        };
        let existing: Option<String> =
            sqlx::query_scalar("SELECT channel FROM evaluation WHERE service_record_id = $1 AND round = $2")
                .bind(record)
                .bind(p.assess_number)
                .fetch_optional(&mut *tx)
                .await?;
        if existing.is_some() {
            keep(&mut tx, p, "conflict", Some("该办件在本系统已有评价,以首次评价为准"), None, now).await?;
            tx.commit().await?;
            return Ok(PullOutcome::Conflict);
        }
        let id = if p.assess_number == 1 {
            let new = NewEvaluation {
                service_record_id: record,
                round: 1,
                level: e.level,
                channel: "provincial",
                indicator_ids: e.indicator_ids.clone(),
                staff_indicator_ids: e.staff_indicator_ids.clone(),
                comment: e.comment.clone(),
                is_default: false,
                created_at: e.created_at,
                recorded_by: None,
                evidence: None,
            };
            let inserted = insert_evaluations(&mut tx, self.backend, std::slice::from_ref(&new)).await?;
            let cases =
                crate::cases::open_cases(&mut tx, self.backend, &bad_review_ids(std::slice::from_ref(&new), &inserted))
                    .await?;
            crate::audit::append(&mut tx, &self.chain(), &cases).await?;
            inserted.get(&record).copied()
        } else {
            // A second rating made on the province's channels: linked to our first evaluation.
            sqlx::query_scalar(
                "INSERT INTO evaluation (service_record_id, round, level, channel, indicator_ids, staff_indicator_ids,
                    comment, is_default, created_at, recorded_by, first_evaluation_id)
                 SELECT $1, $2, $3, 'provincial', $4, $5, $6, 0, $7, NULL, f.id
                 FROM evaluation f WHERE f.service_record_id = $1 AND f.round = 1
                 ON CONFLICT (service_record_id, round) DO NOTHING RETURNING id",
            )
            .bind(record)
            .bind(p.assess_number)
            .bind(e.level)
            .bind(e.indicator_ids.clone())
            .bind(e.staff_indicator_ids.clone())
            .bind(e.comment.clone())
            .bind(to_ms(e.created_at))
            .fetch_optional(&mut *tx)
            .await?
        };
        let Some(id) = id else {
            keep(&mut tx, p, "conflict", Some("本系统没有该办件的首次评价,无法记录二次评价"), None, now).await?;
            tx.commit().await?;
            return Ok(PullOutcome::Conflict);
        };
        keep(&mut tx, p, "stored", None, Some(id), now).await?;
        let entry = crate::NewAudit {
            target: format!("evaluation:{id}"),
            details: format!(r#"{{"project_no":{:?},"assess_number":{}}}"#, p.project_no, p.assess_number),
            ..audit.clone()
        };
        crate::audit::append(&mut tx, &self.chain(), &[entry]).await?;
        tx.commit().await?;
        Ok(PullOutcome::Stored(id))
    }

    /// Items still unmatched after waiting since `created_before` are kept as `expired`: listed, not retried.
    pub async fn expire_unmatched(&self, created_before: DateTime<Utc>, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE upstream_pulled SET state = 'expired', reason = $1, updated_at = $2
             WHERE state = 'unmatched' AND created_at < $3",
        )
        .bind("本系统长期没有该办件编号,不再自动重试")
        .bind(to_ms(now))
        .bind(to_ms(created_before))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    /// Pulled items in a state ('conflict', 'unmatched', 'invalid', 'expired', 'stored'), oldest first.
    pub async fn pulled_items(&self, state: &str, limit: i64) -> Result<Vec<PulledRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT project_no, assess_number, state, item, reason, updated_at FROM upstream_pulled
             WHERE state = $1 ORDER BY id LIMIT $2",
        )
        .bind(state.to_string())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PulledRow {
                    project_no: r.try_get("project_no")?,
                    assess_number: r.try_get("assess_number")?,
                    state: r.try_get("state")?,
                    item: r.try_get("item")?,
                    reason: r.try_get("reason")?,
                    updated_at: from_ms(r.try_get("updated_at")?),
                })
            })
            .collect()
    }

    /// Counts of pulled items per state.
    pub async fn pulled_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM upstream_pulled GROUP BY state ORDER BY state")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get("state")?, r.try_get("n")?))).collect()
    }

    /// Saves a cursor of the exchange (the pull's `next`).
    pub async fn set_upstream_cursor(&self, name: &str, value: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO upstream_cursor (name, value, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(name.to_string())
        .bind(value.to_string())
        .bind(to_ms(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// Why a first evaluation dated `at` cannot be of this record (issue 29 §4): before the service was received, or
/// after its evaluation window closed (a few minutes of clock drift allowed either way).
fn outside_window(
    at: DateTime<Utc>,
    received_at: DateTime<Utc>,
    completed_at: Option<i64>,
    closes_at: Option<i64>,
) -> Option<String> {
    let drift = chrono::Duration::minutes(10);
    let shown = |t: DateTime<Utc>| hcp_domain::calendar::display_cst(t);
    if at + drift < received_at {
        return Some(format!("assessTime {} 早于办件受理时间 {},不予记录", shown(at), shown(received_at)));
    }
    let closes = closes_at.map(from_ms);
    match hcp_domain::evaluation::check_window(completed_at.map(from_ms), closes, at - drift) {
        Ok(()) => None,
        Err(_) => Some(format!(
            "assessTime {} 晚于该办件的评价期限 {},不予记录",
            shown(at),
            closes.map(shown).unwrap_or_default()
        )),
    }
}
