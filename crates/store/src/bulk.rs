//! Bulk loading (the demo county, benchmarks): many records and their evaluations per statement and per
//! transaction, which is what makes a million records load in under a minute.

use crate::evaluations::{NewEvaluation, insert_evaluations};
use crate::records::NewServiceRecord;
use crate::time::to_ms;
use crate::{Store, StoreError};

pub type BulkRecord<'a> = NewServiceRecord<'a>;

/// An evaluation of the record at `record_index` in the same call; its record id is filled in on insert.
pub type BulkEvaluation = (usize, NewEvaluation);

/// Rows per INSERT: 17 parameters each stays under SQLite's 32,766 and PostgreSQL's 65,535.
const ROWS_PER_STATEMENT: usize = 1000;

impl Store {
    /// Inserts records, an invitation hash for some, and evaluations, all in one transaction, with one audit
    /// entry for the whole load.
    /// Returns the ids of the records in input order.
    pub async fn bulk_insert(
        &self,
        records: &[BulkRecord<'_>],
        invites: &[(usize, String)],
        evaluations: &[BulkEvaluation],
        audit: &crate::NewAudit,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.begin_write().await?;
        let ids = insert_records(&mut tx, self.backend, records).await?;
        for (idx, hash) in invites {
            sqlx::query(
                "INSERT INTO evaluation_invite (service_record_id, token_hash, created_at) VALUES ($1, $2, $3)",
            )
            .bind(ids[*idx])
            .bind(hash.as_str())
            .bind(to_ms(records[*idx].created_at))
            .execute(&mut *tx)
            .await?;
        }
        let completed: Vec<i64> =
            records.iter().zip(&ids).filter(|(r, _)| r.completed_at.is_some()).map(|(_, id)| *id).collect();
        crate::rollups::count_completions(&mut tx, self.backend, &completed).await?;
        crate::upstream::queue_records(&mut tx, self.backend, &completed).await?;
        let rows: Vec<NewEvaluation> =
            evaluations.iter().map(|(idx, e)| NewEvaluation { service_record_id: ids[*idx], ..e.clone() }).collect();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let inserted = insert_evaluations(&mut tx, self.backend, chunk).await?;
            // The demo's bad reviews have their cases, as live ones do (one load entry audits them all).
            let bad = crate::evaluations::bad_review_ids(chunk, &inserted);
            crate::cases::open_cases(&mut tx, self.backend, &bad).await?;
        }
        // A bulk load is one act: one entry says what it loaded, not one per row.
        crate::audit::append(&mut tx, &self.chain(), std::slice::from_ref(audit)).await?;
        tx.commit().await?;
        Ok(ids)
    }
}

/// Inserts records, many per statement; returns their ids in input order.
pub(crate) async fn insert_records(
    conn: &mut sqlx::AnyConnection,
    backend: crate::Backend,
    records: &[BulkRecord<'_>],
) -> Result<Vec<i64>, StoreError> {
    let mut ids = Vec::with_capacity(records.len());
    for chunk in records.chunks(ROWS_PER_STATEMENT) {
        let mut sql = String::from(
            "INSERT INTO service_record (source_system, record_number, item_id, org_id, window_id, staff_id,
                    applicant_kind, applicant_key_id, applicant_name_enc, applicant_id_number_enc,
                    applicant_mobile_enc, applicant_id_number_idx, applicant_mobile_idx, received_at, completed_at,
                    default_due_at, created_at, platform_id) VALUES ",
        );
        crate::sql::push_rows(&mut sql, backend, chunk.len(), 18);
        sql.push_str(" RETURNING id, record_number");
        let mut q = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql));
        for r in chunk {
            q = q
                .bind(r.source_system)
                .bind(r.record_number)
                .bind(r.item_id)
                .bind(r.org_id)
                .bind(r.window_id)
                .bind(r.staff_id)
                .bind(r.applicant_kind)
                .bind(r.applicant.key_id)
                .bind(r.applicant.name_enc)
                .bind(r.applicant.id_number_enc)
                .bind(r.applicant.mobile_enc)
                .bind(r.applicant.id_number_idx)
                .bind(r.applicant.mobile_idx)
                .bind(to_ms(r.received_at))
                .bind(r.completed_at.map(to_ms))
                .bind(r.default_due_at.map(to_ms))
                .bind(to_ms(r.created_at))
                .bind(r.platform_id);
        }
        let returned = q.fetch_all(&mut *conn).await?;
        // RETURNING order is not promised by PostgreSQL: map back by record number.
        let by_number: std::collections::HashMap<&str, i64> =
            returned.iter().map(|(id, n)| (n.as_str(), *id)).collect();
        for r in chunk {
            ids.push(
                *by_number
                    .get(r.record_number)
                    .ok_or_else(|| StoreError::Corrupt(format!("bulk insert lost record {}", r.record_number)))?,
            );
        }
    }
    Ok(ids)
}
