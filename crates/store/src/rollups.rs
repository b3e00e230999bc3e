//! Rollups (issue 7 §7): counts per business day and cut, kept in the transaction of each change they
//! count, so statistics never scan the evaluations. Every statement that maintains them is here, next to
//! the recomputation they must always equal (`rebuild_rollups`, `rollup_mismatches`).

use std::collections::BTreeMap;

use sqlx::{AnyConnection, Row};

use crate::{Backend, Store, StoreError};

/// The business day (UTC+8) of an epoch-ms column, as days since 1970-01-01: the one definition in SQL.
macro_rules! day_of {
    ($col:literal) => {
        concat!("((", $col, " + 28800000) / 86400000)")
    };
}

const EVALUATION_KEY: &str = "day, org_id, window_id, staff_id, item_id, channel, level, is_default, invalidated";
const RECORD_KEY: &str = "day, org_id, window_id, staff_id, item_id";

/// Counts these new first evaluations (all valid: just inserted).
pub(crate) async fn count_evaluations(
    conn: &mut AnyConnection,
    backend: Backend,
    evaluation_ids: &[i64],
) -> Result<(), StoreError> {
    for chunk in evaluation_ids.chunks(1000) {
        let mut sql = format!(
            "INSERT INTO evaluation_rollup ({EVALUATION_KEY}, n)
             SELECT {day}, r.org_id, COALESCE(r.window_id, 0), COALESCE(r.staff_id, 0), r.item_id, e.channel,
                 e.level, e.is_default, 0, COUNT(*)
             FROM evaluation e JOIN service_record r ON r.id = e.service_record_id
             WHERE e.round = 1 AND e.id IN ",
            day = day_of!("e.created_at"),
        );
        crate::sql::push_tuple(&mut sql, backend, 1, chunk.len());
        sql.push_str(&format!(
            " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
             ON CONFLICT ({EVALUATION_KEY}) DO UPDATE SET n = evaluation_rollup.n + excluded.n"
        ));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Moves an invalidated evaluation from the valid counts to the invalidated ones.
pub(crate) async fn count_invalidation(conn: &mut AnyConnection, evaluation_id: i64) -> Result<(), StoreError> {
    sqlx::query(concat!(
        "UPDATE evaluation_rollup SET n = n - 1
         WHERE invalidated = 0 AND (day, org_id, window_id, staff_id, item_id, channel, level, is_default) =
             (SELECT ",
        day_of!("e.created_at"),
        ", r.org_id, COALESCE(r.window_id, 0), COALESCE(r.staff_id, 0), r.item_id, e.channel, e.level,
                 e.is_default
              FROM evaluation e JOIN service_record r ON r.id = e.service_record_id WHERE e.id = $1)"
    ))
    .bind(evaluation_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(concat!(
        "INSERT INTO evaluation_rollup (day, org_id, window_id, staff_id, item_id, channel, level, is_default,
             invalidated, n)
         SELECT ",
        day_of!("e.created_at"),
        ", r.org_id, COALESCE(r.window_id, 0), COALESCE(r.staff_id, 0), r.item_id, e.channel, e.level,
             e.is_default, 1, 1
         FROM evaluation e JOIN service_record r ON r.id = e.service_record_id WHERE e.id = $1
         ON CONFLICT (day, org_id, window_id, staff_id, item_id, channel, level, is_default, invalidated)
         DO UPDATE SET n = evaluation_rollup.n + 1"
    ))
    .bind(evaluation_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Counts these records as completed (the caller passes each record once, when it becomes completed).
pub(crate) async fn count_completions(
    conn: &mut AnyConnection,
    backend: Backend,
    record_ids: &[i64],
) -> Result<(), StoreError> {
    for chunk in record_ids.chunks(1000) {
        let mut sql = format!(
            "INSERT INTO record_rollup ({RECORD_KEY}, n)
             SELECT {day}, org_id, COALESCE(window_id, 0), COALESCE(staff_id, 0), item_id, COUNT(*)
             FROM service_record WHERE completed_at IS NOT NULL AND id IN ",
            day = day_of!("completed_at"),
        );
        crate::sql::push_tuple(&mut sql, backend, 1, chunk.len());
        sql.push_str(&format!(
            " GROUP BY 1, 2, 3, 4, 5 ON CONFLICT ({RECORD_KEY}) DO UPDATE SET n = record_rollup.n + excluded.n"
        ));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The recomputation the rollups must equal, from the rows themselves.
const RECOMPUTE_EVALUATIONS: &str = concat!(
    "SELECT ",
    day_of!("e.created_at"),
    " AS day, r.org_id, COALESCE(r.window_id, 0) AS window_id, COALESCE(r.staff_id, 0) AS staff_id, r.item_id,
        e.channel, e.level, e.is_default, CASE WHEN i.evaluation_id IS NULL THEN 0 ELSE 1 END AS invalidated,
        COUNT(*) AS n
     FROM evaluation e
     JOIN service_record r ON r.id = e.service_record_id
     LEFT JOIN evaluation_invalidation i ON i.evaluation_id = e.id
     WHERE e.round = 1
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9"
);
const RECOMPUTE_RECORDS: &str = concat!(
    "SELECT ",
    day_of!("completed_at"),
    " AS day, org_id, COALESCE(window_id, 0) AS window_id, COALESCE(staff_id, 0) AS staff_id, item_id, COUNT(*) AS n
     FROM service_record WHERE completed_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5"
);

/// What `hcp stats rebuild` did.
#[derive(Debug, Clone, Copy, Default)]
pub struct RebuildReport {
    pub evaluation_rows: u64,
    pub record_rows: u64,
}

type Counts = BTreeMap<String, i64>;

async fn counts(store: &Store, sql: &'static str, key_cols: usize) -> Result<Counts, StoreError> {
    let rows = sqlx::query(sql).fetch_all(&store.pool).await?;
    let mut out = Counts::new();
    for r in &rows {
        let mut key = String::new();
        for c in 0..key_cols {
            let part = match r.try_get::<i64, _>(c) {
                Ok(v) => v.to_string(),
                Err(_) => r.try_get::<String, _>(c)?,
            };
            key.push_str(&part);
            key.push('|');
        }
        let n: i64 = r.try_get(key_cols)?;
        if n != 0 {
            out.insert(key, n);
        }
    }
    Ok(out)
}

/// Counts of one cut read from the rollups: (level, is_default, invalidated, n) and completed records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CutCounts {
    pub evaluations: Vec<(String, bool, bool, i64)>,
    pub completed_records: i64,
}

impl Store {
    /// The counts of an org subtree (`/1/5/`) over business days `from_day ..= to_day` (days since 1970-01-01,
    /// UTC+8), from the rollups.
    pub async fn cut_counts(&self, org_path: &str, from_day: i64, to_day: i64) -> Result<CutCounts, StoreError> {
        let rows = sqlx::query(
            "SELECT x.level, x.is_default, x.invalidated, CAST(SUM(x.n) AS BIGINT) AS n
             FROM evaluation_rollup x JOIN org o ON o.id = x.org_id
             WHERE o.path LIKE $1 AND x.day >= $2 AND x.day <= $3
             GROUP BY x.level, x.is_default, x.invalidated",
        )
        .bind(format!("{org_path}%"))
        .bind(from_day)
        .bind(to_day)
        .fetch_all(&self.pool)
        .await?;
        let evaluations = rows
            .iter()
            .map(|r| {
                Ok((
                    r.try_get::<String, _>(0)?,
                    r.try_get::<i64, _>(1)? != 0,
                    r.try_get::<i64, _>(2)? != 0,
                    r.try_get::<i64, _>(3)?,
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        let completed_records: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(SUM(x.n) AS BIGINT) FROM record_rollup x JOIN org o ON o.id = x.org_id
             WHERE o.path LIKE $1 AND x.day >= $2 AND x.day <= $3",
        )
        .bind(format!("{org_path}%"))
        .bind(from_day)
        .bind(to_day)
        .fetch_one(&self.pool)
        .await?;
        Ok(CutCounts { evaluations, completed_records: completed_records.unwrap_or(0) })
    }

    /// Recomputes both rollups from the rows, in one transaction (readers see the old or the new, never a
    /// half). For `hcp stats rebuild`, after a restore or to repair.
    pub async fn rebuild_rollups(&self) -> Result<RebuildReport, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM evaluation_rollup").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM record_rollup").execute(&mut *tx).await?;
        let e = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO evaluation_rollup ({EVALUATION_KEY}, n) {RECOMPUTE_EVALUATIONS}"
        )))
        .execute(&mut *tx)
        .await?;
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO record_rollup ({RECORD_KEY}, n) {RECOMPUTE_RECORDS}"
        )))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(RebuildReport { evaluation_rows: e.rows_affected(), record_rows: r.rows_affected() })
    }

    /// Keys where the rollups differ from a full recomputation (empty when they agree), for `hcp stats check`
    /// and the tests.
    pub async fn rollup_mismatches(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for (stored_sql, recomputed_sql, cols, name) in [
            (
                "SELECT day, org_id, window_id, staff_id, item_id, channel, level, is_default, invalidated, n
                 FROM evaluation_rollup",
                RECOMPUTE_EVALUATIONS,
                9,
                "evaluation_rollup",
            ),
            (
                "SELECT day, org_id, window_id, staff_id, item_id, n FROM record_rollup",
                RECOMPUTE_RECORDS,
                5,
                "record_rollup",
            ),
        ] {
            let stored = counts(self, stored_sql, cols).await?;
            let fresh = counts(self, recomputed_sql, cols).await?;
            for (k, n) in &fresh {
                if stored.get(k) != Some(n) {
                    out.push(format!("{name} {k} stored {:?}, recomputed {n}", stored.get(k)));
                }
            }
            for (k, n) in &stored {
                if !fresh.contains_key(k) {
                    out.push(format!("{name} {k} stored {n}, recomputed 0"));
                }
            }
        }
        Ok(out)
    }
}
