//! The outbox (issue 5 §7): notifications written in the transaction of the step that causes them, then
//! delivered by a worker that claims a batch, sends, and marks each sent or schedules a retry. A message is
//! claimed for a lease, so a worker that dies mid-send leaves it to be claimed again (at-least-once; the
//! message id goes with it so a gateway can drop a repeat).

use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, Row};

use crate::time::{from_ms, to_ms};
use crate::{Backend, Store, StoreError};

/// Who a message is for: a unit (by org code), a staff member (by staff number), or the evaluator (by their
/// mobile, sealed under `recipient_key_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub recipient_kind: &'static str,
    pub recipient: String,
    pub recipient_key_id: Option<String>,
    pub template: &'static str,
    /// With `{secret}` where the secret goes, if it has one.
    pub body: String,
    /// A window code or a second-rating link, sealed: never stored in clear (issue 14 §8).
    pub secret: Option<SealedSecret>,
    pub case_id: Option<i64>,
    pub at: DateTime<Utc>,
}

/// A message's secret, sealed with the data keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSecret {
    pub key_id: String,
    pub enc: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    pub id: i64,
    pub recipient_kind: String,
    pub recipient: String,
    pub recipient_key_id: Option<String>,
    pub template: String,
    pub body: String,
    pub secret: Option<SealedSecret>,
    pub case_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// How it left, when delivered (`None` for messages delivered before this was recorded).
    pub delivered_via: Option<DeliveredVia>,
    pub next_attempt_at: DateTime<Utc>,
}

/// How a delivered message left: only `Webhook` reached a person (issue 28 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveredVia {
    /// The SMS or messaging gateway answered 2xx.
    Webhook,
    /// No gateway was configured: the message was written to the log only.
    Log,
}

impl DeliveredVia {
    fn as_str(self) -> &'static str {
        match self {
            DeliveredVia::Webhook => "webhook",
            DeliveredVia::Log => "log",
        }
    }

    fn parse(s: &str) -> Result<DeliveredVia, StoreError> {
        match s {
            "webhook" => Ok(DeliveredVia::Webhook),
            "log" => Ok(DeliveredVia::Log),
            other => Err(StoreError::Corrupt(format!("outbox.delivered_via {other:?}"))),
        }
    }
}

pub(crate) async fn insert_messages(conn: &mut AnyConnection, messages: &[NewMessage]) -> Result<(), StoreError> {
    for m in messages {
        sqlx::query(
            "INSERT INTO outbox (recipient_kind, recipient, recipient_key_id, template, body, case_id, created_at,
                next_attempt_at, secret_key_id, secret_enc)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(m.recipient_kind)
        .bind(m.recipient.clone())
        .bind(m.recipient_key_id.clone())
        .bind(m.template)
        .bind(m.body.clone())
        .bind(m.case_id)
        .bind(to_ms(m.at))
        .bind(to_ms(m.at))
        .bind(m.secret.as_ref().map(|x| x.key_id.clone()))
        .bind(m.secret.as_ref().map(|x| x.enc.clone()))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Tells the staff member who served each record that it got a bad review (one statement for a batch: this
/// runs in the evaluation writer's transaction).
pub(crate) async fn notify_staff_of_cases(
    conn: &mut AnyConnection,
    backend: Backend,
    case_ids: &[i64],
) -> Result<(), StoreError> {
    if case_ids.is_empty() {
        return Ok(());
    }
    let mut sql = String::from(
        "INSERT INTO outbox (recipient_kind, recipient, template, body, case_id, created_at, next_attempt_at)
         SELECT 'staff', s.staff_number, 'bad_review_staff',
            '您经办的办件 ' || r.record_number || ' 收到一条差评,请登录好差评系统查看;如有异议,可在规定期限内提出申诉。',
            c.id, c.created_at, c.created_at
         FROM bad_review_case c
         JOIN service_record r ON r.id = c.service_record_id
         JOIN staff s ON s.id = r.staff_id
         WHERE c.id IN ",
    );
    crate::sql::push_tuple(&mut sql, backend, 1, case_ids.len());
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in case_ids {
        q = q.bind(*id);
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

macro_rules! message_select {
    () => {
        "SELECT id, recipient_kind, recipient, recipient_key_id, template, body, case_id, created_at, attempts,
            last_error, delivered_at, delivered_via, next_attempt_at, secret_key_id, secret_enc FROM outbox "
    };
}

fn message_row(r: &sqlx::any::AnyRow) -> Result<MessageRow, StoreError> {
    Ok(MessageRow {
        id: r.try_get("id")?,
        recipient_kind: r.try_get("recipient_kind")?,
        recipient: r.try_get("recipient")?,
        recipient_key_id: r.try_get("recipient_key_id")?,
        template: r.try_get("template")?,
        body: r.try_get("body")?,
        secret: match (r.try_get::<Option<String>, _>("secret_key_id")?, r.try_get::<Option<String>, _>("secret_enc")?)
        {
            (Some(key_id), Some(enc)) => Some(SealedSecret { key_id, enc }),
            _ => None,
        },
        case_id: r.try_get("case_id")?,
        created_at: from_ms(r.try_get("created_at")?),
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
        delivered_at: r.try_get::<Option<i64>, _>("delivered_at")?.map(from_ms),
        delivered_via: r
            .try_get::<Option<String>, _>("delivered_via")?
            .as_deref()
            .map(DeliveredVia::parse)
            .transpose()?,
        next_attempt_at: from_ms(r.try_get("next_attempt_at")?),
    })
}

impl Store {
    /// Claims up to `limit` messages due at `now` for `lease`: nobody else claims them until the lease ends.
    /// PostgreSQL skips rows another worker holds (`FOR UPDATE SKIP LOCKED`); SQLite has one writer at a time.
    pub async fn claim_messages(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: i64,
    ) -> Result<Vec<MessageRow>, StoreError> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE outbox SET claimed_until = $1, attempts = attempts + 1
             WHERE id IN (SELECT id FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= $2
                 AND (claimed_until IS NULL OR claimed_until <= $2) ORDER BY next_attempt_at, id LIMIT $3{lock})
             RETURNING id, recipient_kind, recipient, recipient_key_id, template, body, case_id, created_at,
                 attempts, last_error, delivered_at, delivered_via, next_attempt_at, secret_key_id, secret_enc"
        );
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(to_ms(now + lease))
            .bind(to_ms(now))
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut out: Vec<MessageRow> = rows.iter().map(message_row).collect::<Result<_, _>>()?;
        out.sort_by_key(|m| m.id);
        Ok(out)
    }

    pub async fn mark_delivered(&self, id: i64, at: DateTime<Utc>, via: DeliveredVia) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET delivered_at = $1, delivered_via = $2, claimed_until = NULL, last_error = NULL WHERE id = $3",
        )
        .bind(to_ms(at))
        .bind(via.as_str())
        .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A failed attempt: try again at `retry_at`, keeping the reason for the console.
    pub async fn mark_failed(&self, id: i64, error: &str, retry_at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE outbox SET next_attempt_at = $1, claimed_until = NULL, last_error = $2 WHERE id = $3")
            .bind(to_ms(retry_at))
            .bind(error.chars().take(500).collect::<String>())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Counts messages written before `before` as delivered then (loading history: the demo's past).
    pub async fn mark_history_delivered(&self, before: DateTime<Utc>, via: DeliveredVia) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET delivered_at = created_at, delivered_via = $1 WHERE delivered_at IS NULL AND created_at < $2",
        )
        .bind(via.as_str())
        .bind(to_ms(before))
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected())
    }

    /// Messages of a case, oldest first.
    pub async fn case_messages(&self, case_id: i64) -> Result<Vec<MessageRow>, StoreError> {
        let rows = sqlx::query(concat!(message_select!(), "WHERE case_id = $1 ORDER BY id"))
            .bind(case_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(message_row).collect()
    }

    /// Messages not delivered yet, oldest first (for the console and for tests).
    pub async fn pending_messages(&self, limit: i64) -> Result<Vec<MessageRow>, StoreError> {
        let rows = sqlx::query(concat!(message_select!(), "WHERE delivered_at IS NULL ORDER BY id LIMIT $1"))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(message_row).collect()
    }

    pub async fn count_messages(&self) -> Result<(i64, i64), StoreError> {
        // Each count from an index (the waiting ones from their partial index), not a read of every message.
        let r = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM outbox), (SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL)",
        )
        .fetch_one(&self.pool)
        .await?;
        let (total, waiting): (i64, i64) = (r.try_get(0)?, r.try_get(1)?);
        Ok((total, total - waiting))
    }
}
