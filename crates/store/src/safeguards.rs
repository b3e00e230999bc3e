//! What keeps one person from doing too much alone (issue 14): the daily reveal quota, who could act as an
//! account, and the 12345 ticket behind a hotline evaluation. Each limit is one statement in the database, so
//! it holds under parallel requests and across instances.

use chrono::{DateTime, Utc};

use crate::evaluations::{NewEvaluation, bad_review_ids, insert_evaluations};
use crate::time::to_ms;
use crate::{NewAudit, Store, StoreError};

/// Why a hotline evaluation was not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HotlineInsert {
    Written(i64),
    /// The record has its evaluation already.
    AlreadyEvaluated,
    /// The 12345 ticket carried an evaluation already (of this record or another).
    TicketUsed,
}

impl Store {
    /// Counts one reveal of `user_id` on `day` if fewer than `quota` were counted; `false` when the quota is
    /// used up. One upsert: two parallel requests cannot both take the last one.
    pub async fn take_reveal(&self, user_id: i64, day: &str, quota: i64) -> Result<bool, StoreError> {
        if quota <= 0 {
            return Ok(false);
        }
        let mut tx = self.begin_write().await?;
        let used: Option<i64> = sqlx::query_scalar(
            "INSERT INTO reveal_count (user_id, day, used) VALUES ($1, $2, 1)
             ON CONFLICT (user_id, day) DO UPDATE SET used = reveal_count.used + 1 WHERE reveal_count.used < $3
             RETURNING used",
        )
        .bind(user_id)
        .bind(day)
        .bind(quota)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(used.is_some())
    }

    /// Reveals counted for `user_id` on `day`.
    pub async fn reveals_used(&self, user_id: i64, day: &str) -> Result<i64, StoreError> {
        let used: Option<i64> = sqlx::query_scalar("SELECT used FROM reveal_count WHERE user_id = $1 AND day = $2")
            .bind(user_id)
            .bind(day)
            .fetch_optional(&self.pool)
            .await?;
        Ok(used.unwrap_or(0))
    }

    /// Audit entries of one action since an instant (the auditor's alerts).
    pub async fn audit_count_since(&self, action: &str, since: DateTime<Utc>) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = $1 AND at >= $2")
            .bind(action)
            .bind(to_ms(since))
            .fetch_one(&self.pool)
            .await?)
    }

    /// Everyone who could have acted as the account `username` besides its holder: whoever created it and
    /// whoever reset its password (as the audit log names them, `user:<name>`). Empty for an unknown account.
    pub async fn account_controllers(&self, username: &str) -> Result<Vec<String>, StoreError> {
        let row: Option<(i64, Option<String>)> =
            sqlx::query_as("SELECT id, created_by FROM app_user WHERE username = $1")
                .bind(username)
                .fetch_optional(&self.pool)
                .await?;
        let Some((id, created_by)) = row else { return Ok(Vec::new()) };
        let mut out: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT actor FROM audit_log WHERE target = $1 AND action = 'password.reset'")
                .bind(format!("user:{id}"))
                .fetch_all(&self.pool)
                .await?;
        out.extend(created_by);
        Ok(out)
    }

    /// A caller's evaluation recorded by a hotline agent with the 12345 ticket of the call: the ticket and the
    /// evaluation are written together or not at all.
    pub async fn insert_hotline_evaluation(
        &self,
        e: &NewEvaluation,
        ticket_number: &str,
        audit: &NewAudit,
    ) -> Result<HotlineInsert, StoreError> {
        let mut tx = self.begin_write().await?;
        let ticket: Option<String> = sqlx::query_scalar(
            "INSERT INTO hotline_ticket (ticket_number, service_record_id, recorded_by, at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (ticket_number) DO NOTHING RETURNING ticket_number",
        )
        .bind(ticket_number)
        .bind(e.service_record_id)
        .bind(e.recorded_by.clone().unwrap_or_default())
        .bind(to_ms(e.created_at))
        .fetch_optional(&mut *tx)
        .await?;
        if ticket.is_none() {
            tx.rollback().await?;
            return Ok(HotlineInsert::TicketUsed);
        }
        let inserted = insert_evaluations(&mut tx, self.backend, std::slice::from_ref(e)).await?;
        let Some(id) = inserted.get(&e.service_record_id).copied() else {
            tx.rollback().await?;
            return Ok(HotlineInsert::AlreadyEvaluated);
        };
        let details = format!(r#"{{"evaluation_id":{id},{}"#, audit.details.trim_start_matches('{'));
        let mut entries = vec![NewAudit { details, ..audit.clone() }];
        entries.extend(
            crate::cases::open_cases(&mut tx, self.backend, &bad_review_ids(std::slice::from_ref(e), &inserted))
                .await?,
        );
        crate::audit::append(&mut tx, &self.chain(), &entries).await?;
        tx.commit().await?;
        Ok(HotlineInsert::Written(id))
    }

    /// The ticket number a hotline evaluation of this record was recorded with.
    pub async fn hotline_ticket_of(&self, service_record_id: i64) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT ticket_number FROM hotline_ticket WHERE service_record_id = $1")
            .bind(service_record_id)
            .fetch_optional(&self.pool)
            .await?)
    }
}
