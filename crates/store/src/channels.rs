//! Hall devices (评价器) and the one-time codes of a window's fixed QR code (issue 6 §2).

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::NewAudit;
use crate::outbox::{NewMessage, insert_messages};
use crate::time::{from_ms, to_ms};
use crate::{Store, StoreError};

/// A registered hall device and the window it is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub window_id: i64,
    pub window_code: String,
    pub window_name: String,
    pub hall_name: String,
    pub org_path: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWindowLogin<'a> {
    pub handle_hash: &'a str,
    pub window_id: i64,
    pub mobile_idx: &'a str,
    pub code_hash: &'a str,
    pub at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowLoginRow {
    pub id: i64,
    pub window_id: i64,
    pub mobile_idx: String,
    pub code_hash: String,
    pub expires_at: DateTime<Utc>,
    pub attempts: i64,
    pub used_at: Option<DateTime<Utc>>,
}

const DEVICE_SELECT: &str = "SELECT d.id, d.code, d.name, d.window_id, w.code AS window_code, w.name AS window_name,
    h.name AS hall_name, o.path AS org_path, d.created_at, d.revoked_at
  FROM hall_device d JOIN service_window w ON w.id = d.window_id JOIN hall h ON h.id = w.hall_id
  JOIN org o ON o.id = w.org_id ";

fn device_row(r: &AnyRow) -> Result<DeviceRow, StoreError> {
    Ok(DeviceRow {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        window_id: r.try_get("window_id")?,
        window_code: r.try_get("window_code")?,
        window_name: r.try_get("window_name")?,
        hall_name: r.try_get("hall_name")?,
        org_path: r.try_get("org_path")?,
        created_at: from_ms(r.try_get("created_at")?),
        revoked_at: r.try_get::<Option<i64>, _>("revoked_at")?.map(from_ms),
    })
}

impl Store {
    /// Registers a device; `None` when the code is taken.
    pub async fn insert_device(
        &self,
        code: &str,
        name: &str,
        window_id: i64,
        token_hash: &str,
        at: DateTime<Utc>,
        audit: &NewAudit,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.begin_write().await?;
        let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM hall_device WHERE code = $1")
            .bind(code)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Ok(None);
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO hall_device (code, name, window_id, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)
             RETURNING id",
        )
        .bind(code)
        .bind(name)
        .bind(window_id)
        .bind(token_hash)
        .bind(to_ms(at))
        .fetch_one(&mut *tx)
        .await?;
        let entry = NewAudit { target: format!("hall_device:{id}"), ..audit.clone() };
        crate::audit::append(&mut tx, &self.chain(), &[entry]).await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    /// A device that has not been revoked, by the hash of its secret.
    pub async fn device_by_token_hash(&self, token_hash: &str) -> Result<Option<DeviceRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{DEVICE_SELECT} WHERE d.token_hash = $1 AND d.revoked_at IS NULL"
        )))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(device_row).transpose()
    }

    /// Devices at windows of organizations under `path_prefix`, revoked ones included.
    pub async fn list_devices(&self, path_prefix: &str) -> Result<Vec<DeviceRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{DEVICE_SELECT} WHERE o.path LIKE $1 ORDER BY d.code")))
            .bind(format!("{path_prefix}%"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(device_row).collect()
    }

    /// Puts a stopped device back in use under a new secret (the old address stays dead: a device stopped
    /// because it was lost must not come back with it). False when it is unknown or in use.
    pub async fn reactivate_device(&self, id: i64, token_hash: &str, audit: &NewAudit) -> Result<bool, StoreError> {
        let statement = sqlx::query(
            "UPDATE hall_device SET revoked_at = NULL, token_hash = $1 WHERE id = $2 AND revoked_at IS NOT NULL",
        )
        .bind(token_hash.to_string())
        .bind(id);
        self.update_one_audited(statement, audit).await
    }

    /// Revokes a device; false when it was unknown or already revoked.
    pub async fn revoke_device(&self, code: &str, at: DateTime<Utc>, audit: &NewAudit) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE hall_device SET revoked_at = $1 WHERE code = $2 AND revoked_at IS NULL RETURNING id",
        )
        .bind(to_ms(at))
        .bind(code)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            return Ok(false);
        };
        let entry = NewAudit { target: format!("hall_device:{id}"), ..audit.clone() };
        crate::audit::append(&mut tx, &self.chain(), &[entry]).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Stores a one-time code and, in the same transaction, the text message that carries it (none when the
    /// number has nothing waiting at the window: no message to a number that did not come here) — unless
    /// `limit` codes were asked for this number since `since`: then nothing is written and the answer is
    /// `false`. Counted inside the write transaction (serialized per number on PostgreSQL, by the write lock
    /// on SQLite), so parallel requests cannot all pass the count first.
    pub async fn insert_window_login(
        &self,
        login: &NewWindowLogin<'_>,
        message: Option<NewMessage>,
        limit: i64,
        since: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        if self.backend == crate::Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(format!("window_login:{}", login.mobile_idx))
                .execute(&mut *tx)
                .await?;
        }
        let asked: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM window_login WHERE mobile_idx = $1 AND created_at >= $2")
                .bind(login.mobile_idx)
                .bind(to_ms(since))
                .fetch_one(&mut *tx)
                .await?;
        if asked >= limit {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO window_login (handle_hash, window_id, mobile_idx, code_hash, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(login.handle_hash)
        .bind(login.window_id)
        .bind(login.mobile_idx)
        .bind(login.code_hash)
        .bind(to_ms(login.at))
        .bind(to_ms(login.expires_at))
        .execute(&mut *tx)
        .await?;
        if let Some(m) = message {
            insert_messages(&mut tx, &[m]).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn window_login(&self, handle_hash: &str) -> Result<Option<WindowLoginRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, window_id, mobile_idx, code_hash, expires_at, attempts, used_at FROM window_login
             WHERE handle_hash = $1",
        )
        .bind(handle_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(WindowLoginRow {
                id: r.try_get("id")?,
                window_id: r.try_get("window_id")?,
                mobile_idx: r.try_get("mobile_idx")?,
                code_hash: r.try_get("code_hash")?,
                expires_at: from_ms(r.try_get("expires_at")?),
                attempts: r.try_get("attempts")?,
                used_at: r.try_get::<Option<i64>, _>("used_at")?.map(from_ms),
            })
        })
        .transpose()
    }

    /// Takes one try at a code before it is compared: the tries so far including this one, or `None` when the
    /// code has had `max` tries or was used. One statement, so parallel guesses cannot get more than `max`.
    pub async fn take_window_code_try(&self, id: i64, max: i64) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "UPDATE window_login SET attempts = attempts + 1 WHERE id = $1 AND attempts < $2 AND used_at IS NULL
             RETURNING attempts",
        )
        .bind(id)
        .bind(max)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Uses a code once; false when it was already used (a second tab, a replayed form).
    pub async fn use_window_login(&self, id: i64, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE window_login SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
            .bind(to_ms(at))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
