//! A history import (issue 16 §2): an earlier system's records with their evaluations and original times,
//! written in one transaction as if they had come live — rollups, cases for bad reviews and an audit entry per
//! evaluation — or not at all. Not queued for the upper level: the earlier system reported its own history.

use std::collections::{HashMap, HashSet};

use sqlx::Row;

use crate::bulk::{BulkEvaluation, BulkRecord, insert_records};
use crate::evaluations::{NewEvaluation, bad_review_ids, insert_evaluations_with};
use crate::{NewAudit, Store, StoreError};

/// The catalog by code, as a history file refers to it.
#[derive(Debug, Clone, Default)]
pub struct HistoryCatalog {
    pub items: HashMap<String, i64>,
    /// Code → (id, name).
    pub orgs: HashMap<String, (i64, String)>,
    /// Code → (id, org id).
    pub windows: HashMap<String, (i64, i64)>,
    /// Staff number → (id, org id, window id).
    pub staff: HashMap<String, (i64, i64, Option<i64>)>,
    pub platforms: HashMap<String, i64>,
    /// Hall devices and kiosks: their codes.
    pub devices: HashSet<String>,
    /// Accounts holding the hotline agent's role (a hotline line may name its agent).
    pub hotline_agents: HashSet<String>,
}

/// How many rows a history import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HistoryWritten {
    pub records: usize,
    pub evaluations: usize,
    pub cases: usize,
}

impl Store {
    pub async fn history_catalog(&self) -> Result<HistoryCatalog, StoreError> {
        let mut c = HistoryCatalog::default();
        for r in sqlx::query("SELECT code, id FROM service_item").fetch_all(&self.pool).await? {
            c.items.insert(r.try_get(0)?, r.try_get(1)?);
        }
        for r in sqlx::query("SELECT code, id, name FROM org").fetch_all(&self.pool).await? {
            c.orgs.insert(r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?));
        }
        for r in sqlx::query("SELECT code, id, org_id FROM service_window").fetch_all(&self.pool).await? {
            c.windows.insert(r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?));
        }
        for r in sqlx::query("SELECT staff_number, id, org_id, window_id FROM staff").fetch_all(&self.pool).await? {
            c.staff.insert(r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?));
        }
        for r in sqlx::query("SELECT code, id FROM platform").fetch_all(&self.pool).await? {
            c.platforms.insert(r.try_get(0)?, r.try_get(1)?);
        }
        for r in sqlx::query("SELECT code FROM hall_device UNION SELECT code FROM kiosk").fetch_all(&self.pool).await? {
            c.devices.insert(r.try_get(0)?);
        }
        let agents = "SELECT DISTINCT u.username FROM app_user u JOIN role_binding b ON b.user_id = u.id
                      WHERE b.role = 'hotline_agent' AND u.disabled_at IS NULL";
        for r in sqlx::query(agents).fetch_all(&self.pool).await? {
            c.hotline_agents.insert(r.try_get(0)?);
        }
        Ok(c)
    }

    /// Which of these record numbers are stored already.
    pub async fn existing_record_numbers(&self, numbers: &[&str]) -> Result<HashSet<String>, StoreError> {
        let mut found = HashSet::new();
        for chunk in numbers.chunks(500) {
            let mut sql = String::from("SELECT record_number FROM service_record WHERE record_number IN ");
            crate::sql::push_tuple(&mut sql, self.backend, 1, chunk.len());
            let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
            for n in chunk {
                q = q.bind(n.to_string());
            }
            found.extend(q.fetch_all(&self.pool).await?);
        }
        Ok(found)
    }

    /// Writes a checked history: records, their evaluations (with what they came with), cases for the bad
    /// reviews (no notices, the dispatch clock from now), one audit entry for the import and one per evaluation
    /// (`evaluation_audit` makes it from the evaluation's id and the index of its record). A record number
    /// taken meanwhile fails the whole file.
    pub async fn import_history(
        &self,
        records: &[BulkRecord<'_>],
        evaluations: &[BulkEvaluation],
        audit: &NewAudit,
        evaluation_audit: &(dyn Fn(i64, usize) -> NewAudit + Send + Sync),
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<HistoryWritten, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut ids = Vec::with_capacity(records.len());
        for chunk in records.chunks(5000) {
            ids.extend(insert_records(&mut tx, self.backend, chunk).await?);
            progress(ids.len());
        }
        let completed: Vec<i64> =
            records.iter().zip(&ids).filter(|(r, _)| r.completed_at.is_some()).map(|(_, id)| *id).collect();
        // Not queued for the upper level: the earlier system reported its own history.
        crate::rollups::count_completions(&mut tx, self.backend, &completed).await?;
        let index_of: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let mut entries = vec![audit.clone()];
        let mut written = HistoryWritten { records: ids.len(), ..HistoryWritten::default() };
        let rows: Vec<NewEvaluation> =
            evaluations.iter().map(|(idx, e)| NewEvaluation { service_record_id: ids[*idx], ..e.clone() }).collect();
        for chunk in rows.chunks(1000) {
            let inserted = insert_evaluations_with(&mut tx, self.backend, chunk, false).await?;
            let mut sorted: Vec<(i64, i64)> = inserted.iter().map(|(r, e)| (*r, *e)).collect();
            sorted.sort_unstable();
            for (record_id, evaluation_id) in sorted {
                entries.push(evaluation_audit(evaluation_id, index_of[&record_id]));
            }
            written.evaluations += inserted.len();
            let bad = bad_review_ids(chunk, &inserted);
            let opened = crate::cases::open_imported_cases(&mut tx, self.backend, &bad, audit.at).await?;
            written.cases += opened.len();
            entries.extend(opened);
        }
        crate::audit::append(&mut tx, &self.chain(), &entries).await?;
        tx.commit().await?;
        progress(ids.len());
        Ok(written)
    }
}
