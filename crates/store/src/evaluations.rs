//! Evaluations: append-only rows, one per record and round (R5.2). Inserts go through the group-commit
//! [`crate::EvaluationWriter`] or the default job; both rely on `UNIQUE (service_record_id, round)` with
//! `ON CONFLICT DO NOTHING`, so a retry or a second process can never record a second evaluation.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::time::{from_ms, to_ms};
use crate::{Backend, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvaluation {
    pub service_record_id: i64,
    pub round: i64,
    pub level: &'static str,
    pub channel: &'static str,
    pub indicator_ids: String,
    pub staff_indicator_ids: String,
    pub comment: Option<String>,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    /// The agent who recorded it for the evaluator (hotline), if not the evaluator.
    pub recorded_by: Option<String>,
    /// What it came with (address, device, browser), for the integrity checks; `None` for defaults and
    /// evaluations without any.
    pub evidence: Option<EvaluationEvidence>,
}

/// What an evaluation came with (issue 16 §1): the client's address as blind indexes and masked, the hall
/// device or kiosk, the browser family. Never the address in clear.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvaluationEvidence {
    pub client_address_idx: Option<String>,
    pub client_network_idx: Option<String>,
    pub client_address_masked: Option<String>,
    pub device_code: Option<String>,
    pub user_agent_family: Option<String>,
}

/// Writes the context rows of the evaluations just inserted (record id → evaluation id).
async fn insert_contexts(
    conn: &mut AnyConnection,
    backend: Backend,
    rows: &[NewEvaluation],
    inserted: &HashMap<i64, i64>,
) -> Result<(), StoreError> {
    let with: Vec<(i64, &EvaluationEvidence)> = rows
        .iter()
        .filter_map(|e| Some((*inserted.get(&e.service_record_id)?, e.evidence.as_ref()?)))
        .filter(|(_, c)| **c != EvaluationEvidence::default())
        .collect();
    for chunk in with.chunks(1000) {
        let mut sql = String::from(
            "INSERT INTO evaluation_context (evaluation_id, client_address_idx, client_network_idx,
                client_address_masked, device_code, user_agent_family) VALUES ",
        );
        crate::sql::push_rows(&mut sql, backend, chunk.len(), 6);
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (id, c) in chunk {
            q = q
                .bind(*id)
                .bind(c.client_address_idx.clone())
                .bind(c.client_network_idx.clone())
                .bind(c.client_address_masked.clone())
                .bind(c.device_code.clone())
                .bind(c.user_agent_family.clone());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluationRow {
    pub id: i64,
    pub service_record_id: i64,
    pub level: String,
    pub channel: String,
    pub indicator_ids: String,
    pub staff_indicator_ids: String,
    pub comment: Option<String>,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
}

impl EvaluationRow {
    /// The row a [`NewEvaluation`] became once inserted with `id`.
    pub fn from_new(id: i64, e: &NewEvaluation) -> EvaluationRow {
        EvaluationRow {
            id,
            service_record_id: e.service_record_id,
            level: e.level.to_string(),
            channel: e.channel.to_string(),
            indicator_ids: e.indicator_ids.clone(),
            staff_indicator_ids: e.staff_indicator_ids.clone(),
            comment: e.comment.clone(),
            is_default: e.is_default,
            created_at: e.created_at,
        }
    }
}

/// Reads the `e_`-prefixed evaluation columns of a joined row; `None` when the join found none.
pub(crate) fn evaluation_from_prefixed(r: &AnyRow) -> Result<Option<EvaluationRow>, StoreError> {
    let Some(id) = r.try_get::<Option<i64>, _>("e_id")? else {
        return Ok(None);
    };
    Ok(Some(EvaluationRow {
        id,
        service_record_id: r.try_get("e_service_record_id")?,
        level: r.try_get("e_level")?,
        channel: r.try_get("e_channel")?,
        indicator_ids: r.try_get("e_indicator_ids")?,
        staff_indicator_ids: r.try_get("e_staff_indicator_ids")?,
        comment: r.try_get("e_comment")?,
        is_default: r.try_get::<i64, _>("e_is_default")? != 0,
        created_at: from_ms(r.try_get("e_created_at")?),
    }))
}

/// Inserts many evaluations with one statement, skipping any whose (record, round) exists, and marks their
/// records evaluated. The rows are of distinct records; returns record id → evaluation id of those inserted.
pub(crate) async fn insert_evaluations(
    conn: &mut AnyConnection,
    backend: Backend,
    rows: &[NewEvaluation],
) -> Result<HashMap<i64, i64>, StoreError> {
    insert_evaluations_with(conn, backend, rows, true).await
}

/// [`insert_evaluations`], queued for the upper level or not (an earlier system's history was reported by it).
pub(crate) async fn insert_evaluations_with(
    conn: &mut AnyConnection,
    backend: Backend,
    rows: &[NewEvaluation],
    queue_upward: bool,
) -> Result<HashMap<i64, i64>, StoreError> {
    if rows.is_empty() {
        return Ok(HashMap::new());
    }
    let mut sql = String::from(
        "INSERT INTO evaluation (service_record_id, round, level, channel, indicator_ids, staff_indicator_ids,
            comment, is_default, created_at, recorded_by) VALUES ",
    );
    crate::sql::push_rows(&mut sql, backend, rows.len(), 10);
    sql.push_str(" ON CONFLICT (service_record_id, round) DO NOTHING RETURNING service_record_id, id");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for e in rows {
        q = q
            .bind(e.service_record_id)
            .bind(e.round)
            .bind(e.level)
            .bind(e.channel)
            .bind(e.indicator_ids.clone())
            .bind(e.staff_indicator_ids.clone())
            .bind(e.comment.clone())
            .bind(i64::from(e.is_default))
            .bind(to_ms(e.created_at))
            .bind(e.recorded_by.clone());
    }
    let inserted: HashMap<i64, i64> = q
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()?;
    let firsts: Vec<i64> = rows
        .iter()
        .filter(|e| e.round == 1 && inserted.contains_key(&e.service_record_id))
        .map(|e| e.service_record_id)
        .collect();
    mark_evaluated(conn, &firsts).await?;
    insert_contexts(conn, backend, rows, &inserted).await?;
    let ids: Vec<i64> =
        rows.iter().filter(|e| e.round == 1).filter_map(|e| inserted.get(&e.service_record_id).copied()).collect();
    crate::rollups::count_evaluations(conn, backend, &ids).await?;
    if queue_upward {
        let all: Vec<i64> = inserted.values().copied().collect();
        crate::upstream::queue_evaluations(conn, backend, &all).await?;
    }
    Ok(inserted)
}

/// The ids of the inserted evaluations that are bad reviews (R7.2): each opens a case.
/// Writes one first evaluation on an open transaction, with its audit entry (the evaluation's id added to its
/// details) and, for a bad review, its case. `None` when the record has its evaluation already (the caller
/// rolls back).
pub(crate) async fn write_one_evaluation(
    conn: &mut AnyConnection,
    chain: &crate::audit::Chain<'_>,
    e: &NewEvaluation,
    audit: &crate::NewAudit,
) -> Result<Option<i64>, StoreError> {
    let inserted = insert_evaluations(conn, chain.backend, std::slice::from_ref(e)).await?;
    let Some(id) = inserted.get(&e.service_record_id).copied() else { return Ok(None) };
    let details = format!(r#"{{"evaluation_id":{id},{}"#, audit.details.trim_start_matches('{'));
    let mut entries = vec![crate::NewAudit { details, ..audit.clone() }];
    let bad = bad_review_ids(std::slice::from_ref(e), &inserted);
    entries.extend(crate::cases::open_cases(conn, chain.backend, &bad).await?);
    crate::audit::append(conn, chain, &entries).await?;
    Ok(Some(id))
}

pub(crate) fn bad_review_ids(rows: &[NewEvaluation], inserted: &HashMap<i64, i64>) -> Vec<i64> {
    rows.iter()
        .filter(|e| hcp_domain::Level::parse(e.level).is_some_and(hcp_domain::Level::is_bad_review))
        .filter_map(|e| inserted.get(&e.service_record_id).copied())
        .collect()
}

pub(crate) async fn mark_evaluated(conn: &mut AnyConnection, record_ids: &[i64]) -> Result<(), StoreError> {
    for chunk in record_ids.chunks(500) {
        if chunk.is_empty() {
            continue;
        }
        let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
        // Ids are integers we produced, not input: inlining them keeps one statement per batch.
        let sql = format!("UPDATE service_record SET evaluated = 1 WHERE id IN ({})", list.join(","));
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *conn).await?;
    }
    Ok(())
}

impl Store {
    /// The first evaluation of a record, if any.
    pub async fn first_evaluation(&self, record_id: i64) -> Result<Option<EvaluationRow>, StoreError> {
        self.evaluation_of_round(record_id, 1).await
    }

    /// The second rating of a record (after rectification), if given.
    pub async fn second_evaluation(&self, record_id: i64) -> Result<Option<EvaluationRow>, StoreError> {
        self.evaluation_of_round(record_id, 2).await
    }

    async fn evaluation_of_round(&self, record_id: i64, round: i64) -> Result<Option<EvaluationRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id AS e_id, service_record_id AS e_service_record_id, level AS e_level, channel AS e_channel,
                indicator_ids AS e_indicator_ids, staff_indicator_ids AS e_staff_indicator_ids, comment AS e_comment,
                is_default AS e_is_default, created_at AS e_created_at
             FROM evaluation WHERE service_record_id = $1 AND round = $2",
        )
        .bind(record_id)
        .bind(round)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(evaluation_from_prefixed).transpose()?.flatten())
    }

    /// Inserts one evaluation in its own transaction with its audit entry (evaluations recorded by an agent,
    /// which are few). `None` when the record already has one of that round.
    pub async fn insert_evaluation(
        &self,
        e: &NewEvaluation,
        audit: &crate::NewAudit,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(id) = write_one_evaluation(&mut tx, &self.chain(), e, audit).await? else {
            tx.rollback().await?;
            return Ok(None);
        };
        tx.commit().await?;
        Ok(Some(id))
    }

    /// The evaluator's second rating after rectification (二次评价): round 2 of the record, linked to the
    /// first, which stays as it was. `None` when the record already has one.
    pub async fn insert_second_evaluation(
        &self,
        e: &NewEvaluation,
        first_evaluation_id: i64,
        audit: &crate::NewAudit,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.begin_write().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO evaluation (service_record_id, round, level, channel, indicator_ids, staff_indicator_ids,
                comment, is_default, created_at, recorded_by, first_evaluation_id)
             VALUES ($1, 2, $2, $3, $4, $5, $6, 0, $7, $8, $9)
             ON CONFLICT (service_record_id, round) DO NOTHING RETURNING id",
        )
        .bind(e.service_record_id)
        .bind(e.level)
        .bind(e.channel)
        .bind(e.indicator_ids.clone())
        .bind(e.staff_indicator_ids.clone())
        .bind(e.comment.clone())
        .bind(to_ms(e.created_at))
        .bind(e.recorded_by.clone())
        .bind(first_evaluation_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            tx.rollback().await?;
            return Ok(None);
        };
        crate::upstream::queue_evaluations(&mut tx, self.backend, &[id]).await?;
        let details = format!(r#"{{"evaluation_id":{id},{}"#, audit.details.trim_start_matches('{'));
        crate::audit::append(&mut tx, &self.chain(), &[crate::NewAudit { details, ..audit.clone() }]).await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    /// The case a second-rating link belongs to.
    pub async fn case_of_second_invite(&self, token_hash: &str) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT case_id FROM second_invite WHERE token_hash = $1")
            .bind(token_hash.to_string())
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn count_evaluations(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM evaluation").fetch_one(&self.pool).await?)
    }
}
