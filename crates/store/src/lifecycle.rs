//! Retiring and reactivating catalog entries (issue 17 §2): a guarded change of `retired_at` with its audit
//! entry, what still uses an entry (so that a retirement is refused with the reason), and which entries are
//! retired (for registration and the pickers).

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::catalog_admin::CatalogTable;
use crate::time::to_ms;
use crate::{NewAudit, Store, StoreError};

/// The table and key column of a retirable kind (platforms are not retired: they are renamed or left).
fn table_key(t: CatalogTable) -> Option<(&'static str, &'static str)> {
    Some(match t {
        CatalogTable::Org => ("org", "code"),
        CatalogTable::Hall => ("hall", "code"),
        CatalogTable::Window => ("service_window", "code"),
        CatalogTable::Staff => ("staff", "staff_number"),
        CatalogTable::Item => ("service_item", "code"),
        CatalogTable::Platform => return None,
    })
}

impl Store {
    /// Retires (`at` = Some) or reactivates (None) the entry with this code, with its audit entry; `false` when
    /// it already was in that state (nothing written).
    pub async fn set_retired(
        &self,
        table: CatalogTable,
        code: &str,
        at: Option<DateTime<Utc>>,
        audit: &NewAudit,
    ) -> Result<bool, StoreError> {
        let Some((t, key)) = table_key(table) else { return Ok(false) };
        let guard = if at.is_some() { "retired_at IS NULL" } else { "retired_at IS NOT NULL" };
        let sql = format!("UPDATE {t} SET retired_at = $1 WHERE {key} = $2 AND {guard}");
        let statement = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(at.map(to_ms)).bind(code.to_string());
        self.update_one_audited(statement, audit).await
    }

    /// What still uses an entry and must be retired or closed first: (what, how many), only those with some.
    pub async fn uses_of(&self, table: CatalogTable, code: &str) -> Result<Vec<(&'static str, i64)>, StoreError> {
        let checks: &[(&'static str, &'static str)] = match table {
            CatalogTable::Org => &[
                (
                    "下级机构",
                    "SELECT COUNT(*) FROM org c JOIN org p ON p.id = c.parent_id WHERE p.code = $1 AND c.retired_at IS NULL",
                ),
                (
                    "在用窗口",
                    "SELECT COUNT(*) FROM service_window w JOIN org o ON o.id = w.org_id WHERE o.code = $1 AND w.retired_at IS NULL",
                ),
                (
                    "在岗工作人员",
                    "SELECT COUNT(*) FROM staff s JOIN org o ON o.id = s.org_id WHERE o.code = $1 AND s.retired_at IS NULL",
                ),
                (
                    "未办结的差评工单",
                    "SELECT COUNT(*) FROM bad_review_case c JOIN org o ON o.id = COALESCE(c.unit_id, c.org_id)
                     WHERE o.code = $1 AND c.state NOT IN ('closed', 'closed_as_appealed')",
                ),
            ],
            CatalogTable::Hall => &[(
                "在用窗口",
                "SELECT COUNT(*) FROM service_window w JOIN hall h ON h.id = w.hall_id WHERE h.code = $1 AND w.retired_at IS NULL",
            )],
            CatalogTable::Window => &[(
                "在用的评价器",
                "SELECT COUNT(*) FROM hall_device d JOIN service_window w ON w.id = d.window_id
                 WHERE w.code = $1 AND d.revoked_at IS NULL",
            )],
            CatalogTable::Staff => &[(
                "未办结的差评工单",
                "SELECT COUNT(*) FROM bad_review_case c JOIN service_record r ON r.id = c.service_record_id
                 JOIN staff s ON s.id = r.staff_id WHERE s.staff_number = $1 AND c.state NOT IN ('closed', 'closed_as_appealed')",
            )],
            CatalogTable::Item | CatalogTable::Platform => &[],
        };
        let mut out = Vec::new();
        for (what, sql) in checks {
            let n: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(*sql)).bind(code.to_string()).fetch_one(&self.pool).await?;
            if n > 0 {
                out.push((*what, n));
            }
        }
        Ok(out)
    }

    /// Whether the entry with this code is retired (`None` when there is none).
    pub async fn is_retired(&self, table: CatalogTable, code: &str) -> Result<Option<bool>, StoreError> {
        let Some((t, key)) = table_key(table) else { return Ok(Some(false)) };
        let sql = format!("SELECT retired_at FROM {t} WHERE {key} = $1");
        let at: Option<Option<i64>> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(code.to_string()).fetch_optional(&self.pool).await?;
        Ok(at.map(|a| a.is_some()))
    }

    /// The codes of retired entries of a kind (to leave them out of pickers and lists of what can be chosen).
    pub async fn retired_codes(&self, table: CatalogTable) -> Result<HashSet<String>, StoreError> {
        let Some((t, key)) = table_key(table) else { return Ok(HashSet::new()) };
        let sql = format!("SELECT {key} FROM {t} WHERE retired_at IS NOT NULL");
        Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?.into_iter().collect())
    }
}
