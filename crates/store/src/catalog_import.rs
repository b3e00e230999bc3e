//! Catalog import from files (issue 13 §2): the catalog as it stands (to compare a file with), and one
//! file's additions and changes written in one transaction with an audit entry each — all or nothing.

use std::collections::HashMap;

use sqlx::{AnyConnection, Row};

use crate::catalog::{NewHall, NewItem, NewOrg, NewStaff, NewWindow};
use crate::catalog_admin::{CatalogEntry, insert};
use crate::time::to_ms;
use crate::{NewAudit, Store, StoreError};

/// An organization as a file describes it (codes, not ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgEntry {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_code: Option<String>,
    pub path: String,
    pub credit_code: Option<String>,
    pub area_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HallEntry {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub org_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowEntry {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub hall_code: String,
    pub org_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffEntry {
    pub staff_number: String,
    pub name: String,
    pub org_code: String,
    pub window_code: Option<String>,
    pub mobile: Option<crate::SealedField>,
    pub id_number: Option<crate::SealedField>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemEntry {
    pub code: String,
    pub name: String,
    pub category: String,
    pub org_code: String,
    pub legal_limit_days: Option<i64>,
    pub promised_limit_days: Option<i64>,
    pub implementation_code: Option<String>,
    pub handle_item_code: Option<String>,
}

/// A platform (政务服务网, 移动端应用 …) and the organization running it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformEntry {
    pub code: String,
    pub name: String,
    pub org_code: String,
}

/// The whole catalog by code, as a file is compared with it.
#[derive(Debug, Clone, Default)]
pub struct CatalogSnapshot {
    pub orgs: HashMap<String, OrgEntry>,
    pub halls: HashMap<String, HallEntry>,
    pub windows: HashMap<String, WindowEntry>,
    pub staff: HashMap<String, StaffEntry>,
    pub items: HashMap<String, ItemEntry>,
    pub platforms: HashMap<String, PlatformEntry>,
}

/// Add it, or change the stored entry of that code to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOp {
    Add,
    Change,
}

/// What a file adds and changes, each with its audit details (file and line); organizations parents first.
#[derive(Debug, Clone, Default)]
pub struct CatalogImport {
    pub orgs: Vec<(ImportOp, OrgEntry, String)>,
    pub halls: Vec<(ImportOp, HallEntry, String)>,
    pub windows: Vec<(ImportOp, WindowEntry, String)>,
    pub staff: Vec<(ImportOp, StaffEntry, String)>,
    pub items: Vec<(ImportOp, ItemEntry, String)>,
    pub platforms: Vec<(ImportOp, PlatformEntry, String)>,
}

impl CatalogImport {
    pub fn len(&self) -> usize {
        self.orgs.len()
            + self.halls.len()
            + self.windows.len()
            + self.staff.len()
            + self.items.len()
            + self.platforms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn sealed(r: &sqlx::any::AnyRow, field: &str) -> Result<Option<crate::SealedField>, StoreError> {
    let key_id: Option<String> = r.try_get(format!("{field}_key_id").as_str())?;
    let enc: Option<String> = r.try_get(format!("{field}_enc").as_str())?;
    let idx: Option<String> = r.try_get(format!("{field}_idx").as_str())?;
    Ok(match (key_id, enc, idx) {
        (Some(key_id), Some(enc), Some(idx)) => Some(crate::SealedField { key_id, enc, idx }),
        _ => None,
    })
}

async fn ids(conn: &mut AnyConnection, sql: &'static str) -> Result<HashMap<String, i64>, StoreError> {
    let rows = sqlx::query(sql).fetch_all(&mut *conn).await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
}

impl Store {
    pub async fn catalog_snapshot(&self) -> Result<CatalogSnapshot, StoreError> {
        let mut s = CatalogSnapshot::default();
        let rows = sqlx::query(
            "SELECT o.code, o.name, o.kind, p.code AS parent_code, o.path, o.credit_code, o.area_code
             FROM org o LEFT JOIN org p ON p.id = o.parent_id",
        )
        .fetch_all(&self.pool)
        .await?;
        for r in rows {
            let e = OrgEntry {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                kind: r.try_get("kind")?,
                parent_code: r.try_get("parent_code")?,
                path: r.try_get("path")?,
                credit_code: r.try_get("credit_code")?,
                area_code: r.try_get("area_code")?,
            };
            s.orgs.insert(e.code.clone(), e);
        }
        let rows =
            sqlx::query("SELECT h.code, h.name, h.kind, o.code AS org_code FROM hall h JOIN org o ON o.id = h.org_id")
                .fetch_all(&self.pool)
                .await?;
        for r in rows {
            let e = HallEntry {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                kind: r.try_get("kind")?,
                org_code: r.try_get("org_code")?,
            };
            s.halls.insert(e.code.clone(), e);
        }
        let rows = sqlx::query(
            "SELECT w.code, w.name, w.kind, h.code AS hall_code, o.code AS org_code
             FROM service_window w JOIN hall h ON h.id = w.hall_id JOIN org o ON o.id = w.org_id",
        )
        .fetch_all(&self.pool)
        .await?;
        for r in rows {
            let e = WindowEntry {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                kind: r.try_get("kind")?,
                hall_code: r.try_get("hall_code")?,
                org_code: r.try_get("org_code")?,
            };
            s.windows.insert(e.code.clone(), e);
        }
        let rows = sqlx::query(
            "SELECT s.staff_number, s.name, o.code AS org_code, w.code AS window_code, s.mobile_key_id, s.mobile_enc,
                s.mobile_idx, s.id_number_key_id, s.id_number_enc, s.id_number_idx
             FROM staff s JOIN org o ON o.id = s.org_id LEFT JOIN service_window w ON w.id = s.window_id",
        )
        .fetch_all(&self.pool)
        .await?;
        for r in rows {
            let e = StaffEntry {
                staff_number: r.try_get("staff_number")?,
                name: r.try_get("name")?,
                org_code: r.try_get("org_code")?,
                window_code: r.try_get("window_code")?,
                mobile: sealed(&r, "mobile")?,
                id_number: sealed(&r, "id_number")?,
            };
            s.staff.insert(e.staff_number.clone(), e);
        }
        let rows = sqlx::query(
            "SELECT i.code, i.name, i.category, o.code AS org_code, i.legal_limit_days, i.promised_limit_days,
                i.implementation_code, i.handle_item_code
             FROM service_item i JOIN org o ON o.id = i.org_id",
        )
        .fetch_all(&self.pool)
        .await?;
        for r in rows {
            let e = ItemEntry {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                category: r.try_get("category")?,
                org_code: r.try_get("org_code")?,
                legal_limit_days: r.try_get("legal_limit_days")?,
                promised_limit_days: r.try_get("promised_limit_days")?,
                implementation_code: r.try_get("implementation_code")?,
                handle_item_code: r.try_get("handle_item_code")?,
            };
            s.items.insert(e.code.clone(), e);
        }
        let rows =
            sqlx::query("SELECT p.code, p.name, o.code AS org_code FROM platform p JOIN org o ON o.id = p.org_id")
                .fetch_all(&self.pool)
                .await?;
        for r in rows {
            let e =
                PlatformEntry { code: r.try_get("code")?, name: r.try_get("name")?, org_code: r.try_get("org_code")? };
            s.platforms.insert(e.code.clone(), e);
        }
        Ok(s)
    }

    /// Writes a file's additions and changes in one transaction, each with an audit entry (`audit` with the
    /// entry's target and details), calling `progress` with the number of entries written so far. The
    /// caller checked every reference; a code taken meanwhile by someone else fails the whole file.
    pub async fn import_catalog(
        &self,
        import: &CatalogImport,
        audit: &NewAudit,
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<(), StoreError> {
        let now = to_ms(audit.at);
        let mut tx = self.begin_write().await?;
        let mut entries = Vec::with_capacity(import.len());
        let mut done = 0;
        let tick = |done: &mut usize| {
            *done += 1;
            if (*done).is_multiple_of(200) {
                progress(*done);
            }
        };
        let mut record = |table: &str, id: i64, details: &str| {
            entries.push(NewAudit { target: format!("{table}:{id}"), details: details.to_string(), ..audit.clone() });
        };
        let mut orgs = ids(&mut tx, "SELECT code, id FROM org").await?;
        for (op, o, details) in &import.orgs {
            let id = match op {
                ImportOp::Add => {
                    let parent_id = o.parent_code.as_ref().and_then(|p| orgs.get(p).copied());
                    let entry = CatalogEntry::Org(NewOrg {
                        code: &o.code,
                        name: &o.name,
                        kind: &o.kind,
                        parent_id,
                        credit_code: o.credit_code.as_deref(),
                        area_code: o.area_code.as_deref(),
                    });
                    let (id, _) = insert(&mut tx, &entry, now).await?;
                    orgs.insert(o.code.clone(), id);
                    id
                }
                ImportOp::Change => {
                    sqlx::query_scalar(
                        "UPDATE org SET name = $1, credit_code = $2, area_code = $3 WHERE code = $4 RETURNING id",
                    )
                    .bind(o.name.clone())
                    .bind(o.credit_code.clone())
                    .bind(o.area_code.clone())
                    .bind(o.code.clone())
                    .fetch_one(&mut *tx)
                    .await?
                }
            };
            record("org", id, details);
            tick(&mut done);
        }
        let mut halls = ids(&mut tx, "SELECT code, id FROM hall").await?;
        for (op, h, details) in &import.halls {
            let org_id = *orgs.get(&h.org_code).ok_or_else(|| StoreError::Corrupt("hall's org vanished".into()))?;
            let id = match op {
                ImportOp::Add => {
                    let entry = CatalogEntry::Hall(NewHall { code: &h.code, name: &h.name, kind: &h.kind, org_id });
                    let (id, _) = insert(&mut tx, &entry, now).await?;
                    halls.insert(h.code.clone(), id);
                    id
                }
                ImportOp::Change => {
                    sqlx::query_scalar("UPDATE hall SET name = $1, kind = $2 WHERE code = $3 RETURNING id")
                        .bind(h.name.clone())
                        .bind(h.kind.clone())
                        .bind(h.code.clone())
                        .fetch_one(&mut *tx)
                        .await?
                }
            };
            record("hall", id, details);
            tick(&mut done);
        }
        let mut windows = ids(&mut tx, "SELECT code, id FROM service_window").await?;
        for (op, w, details) in &import.windows {
            let org_id = *orgs.get(&w.org_code).ok_or_else(|| StoreError::Corrupt("window's org vanished".into()))?;
            let hall_id =
                *halls.get(&w.hall_code).ok_or_else(|| StoreError::Corrupt("window's hall vanished".into()))?;
            let id = match op {
                ImportOp::Add => {
                    let entry = CatalogEntry::Window(NewWindow {
                        code: &w.code,
                        name: &w.name,
                        kind: &w.kind,
                        hall_id,
                        org_id,
                    });
                    let (id, _) = insert(&mut tx, &entry, now).await?;
                    windows.insert(w.code.clone(), id);
                    id
                }
                ImportOp::Change => {
                    sqlx::query_scalar("UPDATE service_window SET name = $1, kind = $2 WHERE code = $3 RETURNING id")
                        .bind(w.name.clone())
                        .bind(w.kind.clone())
                        .bind(w.code.clone())
                        .fetch_one(&mut *tx)
                        .await?
                }
            };
            record("service_window", id, details);
            tick(&mut done);
        }
        for (op, s, details) in &import.staff {
            let org_id = *orgs.get(&s.org_code).ok_or_else(|| StoreError::Corrupt("staff's org vanished".into()))?;
            let window_id = s.window_code.as_ref().and_then(|w| windows.get(w).copied());
            let id =
                match op {
                    ImportOp::Add => {
                        let entry = CatalogEntry::Staff(NewStaff {
                            staff_number: &s.staff_number,
                            name: &s.name,
                            org_id,
                            window_id,
                            mobile: s.mobile.as_ref(),
                            id_number: s.id_number.as_ref(),
                        });
                        insert(&mut tx, &entry, now).await?.0
                    }
                    ImportOp::Change => sqlx::query_scalar(
                        "UPDATE staff SET name = $1, org_id = $2, window_id = $3, mobile_key_id = $4, mobile_enc = $5,
                        mobile_idx = $6, id_number_key_id = $7, id_number_enc = $8, id_number_idx = $9
                     WHERE staff_number = $10 RETURNING id",
                    )
                    .bind(s.name.clone())
                    .bind(org_id)
                    .bind(window_id)
                    .bind(s.mobile.as_ref().map(|f| f.key_id.clone()))
                    .bind(s.mobile.as_ref().map(|f| f.enc.clone()))
                    .bind(s.mobile.as_ref().map(|f| f.idx.clone()))
                    .bind(s.id_number.as_ref().map(|f| f.key_id.clone()))
                    .bind(s.id_number.as_ref().map(|f| f.enc.clone()))
                    .bind(s.id_number.as_ref().map(|f| f.idx.clone()))
                    .bind(s.staff_number.clone())
                    .fetch_one(&mut *tx)
                    .await?,
                };
            record("staff", id, details);
            tick(&mut done);
        }
        for (op, i, details) in &import.items {
            let org_id = *orgs.get(&i.org_code).ok_or_else(|| StoreError::Corrupt("item's org vanished".into()))?;
            let id = match op {
                ImportOp::Add => {
                    let entry = CatalogEntry::Item(NewItem {
                        code: &i.code,
                        name: &i.name,
                        category: &i.category,
                        org_id,
                        legal_limit_days: i.legal_limit_days,
                        promised_limit_days: i.promised_limit_days,
                        implementation_code: i.implementation_code.as_deref(),
                        handle_item_code: i.handle_item_code.as_deref(),
                    });
                    insert(&mut tx, &entry, now).await?.0
                }
                ImportOp::Change => sqlx::query_scalar(
                    "UPDATE service_item SET name = $1, category = $2, legal_limit_days = $3, promised_limit_days = $4,
                        implementation_code = $5, handle_item_code = $6
                     WHERE code = $7 RETURNING id",
                )
                .bind(i.name.clone())
                .bind(i.category.clone())
                .bind(i.legal_limit_days)
                .bind(i.promised_limit_days)
                .bind(i.implementation_code.clone())
                .bind(i.handle_item_code.clone())
                .bind(i.code.clone())
                .fetch_one(&mut *tx)
                .await?,
            };
            record("service_item", id, details);
            tick(&mut done);
        }
        for (op, p, details) in &import.platforms {
            let org_id = *orgs.get(&p.org_code).ok_or_else(|| StoreError::Corrupt("platform's org vanished".into()))?;
            let id: i64 = match op {
                ImportOp::Add => {
                    sqlx::query_scalar("INSERT INTO platform (code, name, org_id) VALUES ($1, $2, $3) RETURNING id")
                        .bind(p.code.clone())
                        .bind(p.name.clone())
                        .bind(org_id)
                        .fetch_one(&mut *tx)
                        .await?
                }
                ImportOp::Change => {
                    sqlx::query_scalar("UPDATE platform SET name = $1 WHERE code = $2 RETURNING id")
                        .bind(p.name.clone())
                        .bind(p.code.clone())
                        .fetch_one(&mut *tx)
                        .await?
                }
            };
            record("platform", id, details);
            tick(&mut done);
        }
        crate::audit::append(&mut tx, &self.chain(), &entries).await?;
        tx.commit().await?;
        progress(done);
        Ok(())
    }
}
