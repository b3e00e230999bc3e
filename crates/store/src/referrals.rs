//! Clues of suspected misconduct referred to the bodies that handle them (issue 16 §6, plan §十二), and the
//! evaluations whose comments suggest one.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::time::{from_ms, to_ms};
use crate::{NewAudit, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralRow {
    pub id: i64,
    pub subject_kind: String,
    pub subject_id: i64,
    pub receiving_body: String,
    pub reference: String,
    pub referred_on: String,
    pub referred_by: String,
    pub org_path: String,
    pub created_at: DateTime<Utc>,
    pub outcome: Option<String>,
    pub outcome_by: Option<String>,
    pub outcome_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewReferral<'a> {
    pub subject_kind: &'a str,
    pub subject_id: i64,
    pub receiving_body: &'a str,
    pub reference: &'a str,
    pub referred_on: &'a str,
    pub referred_by: &'a str,
    /// The organization of the subject.
    pub org_path: &'a str,
    pub at: DateTime<Utc>,
}

/// An evaluation with a comment, for the misconduct suggestions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentRow {
    pub evaluation_id: i64,
    pub record_number: String,
    pub org_path: String,
    pub comment: String,
    pub created_at: DateTime<Utc>,
}

fn referral_row(r: &AnyRow) -> Result<ReferralRow, StoreError> {
    Ok(ReferralRow {
        id: r.try_get("id")?,
        subject_kind: r.try_get("subject_kind")?,
        subject_id: r.try_get("subject_id")?,
        receiving_body: r.try_get("receiving_body")?,
        reference: r.try_get("reference")?,
        referred_on: r.try_get("referred_on")?,
        referred_by: r.try_get("referred_by")?,
        org_path: r.try_get("org_path")?,
        created_at: from_ms(r.try_get("created_at")?),
        outcome: r.try_get("outcome")?,
        outcome_by: r.try_get("outcome_by")?,
        outcome_at: r.try_get::<Option<i64>, _>("outcome_at")?.map(from_ms),
    })
}

const REFERRAL_COLS: &str = "id, subject_kind, subject_id, receiving_body, reference, referred_on, referred_by, \
    org_path, created_at, outcome, outcome_by, outcome_at";

impl Store {
    /// The organization path of a referral's subject (an evaluation's record's, a case's, a flag's); `None`
    /// when there is no such subject.
    pub async fn referral_subject_path(&self, kind: &str, id: i64) -> Result<Option<String>, StoreError> {
        let sql = match kind {
            "evaluation" => {
                "SELECT o.path FROM evaluation e JOIN service_record r ON r.id = e.service_record_id
                 JOIN org o ON o.id = r.org_id WHERE e.id = $1"
            }
            "case" => "SELECT o.path FROM bad_review_case c JOIN org o ON o.id = c.org_id WHERE c.id = $1",
            "flag" => "SELECT org_path FROM integrity_flag WHERE id = $1",
            _ => return Ok(None),
        };
        Ok(sqlx::query_scalar(sql).bind(id).fetch_optional(&self.pool).await?)
    }

    pub async fn insert_referral(&self, r: &NewReferral<'_>, audit: &NewAudit) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO referral (subject_kind, subject_id, receiving_body, reference, referred_on, referred_by,
                 org_path, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(r.subject_kind)
        .bind(r.subject_id)
        .bind(r.receiving_body)
        .bind(r.reference)
        .bind(r.referred_on)
        .bind(r.referred_by)
        .bind(r.org_path)
        .bind(to_ms(r.at))
        .fetch_one(&mut *tx)
        .await?;
        let entry = NewAudit { target: format!("referral:{id}"), ..audit.clone() };
        crate::audit::append(&mut tx, &self.chain(), &[entry]).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Referrals, newest first: all of them, or only those `referred_by` one person.
    pub async fn list_referrals(&self, referred_by: Option<&str>) -> Result<Vec<ReferralRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REFERRAL_COLS} FROM referral WHERE ($1 = '' OR referred_by = $1) ORDER BY id DESC LIMIT 500"
        )))
        .bind(referred_by.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(referral_row).collect()
    }

    pub async fn referral_by_id(&self, id: i64) -> Result<Option<ReferralRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {REFERRAL_COLS} FROM referral WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(referral_row).transpose()
    }

    /// Records a referral's outcome, once, with its audit entry; `false` when it has one already.
    pub async fn record_referral_outcome(
        &self,
        id: i64,
        outcome: &str,
        by: &str,
        audit: &NewAudit,
    ) -> Result<bool, StoreError> {
        let statement = sqlx::query(
            "UPDATE referral SET outcome = $1, outcome_by = $2, outcome_at = $3 WHERE id = $4 AND outcome IS NULL",
        )
        .bind(outcome)
        .bind(by)
        .bind(to_ms(audit.at))
        .bind(id);
        self.update_one_audited(statement, audit).await
    }

    /// First evaluations with a comment between two instants, for the misconduct suggestions.
    pub async fn commented_evaluations(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CommentRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.id, r.record_number, o.path, e.comment, e.created_at
             FROM evaluation e JOIN service_record r ON r.id = e.service_record_id JOIN org o ON o.id = r.org_id
             WHERE e.round = 1 AND e.comment IS NOT NULL AND e.created_at >= $1 AND e.created_at < $2
             ORDER BY e.created_at DESC",
        )
        .bind(to_ms(from))
        .bind(to_ms(to))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CommentRow {
                    evaluation_id: r.try_get(0)?,
                    record_number: r.try_get(1)?,
                    org_path: r.try_get(2)?,
                    comment: r.try_get(3)?,
                    created_at: from_ms(r.try_get(4)?),
                })
            })
            .collect()
    }
}
