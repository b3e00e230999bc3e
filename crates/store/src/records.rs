//! Service records (办件) and the invitations (single-use tokens, stored as hashes) to evaluate them.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::NewAudit;
use crate::evaluations::{EvaluationRow, evaluation_from_prefixed};
use crate::time::{from_ms, to_ms};
use crate::{Store, StoreError};

#[derive(Debug, Clone)]
pub struct NewServiceRecord<'a> {
    pub source_system: &'a str,
    pub record_number: &'a str,
    pub item_id: i64,
    pub org_id: i64,
    pub window_id: Option<i64>,
    pub staff_id: Option<i64>,
    /// The platform the service was delivered through, if the record names one.
    pub platform_id: Option<i64>,
    pub applicant_kind: &'a str,
    pub applicant: EncryptedApplicant<'a>,
    pub received_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub default_due_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// The applicant's personal data as stored: ciphertexts and blind indexes, never plaintext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncryptedApplicant<'a> {
    pub key_id: &'a str,
    pub name_enc: &'a str,
    pub id_number_enc: &'a str,
    pub mobile_enc: &'a str,
    pub id_number_idx: &'a str,
    pub mobile_idx: &'a str,
}

/// A service record as stored, with the names of what it refers to.
#[derive(Debug, Clone)]
pub struct RecordRow {
    pub id: i64,
    pub source_system: String,
    pub record_number: String,
    pub item_id: i64,
    pub item_code: String,
    pub item_name: String,
    pub category: String,
    pub org_id: i64,
    pub org_code: String,
    pub org_name: String,
    pub org_path: String,
    pub window_id: Option<i64>,
    pub window_code: Option<String>,
    pub window_name: Option<String>,
    /// The platform the service was delivered through, if named (issue 15 §4).
    pub platform_code: Option<String>,
    pub platform_name: Option<String>,
    pub staff_id: Option<i64>,
    pub staff_number: Option<String>,
    pub staff_name: Option<String>,
    pub applicant_kind: String,
    pub applicant_key_id: String,
    pub applicant_name_enc: String,
    pub applicant_id_number_enc: String,
    pub applicant_mobile_enc: String,
    pub applicant_id_number_idx: String,
    pub applicant_mobile_idx: String,
    pub received_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub default_due_at: Option<DateTime<Utc>>,
    /// The first evaluation (round 1), if any.
    pub evaluation: Option<EvaluationRow>,
}

pub enum RecordInsert {
    Created(i64),
    /// The source system already registered this record number.
    Existing(Box<RecordRow>),
    /// Another system registered this record number: numbers are unique county-wide, because the upper level
    /// knows a record by its number alone (`projectNo`). Carries that system's name.
    TakenBy(String),
}

/// What the evaluation page and the evaluation endpoint need to know about a token.
pub type EvaluationContext = RecordRow;

/// The record with its names and its first evaluation; a macro so that queries are `&'static str` literals.
macro_rules! record_select {
    () => {
        "SELECT r.id, r.source_system, r.record_number, r.item_id, i.code AS item_code,
    i.name AS item_name, i.category, r.org_id, o.code AS org_code, o.name AS org_name, o.path AS org_path,
    r.window_id, w.code AS window_code, w.name AS window_name, r.staff_id, s.staff_number, s.name AS staff_name,
    p.code AS platform_code, p.name AS platform_name,
    r.applicant_kind, r.applicant_key_id, r.applicant_name_enc, r.applicant_id_number_enc, r.applicant_mobile_enc,
    r.applicant_id_number_idx, r.applicant_mobile_idx, r.received_at, r.completed_at,
    r.default_due_at,
    e.id AS e_id, e.level AS e_level, e.channel AS e_channel, e.indicator_ids AS e_indicator_ids,
    e.staff_indicator_ids AS e_staff_indicator_ids, e.comment AS e_comment, e.is_default AS e_is_default,
    e.created_at AS e_created_at, e.service_record_id AS e_service_record_id
  FROM service_record r
  JOIN service_item i ON i.id = r.item_id
  JOIN org o ON o.id = r.org_id
  LEFT JOIN service_window w ON w.id = r.window_id
  LEFT JOIN staff s ON s.id = r.staff_id
  LEFT JOIN platform p ON p.id = r.platform_id
  LEFT JOIN evaluation e ON e.service_record_id = r.id AND e.round = 1 "
    };
}

fn record_row(r: &AnyRow) -> Result<RecordRow, StoreError> {
    Ok(RecordRow {
        id: r.try_get("id")?,
        source_system: r.try_get("source_system")?,
        record_number: r.try_get("record_number")?,
        item_id: r.try_get("item_id")?,
        item_code: r.try_get("item_code")?,
        item_name: r.try_get("item_name")?,
        category: r.try_get("category")?,
        org_id: r.try_get("org_id")?,
        org_code: r.try_get("org_code")?,
        org_name: r.try_get("org_name")?,
        org_path: r.try_get("org_path")?,
        window_id: r.try_get("window_id")?,
        window_code: r.try_get("window_code")?,
        window_name: r.try_get("window_name")?,
        platform_code: r.try_get("platform_code")?,
        platform_name: r.try_get("platform_name")?,
        staff_id: r.try_get("staff_id")?,
        staff_number: r.try_get("staff_number")?,
        staff_name: r.try_get("staff_name")?,
        applicant_kind: r.try_get("applicant_kind")?,
        applicant_key_id: r.try_get("applicant_key_id")?,
        applicant_name_enc: r.try_get("applicant_name_enc")?,
        applicant_id_number_enc: r.try_get("applicant_id_number_enc")?,
        applicant_mobile_enc: r.try_get("applicant_mobile_enc")?,
        applicant_id_number_idx: r.try_get("applicant_id_number_idx")?,
        applicant_mobile_idx: r.try_get("applicant_mobile_idx")?,
        received_at: from_ms(r.try_get("received_at")?),
        completed_at: r.try_get::<Option<i64>, _>("completed_at")?.map(from_ms),
        default_due_at: r.try_get::<Option<i64>, _>("default_due_at")?.map(from_ms),
        evaluation: evaluation_from_prefixed(r)?,
    })
}

impl Store {
    /// Records by id, with their names (the exchange builds service items from them); missing ids are skipped.
    pub async fn records_by_ids(&self, ids: &[i64]) -> Result<Vec<RecordRow>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let q = crate::sql::with_ids(concat!(record_select!(), "WHERE r.id IN "), "", self.backend, chunk);
            for r in q.fetch_all(&self.pool).await? {
                out.push(record_row(&r)?);
            }
        }
        Ok(out)
    }

    /// Registers a record and its first invitation in one transaction. A record number the source system
    /// already used is not an error here: the existing record comes back for the caller to judge.
    /// `audit` is appended with the new record as its target.
    pub async fn insert_record_with_invite(
        &self,
        rec: &NewServiceRecord<'_>,
        token_hash: &str,
        audit: &NewAudit,
    ) -> Result<RecordInsert, StoreError> {
        let mut tx = self.begin_write().await?;
        // One registration of a number at a time: SQLite's write lock does this already; on PostgreSQL a
        // transaction-scoped advisory lock on the number keeps two systems from both passing the check.
        if self.backend == crate::Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))").bind(rec.record_number).execute(&mut *tx).await?;
        }
        let owner: Option<String> = sqlx::query_scalar(
            "SELECT source_system FROM service_record WHERE record_number = $1 AND source_system <> $2 LIMIT 1",
        )
        .bind(rec.record_number)
        .bind(rec.source_system)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(owner) = owner {
            tx.rollback().await?;
            return Ok(RecordInsert::TakenBy(owner));
        }
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO service_record (source_system, record_number, item_id, org_id, window_id, staff_id,
                applicant_kind, applicant_key_id, applicant_name_enc, applicant_id_number_enc, applicant_mobile_enc,
                applicant_id_number_idx, applicant_mobile_idx, received_at, completed_at, default_due_at, evaluated,
                created_at, platform_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 0, $17, $18)
             ON CONFLICT (source_system, record_number) DO NOTHING RETURNING id",
        )
        .bind(rec.source_system)
        .bind(rec.record_number)
        .bind(rec.item_id)
        .bind(rec.org_id)
        .bind(rec.window_id)
        .bind(rec.staff_id)
        .bind(rec.applicant_kind)
        .bind(rec.applicant.key_id)
        .bind(rec.applicant.name_enc)
        .bind(rec.applicant.id_number_enc)
        .bind(rec.applicant.mobile_enc)
        .bind(rec.applicant.id_number_idx)
        .bind(rec.applicant.mobile_idx)
        .bind(to_ms(rec.received_at))
        .bind(rec.completed_at.map(to_ms))
        .bind(rec.default_due_at.map(to_ms))
        .bind(to_ms(rec.created_at))
        .bind(rec.platform_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            tx.rollback().await?;
            let existing = self
                .record_by_number(rec.source_system, rec.record_number)
                .await?
                .ok_or_else(|| StoreError::Corrupt("record vanished after a conflict".into()))?;
            return Ok(RecordInsert::Existing(Box::new(existing)));
        };
        insert_invite(&mut tx, id, token_hash, rec.created_at, None).await?;
        if rec.completed_at.is_some() {
            crate::rollups::count_completions(&mut tx, self.backend, &[id]).await?;
            crate::upstream::queue_records(&mut tx, self.backend, &[id]).await?;
        }
        let entry = NewAudit { target: format!("service_record:{id}"), ..audit.clone() };
        crate::audit::append(&mut tx, &self.chain(), &[entry]).await?;
        tx.commit().await?;
        Ok(RecordInsert::Created(id))
    }

    /// A further invitation for a record (a retry of a registration gets a fresh, usable link).
    /// A fresh link for a record, naming the hall device that fetched it, if one did.
    pub async fn insert_invite(
        &self,
        record_id: i64,
        token_hash: &str,
        now: DateTime<Utc>,
        device_code: Option<&str>,
        audit: &NewAudit,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        insert_invite(&mut tx, record_id, token_hash, now, device_code).await?;
        crate::audit::append(&mut tx, &self.chain(), std::slice::from_ref(audit)).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn record_by_id(&self, id: i64) -> Result<Option<RecordRow>, StoreError> {
        let row = sqlx::query(concat!(record_select!(), "WHERE r.id = $1")).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(record_row).transpose()
    }

    pub async fn record_by_number(&self, source: &str, number: &str) -> Result<Option<RecordRow>, StoreError> {
        let row = sqlx::query(concat!(record_select!(), "WHERE r.source_system = $1 AND r.record_number = $2"))
            .bind(source)
            .bind(number)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(record_row).transpose()
    }

    /// The record an invitation token (by its hash) opens, with its first evaluation if there is one.
    pub async fn record_by_token_hash(&self, token_hash: &str) -> Result<Option<EvaluationContext>, StoreError> {
        let row = sqlx::query(concat!(
            record_select!(),
            "WHERE r.id = (SELECT service_record_id FROM evaluation_invite WHERE token_hash = $1)"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(record_row).transpose()
    }

    /// Records completion once. Returns false when the record was already completed (nothing changes).
    pub async fn complete_record(
        &self,
        id: i64,
        completed_at: DateTime<Utc>,
        default_due_at: DateTime<Utc>,
        audit: &NewAudit,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE service_record SET completed_at = $1, default_due_at = $2 WHERE id = $3 AND completed_at IS NULL",
        )
        .bind(to_ms(completed_at))
        .bind(to_ms(default_due_at))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        crate::rollups::count_completions(&mut tx, self.backend, &[id]).await?;
        crate::rollups::recount_in_progress_at_completion(&mut tx, self.backend, id).await?;
        crate::upstream::queue_records(&mut tx, self.backend, &[id]).await?;
        crate::audit::append(&mut tx, &self.chain(), std::slice::from_ref(audit)).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Records whose applicant's mobile has this blind index, newest first.
    pub async fn records_by_mobile_index(&self, idx: &str, limit: i64) -> Result<Vec<RecordRow>, StoreError> {
        let rows =
            sqlx::query(concat!(record_select!(), "WHERE r.applicant_mobile_idx = $1 ORDER BY r.id DESC LIMIT $2"))
                .bind(idx)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(record_row).collect()
    }

    /// Records with this record number, from any source system.
    pub async fn records_by_number_any_source(&self, number: &str, limit: i64) -> Result<Vec<RecordRow>, StoreError> {
        let rows = sqlx::query(concat!(record_select!(), "WHERE r.record_number = $1 ORDER BY r.id DESC LIMIT $2"))
            .bind(number)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(record_row).collect()
    }

    /// Records of this mobile (by its blind index) at this window that wait for a rating: completed, not yet
    /// rated, not yet past their deadline. For the window's fixed QR code; newest first.
    pub async fn waiting_at_window_for_mobile(
        &self,
        mobile_idx: &str,
        window_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<RecordRow>, StoreError> {
        let rows = sqlx::query(concat!(
            record_select!(),
            "WHERE r.applicant_mobile_idx = $1 AND r.window_id = $2 AND r.evaluated = 0
               AND r.completed_at IS NOT NULL AND r.default_due_at > $3
             ORDER BY r.completed_at DESC LIMIT 20"
        ))
        .bind(mobile_idx)
        .bind(window_id)
        .bind(to_ms(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(record_row).collect()
    }

    /// The newest record completed at this window since `since`, still waiting for a rating, with an id
    /// above `after` (what a hall device shows next).
    pub async fn newest_waiting_at_window(
        &self,
        window_id: i64,
        since: DateTime<Utc>,
        after: i64,
    ) -> Result<Option<RecordRow>, StoreError> {
        let row = sqlx::query(concat!(
            record_select!(),
            "WHERE r.window_id = $1 AND r.completed_at >= $2 AND r.evaluated = 0 AND r.id > $3
             ORDER BY r.completed_at DESC, r.id DESC LIMIT 1"
        ))
        .bind(window_id)
        .bind(to_ms(since))
        .bind(after)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(record_row).transpose()
    }

    /// Whether any record exists (cheap on any size, unlike a count).
    pub async fn has_records(&self) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT id FROM service_record LIMIT 1")
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }

    pub async fn count_records(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM service_record").fetch_one(&self.pool).await?)
    }
}

async fn insert_invite(
    conn: &mut sqlx::AnyConnection,
    record_id: i64,
    token_hash: &str,
    now: DateTime<Utc>,
    device_code: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO evaluation_invite (service_record_id, token_hash, created_at, device_code) VALUES ($1, $2, $3, $4)",
    )
    .bind(record_id)
    .bind(token_hash)
    .bind(to_ms(now))
    .bind(device_code)
    .execute(conn)
        .await?;
    Ok(())
}
