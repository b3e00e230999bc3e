//! A county's first run (`hcp init`): its top-level organization and its first system administrator, written
//! together or not at all, so a failed start never leaves an organization without anyone to manage it.

use sqlx::AnyConnection;

use crate::catalog::NewOrg;
use crate::catalog_admin::{CatalogEntry, insert};
use crate::time::to_ms;
use crate::{NewAudit, Store, StoreError};

/// The first system administrator of a new top-level organization.
#[derive(Debug, Clone)]
pub struct FirstAdmin<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
}

/// What `init_top_org` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstRun {
    /// The organization and the account, by id.
    Created { org_id: i64, user_id: i64 },
    /// `only_if_empty` and the database holds organizations already (how many).
    NotEmpty(i64),
    /// The organization's code is used already.
    CodeTaken,
    /// The username is used already.
    UsernameTaken,
}

async fn count_orgs(conn: &mut AnyConnection) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM org").fetch_one(&mut *conn).await?)
}

impl Store {
    /// Adds a top-level organization (no parent) and a system administrator over it, with their audit entries,
    /// in one transaction. With `only_if_empty`, refuses when any organization exists (checked inside the
    /// transaction, so two first runs cannot both succeed on SQLite, whose writes are serialized).
    pub async fn init_top_org(
        &self,
        org: &NewOrg<'_>,
        admin: &FirstAdmin<'_>,
        only_if_empty: bool,
        audit: &NewAudit,
    ) -> Result<FirstRun, StoreError> {
        debug_assert!(org.parent_id.is_none(), "a top-level organization has no parent");
        let mut tx = self.begin_write().await?;
        if only_if_empty {
            let n = count_orgs(&mut tx).await?;
            if n > 0 {
                return Ok(FirstRun::NotEmpty(n));
            }
        }
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT id FROM org WHERE code = $1").bind(org.code).fetch_optional(&mut *tx).await?;
        if taken.is_some() {
            return Ok(FirstRun::CodeTaken);
        }
        let now = to_ms(audit.at);
        let (org_id, _) = insert(&mut tx, &CatalogEntry::Org(org.clone()), now).await?;
        let user_id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO app_user (username, display_name, password_hash, staff_id, failed_logins, created_at, created_by)
             VALUES ($1, $2, $3, NULL, 0, $4, $5) ON CONFLICT (username) DO NOTHING RETURNING id",
        )
        .bind(admin.username)
        .bind(admin.display_name)
        .bind(admin.password_hash)
        .bind(now)
        .bind(&audit.actor)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(user_id) = user_id else {
            return Ok(FirstRun::UsernameTaken);
        };
        sqlx::query("INSERT INTO role_binding (user_id, role, org_id) VALUES ($1, $2, $3)")
            .bind(user_id)
            .bind(admin.role)
            .bind(org_id)
            .execute(&mut *tx)
            .await?;
        let entries = [
            NewAudit { action: "org.init", target: format!("org:{org_id}"), ..audit.clone() },
            NewAudit { action: "user.create", target: format!("user:{user_id}"), ..audit.clone() },
        ];
        crate::audit::append(&mut tx, &self.chain(), &entries).await?;
        tx.commit().await?;
        Ok(FirstRun::Created { org_id, user_id })
    }
}
