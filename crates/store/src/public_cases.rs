//! The public portal's list of bad reviews and how they were handled (issue 6 §5, R6.2): closed cases only,
//! with nothing that names or describes a person — the annex criteria ticked (standard texts), the unit, the
//! kinds of steps taken and when it closed. Free text (the comment, the unit's notes) never leaves here.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::time::{from_ms, to_ms};
use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicCaseRow {
    pub case_id: i64,
    pub evaluated_at: DateTime<Utc>,
    pub level: String,
    pub indicator_ids: String,
    pub staff_indicator_ids: String,
    pub item_name: String,
    pub unit_name: String,
    pub closed_at: Option<DateTime<Utc>>,
    pub overdue: bool,
    /// The kinds of every step, in order (`contact`, `finding`, `rectified` …).
    pub step_kinds: Vec<String>,
}

impl Store {
    /// Closed cases (not those closed because an appeal found the review unfounded), newest first, ids below
    /// `before`, closed before `now`.
    pub async fn public_cases(
        &self,
        before: Option<i64>,
        limit: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<PublicCaseRow>, StoreError> {
        let rows = sqlx::query(
            // The page's ids first, then their columns: computing the closing time for every closed case
            // before sorting them took 90 ms at 1M on SQLite.
            "SELECT c.id, e.created_at, e.level, e.indicator_ids, e.staff_indicator_ids, i.name AS item_name,
                COALESCE(u.name, o.name) AS unit_name,
                CASE WHEN c.overdue_at IS NULL THEN 0 ELSE 1 END AS overdue,
                (SELECT MAX(s.at) FROM case_step s WHERE s.case_id = c.id AND s.kind = 'close') AS closed_at
             FROM (SELECT id FROM bad_review_case WHERE state = 'closed' AND evaluation_id IS NOT NULL AND id < $1 AND created_at <= $2
                   ORDER BY id DESC LIMIT $3) p
             JOIN bad_review_case c ON c.id = p.id
             JOIN evaluation e ON e.id = c.evaluation_id
             JOIN service_record r ON r.id = c.service_record_id
             JOIN service_item i ON i.id = r.item_id
             JOIN org o ON o.id = c.org_id
             LEFT JOIN org u ON u.id = c.unit_id
             ORDER BY c.id DESC",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(to_ms(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            out.push(PublicCaseRow {
                case_id: id,
                evaluated_at: from_ms(r.try_get("created_at")?),
                level: r.try_get("level")?,
                indicator_ids: r.try_get("indicator_ids")?,
                staff_indicator_ids: r.try_get("staff_indicator_ids")?,
                item_name: r.try_get("item_name")?,
                unit_name: r.try_get("unit_name")?,
                closed_at: r.try_get::<Option<i64>, _>("closed_at")?.map(from_ms),
                overdue: r.try_get::<i64, _>("overdue")? != 0,
                step_kinds: Vec::new(),
            });
        }
        if let (Some(first), Some(last)) = (out.first(), out.last()) {
            let (hi, lo) = (first.case_id, last.case_id);
            let steps =
                sqlx::query("SELECT case_id, kind FROM case_step WHERE case_id BETWEEN $1 AND $2 ORDER BY case_id, id")
                    .bind(lo)
                    .bind(hi)
                    .fetch_all(&self.pool)
                    .await?;
            for s in &steps {
                let id: i64 = s.try_get("case_id")?;
                if let Some(row) = out.iter_mut().find(|r| r.case_id == id) {
                    row.step_kinds.push(s.try_get("kind")?);
                }
            }
        }
        Ok(out)
    }
}
