//! Catalog administration from the console (issue 6 §3): each new organization, hall, window, staff member or
//! service item is written with its audit entry in one transaction, after a check that its code is free.

use sqlx::{AnyConnection, Row};

use crate::catalog::{NewHall, NewItem, NewOrg, NewStaff, NewWindow};
use crate::time::to_ms;
use crate::{NewAudit, Store, StoreError};

/// Something to add to the catalog.
#[derive(Debug, Clone)]
pub enum CatalogEntry<'a> {
    Org(NewOrg<'a>),
    Hall(NewHall<'a>),
    Window(NewWindow<'a>),
    Staff(NewStaff<'a>),
    Item(NewItem<'a>),
}

/// What may change of an existing entry; `None` keeps the stored value. Moving an organization in the tree
/// is not here (it would rewrite the paths of everything under it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogChange<'a> {
    pub name: Option<&'a str>,
    /// A hall's or window's kind, or an item's category.
    pub kind: Option<&'a str>,
    /// A staff member's organization.
    pub org_id: Option<i64>,
    /// A staff member's window.
    pub window_id: Option<i64>,
    pub legal_limit_days: Option<i64>,
    pub promised_limit_days: Option<i64>,
    /// An organization's codes for the upper level.
    pub credit_code: Option<&'a str>,
    pub area_code: Option<&'a str>,
    /// An item's codes for the upper level.
    pub implementation_code: Option<&'a str>,
    pub handle_item_code: Option<&'a str>,
    /// A staff member's mobile and ID number, sealed.
    pub staff_mobile: Option<&'a crate::SealedField>,
    pub staff_id_number: Option<&'a crate::SealedField>,
}

/// The kinds of catalog entries, by table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogTable {
    Org,
    Hall,
    Window,
    Staff,
    Item,
    Platform,
}

/// A staff member with their organization and window, for the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRow {
    pub id: i64,
    pub staff_number: String,
    pub name: String,
    pub org_name: String,
    pub window_name: Option<String>,
    /// Whether a mobile and an ID number are on file (never the values: the catalog page does not show them).
    pub has_mobile: bool,
    pub has_id_number: bool,
}

/// An account with its role bindings, for the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub org_name: String,
    pub locked: bool,
    pub disabled: bool,
}

/// A hall and its organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HallRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub org_name: String,
}

async fn taken(conn: &mut AnyConnection, e: &CatalogEntry<'_>) -> Result<bool, StoreError> {
    let (sql, code) = match e {
        CatalogEntry::Org(o) => ("SELECT id FROM org WHERE code = $1", o.code),
        CatalogEntry::Hall(h) => ("SELECT id FROM hall WHERE code = $1", h.code),
        CatalogEntry::Window(w) => ("SELECT id FROM service_window WHERE code = $1", w.code),
        CatalogEntry::Staff(s) => ("SELECT id FROM staff WHERE staff_number = $1", s.staff_number),
        CatalogEntry::Item(i) => ("SELECT id FROM service_item WHERE code = $1", i.code),
    };
    Ok(sqlx::query_scalar::<_, i64>(sql).bind(code).fetch_optional(&mut *conn).await?.is_some())
}

pub(crate) async fn insert(
    conn: &mut AnyConnection,
    e: &CatalogEntry<'_>,
    now: i64,
) -> Result<(i64, &'static str), StoreError> {
    Ok(match e {
        CatalogEntry::Org(o) => {
            let parent_path: String = match o.parent_id {
                Some(p) => sqlx::query_scalar("SELECT path FROM org WHERE id = $1").bind(p).fetch_one(&mut *conn).await?,
                None => "/".to_string(),
            };
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO org (code, name, kind, parent_id, path, created_at, credit_code, area_code)
                 VALUES ($1, $2, $3, $4, '', $5, $6, $7) RETURNING id",
            )
            .bind(o.code)
            .bind(o.name)
            .bind(o.kind)
            .bind(o.parent_id)
            .bind(now)
            .bind(o.credit_code)
            .bind(o.area_code)
            .fetch_one(&mut *conn)
            .await?;
            sqlx::query("UPDATE org SET path = $1 WHERE id = $2")
                .bind(format!("{parent_path}{id}/"))
                .bind(id)
                .execute(&mut *conn)
                .await?;
            (id, "org")
        }
        CatalogEntry::Hall(h) => (
            sqlx::query_scalar("INSERT INTO hall (code, name, kind, org_id) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(h.code)
                .bind(h.name)
                .bind(h.kind)
                .bind(h.org_id)
                .fetch_one(&mut *conn)
                .await?,
            "hall",
        ),
        CatalogEntry::Window(w) => (
            sqlx::query_scalar(
                "INSERT INTO service_window (code, name, kind, hall_id, org_id) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(w.code)
            .bind(w.name)
            .bind(w.kind)
            .bind(w.hall_id)
            .bind(w.org_id)
            .fetch_one(&mut *conn)
            .await?,
            "service_window",
        ),
        CatalogEntry::Staff(s) => (
            sqlx::query_scalar(
                "INSERT INTO staff (staff_number, name, org_id, window_id, mobile_key_id, mobile_enc, mobile_idx,
                    id_number_key_id, id_number_enc, id_number_idx)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(s.staff_number)
            .bind(s.name)
            .bind(s.org_id)
            .bind(s.window_id)
            .bind(s.mobile.map(|f| f.key_id.clone()))
            .bind(s.mobile.map(|f| f.enc.clone()))
            .bind(s.mobile.map(|f| f.idx.clone()))
            .bind(s.id_number.map(|f| f.key_id.clone()))
            .bind(s.id_number.map(|f| f.enc.clone()))
            .bind(s.id_number.map(|f| f.idx.clone()))
            .fetch_one(&mut *conn)
            .await?,
            "staff",
        ),
        CatalogEntry::Item(i) => (
            sqlx::query_scalar(
                "INSERT INTO service_item (code, name, category, org_id, legal_limit_days, promised_limit_days,
                    implementation_code, handle_item_code)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(i.code)
            .bind(i.name)
            .bind(i.category)
            .bind(i.org_id)
            .bind(i.legal_limit_days)
            .bind(i.promised_limit_days)
            .bind(i.implementation_code)
            .bind(i.handle_item_code)
            .fetch_one(&mut *conn)
            .await?,
            "service_item",
        ),
    })
}

impl Store {
    /// The organization path of an entry, by its code (a staff member by number); `None` when there is none.
    pub async fn catalog_entry_path(&self, table: CatalogTable, code: &str) -> Result<Option<String>, StoreError> {
        let sql = match table {
            CatalogTable::Org => "SELECT path FROM org WHERE code = $1",
            CatalogTable::Hall => "SELECT o.path FROM hall x JOIN org o ON o.id = x.org_id WHERE x.code = $1",
            CatalogTable::Window => {
                "SELECT o.path FROM service_window x JOIN org o ON o.id = x.org_id WHERE x.code = $1"
            }
            CatalogTable::Staff => "SELECT o.path FROM staff x JOIN org o ON o.id = x.org_id WHERE x.staff_number = $1",
            CatalogTable::Item => "SELECT o.path FROM service_item x JOIN org o ON o.id = x.org_id WHERE x.code = $1",
            CatalogTable::Platform => "SELECT o.path FROM platform x JOIN org o ON o.id = x.org_id WHERE x.code = $1",
        };
        Ok(sqlx::query_scalar(sql).bind(code).fetch_optional(&self.pool).await?)
    }

    /// Changes an entry with its audit entry; false when no entry has that code.
    pub async fn change_catalog_entry(
        &self,
        table: CatalogTable,
        code: &str,
        c: &CatalogChange<'_>,
        audit: &NewAudit,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let (id, target): (Option<i64>, &str) = match table {
            CatalogTable::Org => (
                sqlx::query_scalar(
                    "UPDATE org SET name = COALESCE($1, name), credit_code = COALESCE($2, credit_code),
                        area_code = COALESCE($3, area_code)
                     WHERE code = $4 RETURNING id",
                )
                .bind(c.name)
                .bind(c.credit_code)
                .bind(c.area_code)
                .bind(code)
                .fetch_optional(&mut *tx)
                .await?,
                "org",
            ),
            CatalogTable::Hall => (
                sqlx::query_scalar(
                    "UPDATE hall SET name = COALESCE($1, name), kind = COALESCE($2, kind) WHERE code = $3 RETURNING id",
                )
                .bind(c.name)
                .bind(c.kind)
                .bind(code)
                .fetch_optional(&mut *tx)
                .await?,
                "hall",
            ),
            CatalogTable::Window => (
                sqlx::query_scalar(
                    "UPDATE service_window SET name = COALESCE($1, name), kind = COALESCE($2, kind) WHERE code = $3
                     RETURNING id",
                )
                .bind(c.name)
                .bind(c.kind)
                .bind(code)
                .fetch_optional(&mut *tx)
                .await?,
                "service_window",
            ),
            CatalogTable::Staff => (
                sqlx::query_scalar(
                    "UPDATE staff SET name = COALESCE($1, name), org_id = COALESCE($2, org_id),
                        window_id = COALESCE($3, window_id),
                        mobile_key_id = COALESCE($4, mobile_key_id), mobile_enc = COALESCE($5, mobile_enc),
                        mobile_idx = COALESCE($6, mobile_idx), id_number_key_id = COALESCE($7, id_number_key_id),
                        id_number_enc = COALESCE($8, id_number_enc), id_number_idx = COALESCE($9, id_number_idx)
                     WHERE staff_number = $10 RETURNING id",
                )
                .bind(c.name)
                .bind(c.org_id)
                .bind(c.window_id)
                .bind(c.staff_mobile.map(|f| f.key_id.clone()))
                .bind(c.staff_mobile.map(|f| f.enc.clone()))
                .bind(c.staff_mobile.map(|f| f.idx.clone()))
                .bind(c.staff_id_number.map(|f| f.key_id.clone()))
                .bind(c.staff_id_number.map(|f| f.enc.clone()))
                .bind(c.staff_id_number.map(|f| f.idx.clone()))
                .bind(code)
                .fetch_optional(&mut *tx)
                .await?,
                "staff",
            ),
            CatalogTable::Item => (
                sqlx::query_scalar(
                    "UPDATE service_item SET name = COALESCE($1, name), category = COALESCE($2, category),
                        legal_limit_days = COALESCE($3, legal_limit_days),
                        promised_limit_days = COALESCE($4, promised_limit_days),
                        implementation_code = COALESCE($5, implementation_code),
                        handle_item_code = COALESCE($6, handle_item_code)
                     WHERE code = $7 RETURNING id",
                )
                .bind(c.name)
                .bind(c.kind)
                .bind(c.legal_limit_days)
                .bind(c.promised_limit_days)
                .bind(c.implementation_code)
                .bind(c.handle_item_code)
                .bind(code)
                .fetch_optional(&mut *tx)
                .await?,
                "service_item",
            ),
            CatalogTable::Platform => (
                sqlx::query_scalar("UPDATE platform SET name = COALESCE($1, name) WHERE code = $2 RETURNING id")
                    .bind(c.name)
                    .bind(code)
                    .fetch_optional(&mut *tx)
                    .await?,
                "platform",
            ),
        };
        let Some(id) = id else {
            return Ok(false);
        };
        let entry = NewAudit { target: format!("{target}:{id}"), ..audit.clone() };
        crate::audit::append(&mut tx, &self.chain(), &[entry]).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Adds an entry without an audit entry (the demo's catalog, written by the program itself).
    pub(crate) async fn insert_catalog_entry(
        &self,
        e: &CatalogEntry<'_>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let (id, _) = insert(&mut tx, e, to_ms(now)).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Adds an entry with its audit entry; `None` when its code is already used.
    pub async fn add_catalog_entry(&self, e: &CatalogEntry<'_>, audit: &NewAudit) -> Result<Option<i64>, StoreError> {
        let mut tx = self.begin_write().await?;
        if taken(&mut tx, e).await? {
            return Ok(None);
        }
        let (id, table) = insert(&mut tx, e, to_ms(audit.at)).await?;
        let entry = NewAudit { target: format!("{table}:{id}"), ..audit.clone() };
        crate::audit::append(&mut tx, &self.chain(), &[entry]).await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    pub async fn hall_by_code(&self, code: &str) -> Result<Option<(i64, String)>, StoreError> {
        let row = sqlx::query("SELECT h.id, o.path FROM hall h JOIN org o ON o.id = h.org_id WHERE h.code = $1")
            .bind(code)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok::<_, StoreError>((r.try_get("id")?, r.try_get("path")?))).transpose()
    }

    /// Halls of organizations under `path_prefix`.
    pub async fn list_halls(&self, path_prefix: &str) -> Result<Vec<HallRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT h.id, h.code, h.name, h.kind, o.name AS org_name FROM hall h JOIN org o ON o.id = h.org_id
             WHERE o.path LIKE $1 ORDER BY h.code",
        )
        .bind(format!("{path_prefix}%"))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(HallRow {
                    id: r.try_get("id")?,
                    code: r.try_get("code")?,
                    name: r.try_get("name")?,
                    kind: r.try_get("kind")?,
                    org_name: r.try_get("org_name")?,
                })
            })
            .collect()
    }

    /// Staff of organizations under `path_prefix`.
    pub async fn list_staff(&self, path_prefix: &str) -> Result<Vec<StaffRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.id, s.staff_number, s.name, o.name AS org_name, w.name AS window_name,
                CASE WHEN s.mobile_idx IS NULL THEN 0 ELSE 1 END AS has_mobile,
                CASE WHEN s.id_number_idx IS NULL THEN 0 ELSE 1 END AS has_id_number
             FROM staff s JOIN org o ON o.id = s.org_id LEFT JOIN service_window w ON w.id = s.window_id
             WHERE o.path LIKE $1 ORDER BY s.staff_number",
        )
        .bind(format!("{path_prefix}%"))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StaffRow {
                    id: r.try_get("id")?,
                    staff_number: r.try_get("staff_number")?,
                    name: r.try_get("name")?,
                    org_name: r.try_get("org_name")?,
                    window_name: r.try_get("window_name")?,
                    has_mobile: r.try_get::<i64, _>("has_mobile")? != 0,
                    has_id_number: r.try_get::<i64, _>("has_id_number")? != 0,
                })
            })
            .collect()
    }

    /// Accounts with a role over an organization under `path_prefix`, one row per binding.
    pub async fn list_accounts(
        &self,
        path_prefix: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<AccountRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.username, u.display_name, b.role, o.name AS org_name,
                CASE WHEN u.locked_until IS NOT NULL AND u.locked_until > $2 THEN 1 ELSE 0 END AS locked,
                CASE WHEN u.disabled_at IS NULL THEN 0 ELSE 1 END AS disabled
             FROM app_user u JOIN role_binding b ON b.user_id = u.id JOIN org o ON o.id = b.org_id
             WHERE o.path LIKE $1 ORDER BY u.username, b.id",
        )
        .bind(format!("{path_prefix}%"))
        .bind(to_ms(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AccountRow {
                    username: r.try_get("username")?,
                    display_name: r.try_get("display_name")?,
                    role: r.try_get("role")?,
                    org_name: r.try_get("org_name")?,
                    locked: r.try_get::<i64, _>("locked")? != 0,
                    disabled: r.try_get::<i64, _>("disabled")? != 0,
                })
            })
            .collect()
    }
}
