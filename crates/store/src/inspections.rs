//! Mystery-shopper visits (调查暗访, issue 16 §5): the county office's plan, the inspector's one evaluation with
//! its photos, and the case a bad finding opens — written together, never as an applicant's `evaluation`.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::cases::{AttachmentRow, NewAttachment, attachment_row};
use crate::time::{from_ms, to_ms};
use crate::{NewAudit, Store, StoreError};

/// A planned visit as the office plans it.
#[derive(Debug, Clone)]
pub struct NewInspection<'a> {
    pub window_id: i64,
    pub org_id: i64,
    /// Business dates, YYYY-MM-DD, inclusive.
    pub from_day: &'a str,
    pub to_day: &'a str,
    pub inspector: &'a str,
    pub planned_by: &'a str,
    pub at: DateTime<Utc>,
}

/// What the inspector recorded.
#[derive(Debug, Clone)]
pub struct NewInspectionEvaluation {
    pub staff_id: Option<i64>,
    pub level: &'static str,
    /// Comma-separated annex criteria ids, as evaluations keep them.
    pub indicator_ids: String,
    pub staff_indicator_ids: String,
    pub comment: Option<String>,
    pub findings: String,
    pub recorded_by: String,
    pub at: DateTime<Utc>,
}

/// A visit with its window and, once recorded, its evaluation and case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectionRow {
    pub id: i64,
    pub window_code: String,
    pub window_name: String,
    pub org_id: i64,
    pub org_name: String,
    pub org_path: String,
    pub from_day: String,
    pub to_day: String,
    pub inspector: String,
    pub planned_by: String,
    pub created_at: DateTime<Utc>,
    pub evaluation: Option<InspectionEvaluationRow>,
    /// The case a bad finding opened.
    pub case_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectionEvaluationRow {
    pub staff_number: Option<String>,
    pub staff_name: Option<String>,
    pub level: String,
    pub indicator_ids: String,
    pub staff_indicator_ids: String,
    pub comment: Option<String>,
    pub findings: String,
    pub recorded_by: String,
    pub at: DateTime<Utc>,
}

/// Whether a recording was written, or the visit already had its one evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InspectionWrite {
    /// Written; the id of the case opened for a bad finding.
    Recorded {
        case_id: Option<i64>,
    },
    AlreadyRecorded,
}

const INSPECTION_SELECT: &str = "SELECT n.id, w.code AS window_code, w.name AS window_name, n.org_id,
    o.name AS org_name, o.path AS org_path, n.from_day, n.to_day, n.inspector, n.planned_by, n.created_at,
    s.staff_number, s.name AS staff_name, ie.level, ie.indicator_ids, ie.staff_indicator_ids, ie.comment,
    ie.findings, ie.recorded_by, ie.created_at AS recorded_at, c.id AS case_id
  FROM inspection n
  JOIN service_window w ON w.id = n.window_id
  JOIN org o ON o.id = n.org_id
  LEFT JOIN inspection_evaluation ie ON ie.inspection_id = n.id
  LEFT JOIN staff s ON s.id = ie.staff_id
  LEFT JOIN bad_review_case c ON c.inspection_id = n.id";

fn inspection_row(r: &AnyRow) -> Result<InspectionRow, StoreError> {
    let level: Option<String> = r.try_get("level")?;
    let evaluation = match level {
        None => None,
        Some(level) => Some(InspectionEvaluationRow {
            staff_number: r.try_get("staff_number")?,
            staff_name: r.try_get("staff_name")?,
            level,
            indicator_ids: r.try_get("indicator_ids")?,
            staff_indicator_ids: r.try_get("staff_indicator_ids")?,
            comment: r.try_get("comment")?,
            findings: r.try_get("findings")?,
            recorded_by: r.try_get("recorded_by")?,
            at: from_ms(r.try_get("recorded_at")?),
        }),
    };
    Ok(InspectionRow {
        id: r.try_get("id")?,
        window_code: r.try_get("window_code")?,
        window_name: r.try_get("window_name")?,
        org_id: r.try_get("org_id")?,
        org_name: r.try_get("org_name")?,
        org_path: r.try_get("org_path")?,
        from_day: r.try_get("from_day")?,
        to_day: r.try_get("to_day")?,
        inspector: r.try_get("inspector")?,
        planned_by: r.try_get("planned_by")?,
        created_at: from_ms(r.try_get("created_at")?),
        evaluation,
        case_id: r.try_get("case_id")?,
    })
}

/// One photo of a visit, on an open transaction; its id.
async fn insert_photo(conn: &mut AnyConnection, inspection_id: i64, p: &NewAttachment) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO inspection_photo (inspection_id, file_name, content_type, size, sm3, data, uploaded_by, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(inspection_id)
    .bind(p.file_name.clone())
    .bind(p.content_type)
    .bind(p.data.len() as i64)
    .bind(p.sm3.clone())
    .bind(p.data.clone())
    .bind(p.uploaded_by.clone())
    .bind(to_ms(p.at))
    .fetch_one(&mut *conn)
    .await?)
}

impl Store {
    pub async fn insert_inspection(&self, n: &NewInspection<'_>, audit: &NewAudit) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO inspection (window_id, org_id, from_day, to_day, inspector, planned_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(n.window_id)
        .bind(n.org_id)
        .bind(n.from_day)
        .bind(n.to_day)
        .bind(n.inspector)
        .bind(n.planned_by)
        .bind(to_ms(n.at))
        .fetch_one(&mut *tx)
        .await?;
        let entry = NewAudit { target: format!("inspection:{id}"), ..audit.clone() };
        crate::audit::append(&mut tx, &self.chain(), &[entry]).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn inspection_by_id(&self, id: i64) -> Result<Option<InspectionRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{INSPECTION_SELECT} WHERE n.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(inspection_row).transpose()
    }

    /// Visits whose dates overlap the business dates `from`–`to` (YYYY-MM-DD, inclusive), newest first: all of
    /// them, or one inspector's. Visits are few (a county plans dozens a year), so the caller filters by scope.
    pub async fn list_inspections(
        &self,
        from: &str,
        to: &str,
        inspector: Option<&str>,
    ) -> Result<Vec<InspectionRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{INSPECTION_SELECT} WHERE n.from_day <= $2 AND n.to_day >= $1 AND ($3 = '' OR n.inspector = $3)
             ORDER BY n.from_day DESC, n.id DESC LIMIT 1000"
        )))
        .bind(from)
        .bind(to)
        .bind(inspector.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(inspection_row).collect()
    }

    /// Writes the visit's one evaluation, its photos and — for a bad finding — its case (unassigned, for the
    /// 12345 center to dispatch like a bad review), with the audit entries, in one transaction.
    pub async fn record_inspection(
        &self,
        inspection_id: i64,
        e: &NewInspectionEvaluation,
        photos: &[NewAttachment],
        open_case: bool,
        audit: &[NewAudit],
    ) -> Result<InspectionWrite, StoreError> {
        let mut tx = self.begin_write().await?;
        let written = sqlx::query(
            "INSERT INTO inspection_evaluation (inspection_id, staff_id, level, indicator_ids, staff_indicator_ids,
                 comment, findings, recorded_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (inspection_id) DO NOTHING",
        )
        .bind(inspection_id)
        .bind(e.staff_id)
        .bind(e.level)
        .bind(e.indicator_ids.clone())
        .bind(e.staff_indicator_ids.clone())
        .bind(e.comment.clone())
        .bind(e.findings.clone())
        .bind(e.recorded_by.clone())
        .bind(to_ms(e.at))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if written != 1 {
            tx.rollback().await?;
            return Ok(InspectionWrite::AlreadyRecorded);
        }
        for p in photos {
            insert_photo(&mut tx, inspection_id, p).await?;
        }
        let mut entries = audit.to_vec();
        let case_id = if open_case {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO bad_review_case (inspection_id, org_id, state, round, created_at)
                 SELECT id, org_id, 'unassigned', 0, $2 FROM inspection WHERE id = $1 RETURNING id",
            )
            .bind(inspection_id)
            .bind(to_ms(e.at))
            .fetch_one(&mut *tx)
            .await?;
            entries.push(NewAudit {
                at: e.at,
                actor: "system".into(),
                action: "case.open",
                target: format!("case:{id}"),
                details: format!(r#"{{"inspection_id":{inspection_id}}}"#),
            });
            Some(id)
        } else {
            None
        };
        crate::audit::append(&mut tx, &self.chain(), &entries).await?;
        tx.commit().await?;
        Ok(InspectionWrite::Recorded { case_id })
    }

    /// Adds a photo to a visit, with its audit entry, unless it has `max` already (`None` then, nothing written;
    /// counted inside the transaction, so parallel uploads cannot pass the limit).
    pub async fn add_inspection_photo(
        &self,
        inspection_id: i64,
        p: &NewAttachment,
        max: usize,
        audit: &NewAudit,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.begin_write().await?;
        // Taking the visit's row first makes parallel uploads to one visit wait for each other (PostgreSQL).
        let lock = match self.backend {
            crate::Backend::Postgres => "SELECT id FROM inspection WHERE id = $1 FOR UPDATE",
            crate::Backend::Sqlite => "SELECT id FROM inspection WHERE id = $1",
        };
        sqlx::query(lock).bind(inspection_id).execute(&mut *tx).await?;
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inspection_photo WHERE inspection_id = $1")
            .bind(inspection_id)
            .fetch_one(&mut *tx)
            .await?;
        if n >= max as i64 {
            tx.rollback().await?;
            return Ok(None);
        }
        let id = insert_photo(&mut tx, inspection_id, p).await?;
        crate::audit::append(&mut tx, &self.chain(), std::slice::from_ref(audit)).await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    pub async fn inspection_photos(&self, inspection_id: i64) -> Result<Vec<AttachmentRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, file_name, content_type, size, sm3, uploaded_by, at FROM inspection_photo
             WHERE inspection_id = $1 ORDER BY id",
        )
        .bind(inspection_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(attachment_row).collect()
    }

    /// A photo's bytes, if it belongs to that visit.
    pub async fn inspection_photo_data(
        &self,
        inspection_id: i64,
        photo_id: i64,
    ) -> Result<Option<(String, String, Vec<u8>)>, StoreError> {
        let row = sqlx::query(
            "SELECT file_name, content_type, data FROM inspection_photo WHERE inspection_id = $1 AND id = $2",
        )
        .bind(inspection_id)
        .bind(photo_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))).transpose()
    }
}
