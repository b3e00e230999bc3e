//! Re-encrypting evaluator data under a new data key (`hcp keys rotate`), a batch per transaction so the
//! service keeps running.

use sqlx::Row;

use crate::{Store, StoreError};

/// One record's personal data as it is stored, for re-encryption.
#[derive(Debug, Clone)]
pub struct StoredApplicant {
    pub record_id: i64,
    /// Bound into each field's associated data.
    pub record_number: String,
    pub key_id: String,
    pub name_enc: String,
    pub id_number_enc: String,
    pub mobile_enc: String,
}

/// The same record's data under the new key.
#[derive(Debug, Clone)]
pub struct ReencryptedApplicant {
    pub record_id: i64,
    pub old_key_id: String,
    pub name_enc: String,
    pub id_number_enc: String,
    pub mobile_enc: String,
}

impl Store {
    /// Records `fingerprint` as the database's data keys if it has none yet, and answers the one recorded (the
    /// first instance's, when several start at once).
    pub async fn register_key_fingerprint(
        &self,
        fingerprint: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<String, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO data_key_fingerprint (id, fingerprint, created_at) VALUES (1, $1, $2)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(fingerprint)
        .bind(crate::time::to_ms(at))
        .execute(&mut *tx)
        .await?;
        let stored: String =
            sqlx::query_scalar("SELECT fingerprint FROM data_key_fingerprint WHERE id = 1").fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// The fingerprint of the data keys recorded in the database, if any.
    pub async fn key_fingerprint(&self) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT fingerprint FROM data_key_fingerprint WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Up to `limit` records whose data is under a key other than `active`.
    pub async fn applicants_not_under(&self, active: &str, limit: i64) -> Result<Vec<StoredApplicant>, StoreError> {
        // Two ranges rather than `<>`, so the key index is used.
        let rows = sqlx::query(
            "SELECT id, record_number, applicant_key_id, applicant_name_enc, applicant_id_number_enc, applicant_mobile_enc
             FROM service_record WHERE applicant_key_id < $1 OR applicant_key_id > $1 LIMIT $2",
        )
        .bind(active)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredApplicant {
                    record_id: r.try_get("id")?,
                    record_number: r.try_get("record_number")?,
                    key_id: r.try_get("applicant_key_id")?,
                    name_enc: r.try_get("applicant_name_enc")?,
                    id_number_enc: r.try_get("applicant_id_number_enc")?,
                    mobile_enc: r.try_get("applicant_mobile_enc")?,
                })
            })
            .collect()
    }

    /// Writes re-encrypted data in one transaction. A row changed meanwhile (its key id is no longer the
    /// old one) is left alone. Returns how many rows changed.
    pub async fn store_reencrypted(&self, key_id: &str, rows: &[ReencryptedApplicant]) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut changed = 0;
        for r in rows {
            changed += sqlx::query(
                "UPDATE service_record SET applicant_key_id = $1, applicant_name_enc = $2,
                    applicant_id_number_enc = $3, applicant_mobile_enc = $4
                 WHERE id = $5 AND applicant_key_id = $6",
            )
            .bind(key_id)
            .bind(r.name_enc.as_str())
            .bind(r.id_number_enc.as_str())
            .bind(r.mobile_enc.as_str())
            .bind(r.record_id)
            .bind(r.old_key_id.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Staff members' sealed mobiles and ID numbers under a key other than `active` (a county has hundreds
    /// of staff, not millions: one query), as (staff id, staff number, field, key id, ciphertext); field is
    /// `mobile` or `id_number`.
    pub async fn staff_fields_not_under(
        &self,
        active: &str,
    ) -> Result<Vec<(i64, String, &'static str, String, String)>, StoreError> {
        let mut out = Vec::new();
        for (field, sql) in [
            (
                "mobile",
                "SELECT id, staff_number, mobile_key_id AS k, mobile_enc AS e FROM staff WHERE mobile_key_id <> $1",
            ),
            (
                "id_number",
                "SELECT id, staff_number, id_number_key_id AS k, id_number_enc AS e FROM staff
                 WHERE id_number_key_id <> $1",
            ),
        ] {
            for r in sqlx::query(sql).bind(active).fetch_all(&self.pool).await? {
                out.push((r.try_get("id")?, r.try_get("staff_number")?, field, r.try_get("k")?, r.try_get("e")?));
            }
        }
        Ok(out)
    }

    /// Writes one re-encrypted staff field unless it changed meanwhile; answers whether it was written.
    pub async fn store_staff_reencrypted(
        &self,
        staff_id: i64,
        field: &str,
        old_key_id: &str,
        key_id: &str,
        enc: &str,
    ) -> Result<bool, StoreError> {
        let sql = match field {
            "mobile" => "UPDATE staff SET mobile_key_id = $1, mobile_enc = $2 WHERE id = $3 AND mobile_key_id = $4",
            _ => "UPDATE staff SET id_number_key_id = $1, id_number_enc = $2 WHERE id = $3 AND id_number_key_id = $4",
        };
        let done = sqlx::query(sql).bind(key_id).bind(enc).bind(staff_id).bind(old_key_id).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    /// How many records are under each data key.
    pub async fn applicant_key_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT applicant_key_id, COUNT(*) FROM service_record GROUP BY applicant_key_id ORDER BY applicant_key_id",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
