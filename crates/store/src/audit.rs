//! The tamper-evident audit log. Appends happen inside the transaction of the change they record, so an
//! entry exists exactly when its change does.

use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, Row};

use crate::time::{from_ms, to_ms};
use crate::{Backend, Store, StoreError};

/// An entry to append. `details` is JSON without personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAudit {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: &'static str,
    pub target: String,
    pub details: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The audit chain's HMAC-SM3 key (derived from the data keys, kept outside the database). Never printed.
#[derive(Clone)]
pub struct AuditKey(pub(crate) [u8; 32]);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(…)")
    }
}

/// How entries are chained: the backend's SQL and, once loaded, the key.
pub(crate) struct Chain<'a> {
    pub backend: Backend,
    pub key: Option<&'a AuditKey>,
}

/// The hash of an entry over the previous hash and every field, each on its own line: HMAC-SM3 under the audit
/// key (entries from the head's `mac_from` on), or plain SM3 (entries written before the chain was keyed). One
/// definition, used to append and to verify.
#[expect(clippy::too_many_arguments, reason = "every field of the entry is hashed")]
pub fn entry_hash(
    key: Option<&AuditKey>,
    prev_hash: &str,
    seq: i64,
    at_ms: i64,
    actor: &str,
    action: &str,
    target: &str,
    details: &str,
) -> String {
    let text = format!("{prev_hash}\n{seq}\n{at_ms}\n{actor}\n{action}\n{target}\n{details}");
    match key {
        Some(k) => hcp_crypto::hex(&hcp_crypto::hmac_sm3(&k.0, text.as_bytes())),
        None => hcp_crypto::hex(&hcp_crypto::sm3(text.as_bytes())),
    }
}

fn missing_key() -> StoreError {
    StoreError::Corrupt("the audit chain is keyed but the data keys (its key) are not loaded".into())
}

/// Appends entries in order, chained to the head; call inside the transaction of the change.
pub(crate) async fn append(
    conn: &mut AnyConnection,
    chain: &Chain<'_>,
    entries: &[NewAudit],
) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let backend = chain.backend;
    // Taking the head row's lock first makes concurrent appenders (other instances) wait their turn.
    let head = sqlx::query("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, last_hash, mac_from")
        .bind(entries.len() as i64)
        .fetch_one(&mut *conn)
        .await?;
    let last_seq: i64 = head.try_get("seq")?;
    let mut prev: String = head.try_get("last_hash")?;
    let mac_from: Option<i64> = head.try_get("mac_from")?;
    let first = last_seq - entries.len() as i64 + 1;
    let key_for = |seq: i64| -> Result<Option<&AuditKey>, StoreError> {
        if mac_from.is_some_and(|m| seq >= m) { chain.key.map(Some).ok_or_else(missing_key) } else { Ok(None) }
    };
    for chunk_start in (0..entries.len()).step_by(500) {
        let chunk = &entries[chunk_start..(chunk_start + 500).min(entries.len())];
        let mut sql =
            String::from("INSERT INTO audit_log (seq, at, actor, action, target, details, prev_hash, hash) VALUES ");
        crate::sql::push_rows(&mut sql, backend, chunk.len(), 8);
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (i, e) in chunk.iter().enumerate() {
            let seq = first + (chunk_start + i) as i64;
            let at = to_ms(e.at);
            let hash = entry_hash(key_for(seq)?, &prev, seq, at, &e.actor, e.action, &e.target, &e.details);
            q = q
                .bind(seq)
                .bind(at)
                .bind(e.actor.clone())
                .bind(e.action)
                .bind(e.target.clone())
                .bind(e.details.clone())
                .bind(std::mem::replace(&mut prev, hash.clone()))
                .bind(hash);
        }
        q.execute(&mut *conn).await?;
    }
    sqlx::query("UPDATE audit_head SET last_hash = $1 WHERE id = 1").bind(prev).execute(&mut *conn).await?;
    Ok(())
}

/// Where the chain breaks, if it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainCheck {
    Intact {
        entries: i64,
        /// The first entry under the key; those before it predate the keyed chain (an upgrade).
        keyed_from: i64,
    },
    /// The first entry whose stored hash or link does not match the recomputation.
    Broken { seq: i64, reason: &'static str },
}

impl Store {
    /// Appends entries in a transaction of their own (for changes made outside the database, like a key file).
    pub async fn append_audit(&self, entries: &[NewAudit]) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        append(&mut tx, &self.chain(), entries).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Entries in order, filtered, newest last; for the auditor.
    pub async fn audit_entries(
        &self,
        action_prefix: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<AuditRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, target, details, prev_hash, hash FROM audit_log
             WHERE seq > $1 AND action LIKE $2 ORDER BY seq LIMIT $3",
        )
        .bind(after_seq)
        .bind(format!("{action_prefix}%"))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditRow {
                    seq: r.try_get("seq")?,
                    at: from_ms(r.try_get("at")?),
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    target: r.try_get("target")?,
                    details: r.try_get("details")?,
                    prev_hash: r.try_get("prev_hash")?,
                    hash: r.try_get("hash")?,
                })
            })
            .collect()
    }

    /// The head of the chain: the last sequence number and its hash (an anchor to keep outside the database).
    pub async fn audit_head(&self) -> Result<(i64, String), StoreError> {
        Ok(sqlx::query_as("SELECT seq, last_hash FROM audit_head WHERE id = 1").fetch_one(&self.pool).await?)
    }

    /// The stored hash of one entry, if it exists; entry 0 is the chain's start (all zeros), the anchor of a
    /// database without entries.
    pub async fn audit_hash_at(&self, seq: i64) -> Result<Option<String>, StoreError> {
        if seq == 0 {
            return Ok(Some("0".repeat(64)));
        }
        Ok(sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1").bind(seq).fetch_optional(&self.pool).await?)
    }

    /// The first entry under the key, as the database says (`None`: the marker was cleared — every migrated
    /// database has one, so that is a downgrade).
    pub async fn audit_keyed_from(&self) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT mac_from FROM audit_head WHERE id = 1").fetch_one(&self.pool).await?)
    }

    /// Recomputes the whole chain from the first entry, a page at a time, and checks it ends at the head.
    pub async fn verify_audit_chain(&self) -> Result<ChainCheck, StoreError> {
        self.verify_audit_chain_after(0, "0".repeat(64)).await
    }

    /// Recomputes the chain from the entry after `after_seq` (whose hash is `prev_hash`, e.g. an anchor kept
    /// outside) to the head: the server's check at start, cheap however long the log is.
    pub async fn verify_audit_chain_after(&self, after_seq: i64, prev_hash: String) -> Result<ChainCheck, StoreError> {
        let mac_from = self.audit_keyed_from().await?;
        let key = self.audit_key.get();
        if mac_from.is_some() && key.is_none() {
            return Err(missing_key());
        }
        let mut prev = prev_hash;
        let mut expected_seq = after_seq + 1;
        loop {
            let page = self.audit_entries("", expected_seq - 1, 10_000).await?;
            if page.is_empty() {
                break;
            }
            for e in &page {
                if e.seq != expected_seq {
                    return Ok(ChainCheck::Broken { seq: expected_seq, reason: "missing" });
                }
                if e.prev_hash != prev {
                    return Ok(ChainCheck::Broken { seq: e.seq, reason: "link" });
                }
                let k = if mac_from.is_some_and(|m| e.seq >= m) { key } else { None };
                let at = crate::time::to_ms(e.at);
                let h = entry_hash(k, &prev, e.seq, at, &e.actor, &e.action, &e.target, &e.details);
                if h != e.hash {
                    return Ok(ChainCheck::Broken { seq: e.seq, reason: "content" });
                }
                prev = h;
                expected_seq += 1;
            }
        }
        let head = sqlx::query("SELECT seq, last_hash FROM audit_head WHERE id = 1").fetch_one(&self.pool).await?;
        let (head_seq, head_hash): (i64, String) = (head.try_get("seq")?, head.try_get("last_hash")?);
        if head_seq != expected_seq - 1 {
            return Ok(ChainCheck::Broken { seq: expected_seq, reason: "missing" });
        }
        if head_hash != prev {
            return Ok(ChainCheck::Broken { seq: head_seq, reason: "content" });
        }
        Ok(ChainCheck::Intact { entries: head_seq, keyed_from: mac_from.unwrap_or(i64::MAX).min(head_seq + 1) })
    }
}
