//! API keys of integrating systems. Only a hash of each key is stored.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::time::to_ms;
use crate::{Store, StoreError};

#[derive(Debug, Clone)]
pub struct ApiKeyRow {
    pub id: i64,
    /// The integrating system's name; also the `source_system` of the records it registers.
    pub name: String,
    /// `None`: the key acts for the whole county.
    pub org_id: Option<i64>,
    pub org_path: Option<String>,
}

impl Store {
    pub async fn insert_api_key(
        &self,
        name: &str,
        key_hash: &str,
        org_id: Option<i64>,
        now: DateTime<Utc>,
        audit: &crate::NewAudit,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_key (name, key_hash, org_id, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(name)
        .bind(key_hash)
        .bind(org_id)
        .bind(to_ms(now))
        .fetch_one(&mut *tx)
        .await?;
        let entry = crate::NewAudit { target: format!("api_key:{id}"), ..audit.clone() };
        crate::audit::append(&mut tx, &self.chain(), &[entry]).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The live key with this hash, if any.
    pub async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKeyRow>, StoreError> {
        let row = sqlx::query(
            "SELECT k.id, k.name, k.org_id, o.path AS org_path FROM api_key k LEFT JOIN org o ON o.id = k.org_id
             WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
        )
        .bind(key_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(ApiKeyRow {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                org_id: r.try_get("org_id")?,
                org_path: r.try_get("org_path")?,
            })
        })
        .transpose()
    }
}
