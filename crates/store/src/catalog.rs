//! The catalog: organizations (a tree), halls, windows, staff and service items (R3, R4).

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::catalog_admin::CatalogEntry;
use crate::{Store, StoreError};

#[derive(Debug, Clone)]
pub struct NewOrg<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub parent_id: Option<i64>,
    /// 统一社会信用代码 and 12-digit 行政区划代码, for the upper level (checked by the caller).
    pub credit_code: Option<&'a str>,
    pub area_code: Option<&'a str>,
}

#[derive(Debug, Clone)]
pub struct OrgRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_code: Option<String>,
    pub path: String,
    pub credit_code: Option<String>,
    pub area_code: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewHall<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub org_id: i64,
}

#[derive(Debug, Clone)]
pub struct NewWindow<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub hall_id: i64,
    pub org_id: i64,
}

#[derive(Debug, Clone)]
pub struct WindowRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub hall_name: String,
    pub org_code: String,
    pub org_name: String,
    pub org_path: String,
}

const WINDOW_SELECT: &str = "SELECT w.id, w.code, w.name, w.kind, h.name AS hall_name, o.code AS org_code,
    o.name AS org_name, o.path AS org_path
  FROM service_window w JOIN hall h ON h.id = w.hall_id JOIN org o ON o.id = w.org_id";

fn window_row(r: &sqlx::any::AnyRow) -> Result<WindowRow, StoreError> {
    Ok(WindowRow {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        kind: r.try_get("kind")?,
        hall_name: r.try_get("hall_name")?,
        org_code: r.try_get("org_code")?,
        org_name: r.try_get("org_name")?,
        org_path: r.try_get("org_path")?,
    })
}

#[derive(Debug, Clone)]
pub struct NewStaff<'a> {
    pub staff_number: &'a str,
    pub name: &'a str,
    pub org_id: i64,
    pub window_id: Option<i64>,
    /// The staff member's mobile and ID number, sealed (see [`SealedField`]).
    pub mobile: Option<&'a SealedField>,
    pub id_number: Option<&'a SealedField>,
}

/// A personal value as stored: SM4-GCM ciphertext under a data key, and its HMAC-SM3 blind index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedField {
    pub key_id: String,
    pub enc: String,
    pub idx: String,
}

#[derive(Debug, Clone)]
pub struct NewItem<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub category: &'a str,
    pub org_id: i64,
    pub legal_limit_days: Option<i64>,
    pub promised_limit_days: Option<i64>,
    /// 实施编码 (31) and 业务办理项编码 (33), for the upper level (checked by the caller).
    pub implementation_code: Option<&'a str>,
    pub handle_item_code: Option<&'a str>,
}

#[derive(Debug, Clone)]
pub struct ItemRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub category: String,
    pub org_code: String,
    pub legal_limit_days: Option<i64>,
    pub promised_limit_days: Option<i64>,
    pub implementation_code: Option<String>,
    pub handle_item_code: Option<String>,
}

macro_rules! org_select {
    () => {
        "SELECT o.id, o.code, o.name, o.kind, p.code AS parent_code, o.path, o.credit_code, o.area_code
  FROM org o LEFT JOIN org p ON p.id = o.parent_id "
    };
}

fn org_row(r: &AnyRow) -> Result<OrgRow, sqlx::Error> {
    Ok(OrgRow {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        kind: r.try_get("kind")?,
        parent_code: r.try_get("parent_code")?,
        path: r.try_get("path")?,
        credit_code: r.try_get("credit_code")?,
        area_code: r.try_get("area_code")?,
    })
}

impl Store {
    /// Adds an organization under its parent; its path is the parent's path plus its own id.
    pub async fn insert_org(&self, o: &NewOrg<'_>, now: DateTime<Utc>) -> Result<i64, StoreError> {
        self.insert_catalog_entry(&CatalogEntry::Org(o.clone()), now).await
    }

    pub async fn org_by_code(&self, code: &str) -> Result<Option<OrgRow>, StoreError> {
        let row =
            sqlx::query(concat!(org_select!(), "WHERE o.code = $1")).bind(code).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(org_row).transpose()?)
    }

    pub async fn org_by_id(&self, id: i64) -> Result<Option<OrgRow>, StoreError> {
        let row = sqlx::query(concat!(org_select!(), "WHERE o.id = $1")).bind(id).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(org_row).transpose()?)
    }

    /// The organizations at the top of the tree (a county has one).
    pub async fn root_orgs(&self) -> Result<Vec<OrgRow>, StoreError> {
        let rows = sqlx::query(concat!(org_select!(), "WHERE o.parent_id IS NULL ORDER BY o.path"))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(org_row).collect::<Result<_, _>>()?)
    }

    /// The organizations whose path starts with `path_prefix` (`/` for all), in tree order.
    pub async fn list_orgs(&self, path_prefix: &str) -> Result<Vec<OrgRow>, StoreError> {
        let rows = sqlx::query(concat!(org_select!(), "WHERE o.path LIKE $1 ORDER BY o.path"))
            .bind(format!("{path_prefix}%"))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(org_row).collect::<Result<_, _>>()?)
    }

    pub async fn count_orgs(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM org").fetch_one(&self.pool).await?)
    }

    pub async fn insert_hall(&self, h: &NewHall<'_>) -> Result<i64, StoreError> {
        self.insert_catalog_entry(&CatalogEntry::Hall(h.clone()), Utc::now()).await
    }

    pub async fn insert_window(&self, w: &NewWindow<'_>) -> Result<i64, StoreError> {
        self.insert_catalog_entry(&CatalogEntry::Window(w.clone()), Utc::now()).await
    }

    /// Platforms, by code, each with the organization that runs it.
    pub async fn list_platforms(&self) -> Result<Vec<PlatformRow>, StoreError> {
        let rows: Vec<(i64, String, String, String, String, String)> = sqlx::query_as(
            "SELECT p.id, p.code, p.name, o.code, o.name, o.path FROM platform p JOIN org o ON o.id = p.org_id
             ORDER BY p.code",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, code, name, org_code, org_name, org_path)| PlatformRow {
                id,
                code,
                name,
                org_code,
                org_name,
                org_path,
            })
            .collect())
    }

    pub async fn platform_id_by_code(&self, code: &str) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT id FROM platform WHERE code = $1").bind(code).fetch_optional(&self.pool).await?)
    }

    /// Adds a platform with its audit entry; `None` when the code is taken.
    pub async fn add_platform(
        &self,
        code: &str,
        name: &str,
        org_id: i64,
        audit: &crate::NewAudit,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.begin_write().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO platform (code, name, org_id) VALUES ($1, $2, $3) ON CONFLICT (code) DO NOTHING RETURNING id",
        )
        .bind(code)
        .bind(name)
        .bind(org_id)
        .fetch_optional(&mut *tx)
        .await?;
        if id.is_none() {
            tx.rollback().await?;
            return Ok(None);
        }
        crate::audit::append(&mut tx, &self.chain(), std::slice::from_ref(audit)).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn insert_platform(&self, code: &str, name: &str, org_id: i64) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("INSERT INTO platform (code, name, org_id) VALUES ($1, $2, $3) RETURNING id")
            .bind(code)
            .bind(name)
            .bind(org_id)
            .fetch_one(&self.pool)
            .await?)
    }

    pub async fn insert_kiosk(&self, code: &str, name: &str, hall_id: i64) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("INSERT INTO kiosk (code, name, hall_id) VALUES ($1, $2, $3) RETURNING id")
            .bind(code)
            .bind(name)
            .bind(hall_id)
            .fetch_one(&self.pool)
            .await?)
    }

    /// Windows of organizations under `path_prefix`.
    pub async fn list_windows(&self, path_prefix: &str) -> Result<Vec<WindowRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{WINDOW_SELECT} WHERE o.path LIKE $1 ORDER BY w.code")))
            .bind(format!("{path_prefix}%"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(window_row).collect()
    }

    /// The window with this code (printed on its fixed QR code).
    pub async fn window_by_code(&self, code: &str) -> Result<Option<WindowRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{WINDOW_SELECT} WHERE w.code = $1")))
            .bind(code)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(window_row).transpose()
    }

    pub async fn window_id_by_code(&self, code: &str) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT id FROM service_window WHERE code = $1")
            .bind(code)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// A window's id and its organization's id.
    pub async fn window_and_org_by_code(&self, code: &str) -> Result<Option<(i64, i64)>, StoreError> {
        let row = sqlx::query("SELECT id, org_id FROM service_window WHERE code = $1")
            .bind(code)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok::<_, StoreError>((r.try_get("id")?, r.try_get("org_id")?))).transpose()
    }

    /// A staff member's id, organization id and window id.
    pub async fn staff_placement(&self, number: &str) -> Result<Option<(i64, i64, Option<i64>)>, StoreError> {
        let row = sqlx::query("SELECT id, org_id, window_id FROM staff WHERE staff_number = $1")
            .bind(number)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok::<_, StoreError>((r.try_get("id")?, r.try_get("org_id")?, r.try_get("window_id")?))).transpose()
    }

    pub async fn insert_staff(&self, st: &NewStaff<'_>) -> Result<i64, StoreError> {
        self.insert_catalog_entry(&CatalogEntry::Staff(st.clone()), Utc::now()).await
    }

    /// A staff member's number, by id.
    pub async fn staff_number_of(&self, id: i64) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT staff_number FROM staff WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn staff_id_by_number(&self, number: &str) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT id FROM staff WHERE staff_number = $1")
            .bind(number)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn insert_item(&self, i: &NewItem<'_>) -> Result<i64, StoreError> {
        self.insert_catalog_entry(&CatalogEntry::Item(i.clone()), Utc::now()).await
    }

    pub async fn item_id_by_code(&self, code: &str) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT id FROM service_item WHERE code = $1")
            .bind(code)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Service items, all of them (items are catalogued county-wide and handled in many places).
    pub async fn list_items(&self) -> Result<Vec<ItemRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT i.id, i.code, i.name, i.category, o.code AS org_code, i.legal_limit_days, i.promised_limit_days,
                i.implementation_code, i.handle_item_code
             FROM service_item i JOIN org o ON o.id = i.org_id ORDER BY i.code",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ItemRow {
                    id: r.try_get("id")?,
                    code: r.try_get("code")?,
                    name: r.try_get("name")?,
                    category: r.try_get("category")?,
                    org_code: r.try_get("org_code")?,
                    legal_limit_days: r.try_get("legal_limit_days")?,
                    promised_limit_days: r.try_get("promised_limit_days")?,
                    implementation_code: r.try_get("implementation_code")?,
                    handle_item_code: r.try_get("handle_item_code")?,
                })
            })
            .collect()
    }
}

/// A member of a statistics dimension with what people read: its name, and the organization or category it
/// belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberName {
    pub member: String,
    pub name: String,
    pub context: String,
}

impl Store {
    /// The names of the windows, staff or items (`dim`) that statistics under `org_path` can show. Items are
    /// county-wide (their context is their category code); windows and staff carry their organization.
    pub async fn member_names(&self, dim: &str, org_path: &str) -> Result<Vec<MemberName>, StoreError> {
        let sql = match dim {
            "window" => {
                "SELECT CAST(w.id AS TEXT), h.name || ' ' || w.name, o.name FROM service_window w
                 JOIN hall h ON h.id = w.hall_id JOIN org o ON o.id = w.org_id WHERE o.path LIKE $1"
            }
            "staff" => {
                "SELECT CAST(s.id AS TEXT), s.name || '(' || s.staff_number || ')', o.name FROM staff s
                 JOIN org o ON o.id = s.org_id WHERE o.path LIKE $1"
            }
            "item" => "SELECT CAST(id AS TEXT), name, category FROM service_item WHERE $1 = $1",
            // Every platform: one run by the city or province delivers services of the county's units too.
            "platform" => {
                "SELECT CAST(p.id AS TEXT), p.name, o.name FROM platform p JOIN org o ON o.id = p.org_id WHERE $1 = $1"
            }
            _ => return Ok(Vec::new()),
        };
        let rows = sqlx::query(sql).bind(format!("{org_path}%")).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok(MemberName { member: r.try_get(0)?, name: r.try_get(1)?, context: r.try_get(2)? }))
            .collect()
    }
}

impl Store {
    /// The organization a staff member belongs to.
    pub async fn staff_org(&self, staff_id: i64) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT org_id FROM staff WHERE id = $1")
            .bind(staff_id)
            .fetch_optional(&self.pool)
            .await?)
    }
}

impl Store {
    /// The code of the organization at a path (`/1/5/`).
    pub async fn org_code_by_path(&self, path: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT code FROM org WHERE path = $1").bind(path).fetch_optional(&self.pool).await?)
    }
}

/// A platform through which services are delivered (政务服务网, 移动端应用 …), with the organization running it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub org_code: String,
    pub org_name: String,
    pub org_path: String,
}
