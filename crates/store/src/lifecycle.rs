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

    /// Which of a record's entries are retired, in one round trip (registration's hot path): the kinds among
    /// item, organization, window and staff member whose given code names a retired entry.
    pub async fn retired_among(
        &self,
        item: &str,
        org: &str,
        window: Option<&str>,
        staff: Option<&str>,
    ) -> Result<Vec<CatalogTable>, StoreError> {
        let kinds: Vec<String> = sqlx::query_scalar(
            "SELECT 'item' FROM service_item WHERE code = $1 AND retired_at IS NOT NULL
             UNION ALL SELECT 'org' FROM org WHERE code = $2 AND retired_at IS NOT NULL
             UNION ALL SELECT 'window' FROM service_window WHERE code = $3 AND retired_at IS NOT NULL
             UNION ALL SELECT 'staff' FROM staff WHERE staff_number = $4 AND retired_at IS NOT NULL",
        )
        .bind(item.to_string())
        .bind(org.to_string())
        .bind(window.unwrap_or("").to_string())
        .bind(staff.unwrap_or("").to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(kinds
            .iter()
            .filter_map(|k| match k.as_str() {
                "item" => Some(CatalogTable::Item),
                "org" => Some(CatalogTable::Org),
                "window" => Some(CatalogTable::Window),
                "staff" => Some(CatalogTable::Staff),
                _ => None,
            })
            .collect())
    }

    /// The codes of retired entries of a kind (to leave them out of pickers and lists of what can be chosen).
    pub async fn retired_codes(&self, table: CatalogTable) -> Result<HashSet<String>, StoreError> {
        let Some((t, key)) = table_key(table) else { return Ok(HashSet::new()) };
        let sql = format!("SELECT {key} FROM {t} WHERE retired_at IS NOT NULL");
        Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?.into_iter().collect())
    }
}

/// Why an organization could not be moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveRefusal {
    UnknownOrg,
    UnknownParent,
    /// Under itself or one of its own descendants.
    IntoOwnSubtree,
    /// The county itself has no parent to move under.
    Root,
    /// Already under that parent.
    Unchanged,
}

impl Store {
    /// Moves an organization (and its subtree) under another parent: its parent and every path of the subtree
    /// (`/1/5/23/`), and the paths copied onto integrity flags and referrals, in one transaction with its audit
    /// entry. Figures follow by themselves: rollups are kept per organization and summed by path when read.
    pub async fn move_org(
        &self,
        code: &str,
        parent_code: &str,
        audit: &NewAudit,
    ) -> Result<Result<(String, String), MoveRefusal>, StoreError> {
        let mut tx = self.begin_write().await?;
        let org: Option<(i64, Option<i64>, String)> =
            sqlx::query_as("SELECT id, parent_id, path FROM org WHERE code = $1")
                .bind(code)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((id, old_parent, old_path)) = org else { return Ok(Err(MoveRefusal::UnknownOrg)) };
        let parent: Option<(i64, String)> = sqlx::query_as("SELECT id, path FROM org WHERE code = $1")
            .bind(parent_code)
            .fetch_optional(&mut *tx)
            .await?;
        let Some((parent_id, parent_path)) = parent else { return Ok(Err(MoveRefusal::UnknownParent)) };
        if old_parent.is_none() {
            return Ok(Err(MoveRefusal::Root));
        }
        if parent_path.starts_with(&old_path) {
            return Ok(Err(MoveRefusal::IntoOwnSubtree));
        }
        if old_parent == Some(parent_id) {
            return Ok(Err(MoveRefusal::Unchanged));
        }
        let new_path = format!("{parent_path}{id}/");
        sqlx::query("UPDATE org SET parent_id = $1 WHERE id = $2").bind(parent_id).bind(id).execute(&mut *tx).await?;
        let rest = i64::try_from(old_path.chars().count()).unwrap_or(0) + 1;
        for (table, column) in [("org", "path"), ("integrity_flag", "org_path"), ("referral", "org_path")] {
            let sql = format!(
                "UPDATE {table} SET {column} = $1 || SUBSTR({column}, CAST($2 AS INTEGER)) WHERE {column} LIKE $3"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(new_path.clone())
                .bind(rest)
                .bind(format!("{old_path}%"))
                .execute(&mut *tx)
                .await?;
        }
        crate::audit::append(&mut tx, &self.chain(), std::slice::from_ref(audit)).await?;
        tx.commit().await?;
        Ok(Ok((old_path, new_path)))
    }
}
