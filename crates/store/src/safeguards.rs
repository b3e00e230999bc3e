//! What keeps one person from doing too much alone (issue 14): the daily reveal quota, who could act as an
//! account, and the 12345 ticket behind a hotline evaluation. Each limit is one statement in the database, so
//! it holds under parallel requests and across instances.

use chrono::{DateTime, Utc};

use crate::evaluations::{NewEvaluation, write_one_evaluation};
use crate::time::to_ms;
use crate::{NewAudit, Store, StoreError};

/// A hotline agent's evaluation waiting for the applicant's confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHotlinePending {
    pub service_record_id: i64,
    pub ticket_number: String,
    pub token_hash: String,
    pub level: &'static str,
    pub indicator_ids: String,
    pub staff_indicator_ids: String,
    pub comment: Option<String>,
    pub recorded_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The start of the business day: one confirmation text per record and day (issue 29 §3).
    pub day_start: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotlinePendingRow {
    pub id: i64,
    pub service_record_id: i64,
    pub ticket_number: String,
    pub level: String,
    pub indicator_ids: String,
    pub staff_indicator_ids: String,
    pub comment: Option<String>,
    pub recorded_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub outcome: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// Why a hotline evaluation was not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HotlineInsert {
    /// The evaluation's id (or, waiting for confirmation, the waiting row's).
    Written(i64),
    /// The record has its evaluation already.
    AlreadyEvaluated,
    /// The 12345 ticket carried an evaluation already (of this record or another).
    TicketUsed,
    /// Another hotline evaluation of the record is waiting for the applicant's confirmation (issue 29 §3: twelve
    /// in a row each texted the citizen).
    Pending,
    /// The applicant was texted about this record today already (a refused or answered one): one a day.
    TextedToday,
}

impl Store {
    /// Counts one reveal of `person` (`staff:<id>` or `user:<id>`) on `day` if fewer than `quota` were counted;
    /// `false` when the quota is used up. One upsert: two parallel requests cannot both take the last one.
    pub async fn take_reveal(&self, person: &str, day: &str, quota: i64) -> Result<bool, StoreError> {
        if quota <= 0 {
            return Ok(false);
        }
        let mut tx = self.begin_write().await?;
        let used: Option<i64> = sqlx::query_scalar(
            "INSERT INTO reveal_person_count (person, day, used) VALUES ($1, $2, 1)
             ON CONFLICT (person, day) DO UPDATE SET used = reveal_person_count.used + 1
             WHERE reveal_person_count.used < $3
             RETURNING used",
        )
        .bind(person)
        .bind(day)
        .bind(quota)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(used.is_some())
    }

    /// Reveals counted for `person` on `day`.
    pub async fn reveals_used(&self, person: &str, day: &str) -> Result<i64, StoreError> {
        let used: Option<i64> =
            sqlx::query_scalar("SELECT used FROM reveal_person_count WHERE person = $1 AND day = $2")
                .bind(person)
                .bind(day)
                .fetch_optional(&self.pool)
                .await?;
        Ok(used.unwrap_or(0))
    }

    /// Reveals (`applicant.reveal` entries) by any of `actors` since an instant: a burst is one person's many
    /// reveals in a short time, whichever of their accounts made them.
    pub async fn reveals_since(&self, actors: &[String], since: DateTime<Utc>) -> Result<i64, StoreError> {
        let mut n = 0;
        for actor in actors {
            n += sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'applicant.reveal' AND actor = $1 AND at >= $2",
            )
            .bind(actor)
            .bind(to_ms(since))
            .fetch_one(&self.pool)
            .await?;
        }
        Ok(n)
    }

    /// The usernames of the accounts linked to a staff member.
    pub async fn usernames_of_staff(&self, staff_id: i64) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT username FROM app_user WHERE staff_id = $1 ORDER BY id")
            .bind(staff_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Audit entries of one action since an instant (the auditor's alerts).
    pub async fn audit_count_since(&self, action: &str, since: DateTime<Utc>) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = $1 AND at >= $2")
            .bind(action)
            .bind(to_ms(since))
            .fetch_one(&self.pool)
            .await?)
    }

    /// Audit entries of one action on one target since an instant (an alert raised already).
    pub async fn audit_count_on_since(
        &self,
        action: &str,
        target: &str,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = $1 AND target = $2 AND at >= $3")
            .bind(action)
            .bind(target)
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
        let Some(id) = write_one_evaluation(&mut tx, &self.chain(), e, audit).await? else {
            tx.rollback().await?;
            return Ok(HotlineInsert::AlreadyEvaluated);
        };
        tx.commit().await?;
        Ok(HotlineInsert::Written(id))
    }

    /// Keeps a hotline agent's evaluation until the applicant confirms it: the ticket, the waiting evaluation,
    /// the text message with the confirmation link and the audit entry, together or not at all. `Written`
    /// carries the waiting row's id.
    pub async fn insert_hotline_pending(
        &self,
        p: &NewHotlinePending,
        message: &crate::NewMessage,
        audit: &NewAudit,
    ) -> Result<HotlineInsert, StoreError> {
        let mut tx = self.begin_write().await?;
        let evaluated: Option<i64> =
            sqlx::query_scalar("SELECT id FROM evaluation WHERE service_record_id = $1 AND round = 1")
                .bind(p.service_record_id)
                .fetch_optional(&mut *tx)
                .await?;
        if evaluated.is_some() {
            tx.rollback().await?;
            return Ok(HotlineInsert::AlreadyEvaluated);
        }
        // One evaluation waiting per record, so one text message: serialized on the record (PostgreSQL; SQLite
        // has one writer at a time).
        if self.backend == crate::Backend::Postgres {
            sqlx::query("SELECT id FROM service_record WHERE id = $1 FOR UPDATE")
                .bind(p.service_record_id)
                .fetch_optional(&mut *tx)
                .await?;
        }
        let waiting: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM hotline_pending WHERE service_record_id = $1 AND outcome IS NULL AND expires_at > $2 LIMIT 1",
        )
        .bind(p.service_record_id)
        .bind(to_ms(p.created_at))
        .fetch_optional(&mut *tx)
        .await?;
        if waiting.is_some() {
            tx.rollback().await?;
            return Ok(HotlineInsert::Pending);
        }
        let today: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM hotline_pending WHERE service_record_id = $1 AND created_at >= $2",
        )
        .bind(p.service_record_id)
        .bind(to_ms(p.day_start))
        .fetch_one(&mut *tx)
        .await?;
        if today > 0 {
            tx.rollback().await?;
            return Ok(HotlineInsert::TextedToday);
        }
        let ticket: Option<String> = sqlx::query_scalar(
            "INSERT INTO hotline_ticket (ticket_number, service_record_id, recorded_by, at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (ticket_number) DO NOTHING RETURNING ticket_number",
        )
        .bind(&p.ticket_number)
        .bind(p.service_record_id)
        .bind(&p.recorded_by)
        .bind(to_ms(p.created_at))
        .fetch_optional(&mut *tx)
        .await?;
        if ticket.is_none() {
            tx.rollback().await?;
            return Ok(HotlineInsert::TicketUsed);
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO hotline_pending (service_record_id, ticket_number, token_hash, level, indicator_ids,
                staff_indicator_ids, comment, recorded_by, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(p.service_record_id)
        .bind(&p.ticket_number)
        .bind(&p.token_hash)
        .bind(p.level)
        .bind(&p.indicator_ids)
        .bind(&p.staff_indicator_ids)
        .bind(p.comment.clone())
        .bind(&p.recorded_by)
        .bind(to_ms(p.created_at))
        .bind(to_ms(p.expires_at))
        .fetch_one(&mut *tx)
        .await?;
        crate::outbox::insert_messages(&mut tx, std::slice::from_ref(message)).await?;
        let details = format!(r#"{{"pending_id":{id},{}"#, audit.details.trim_start_matches('{'));
        crate::audit::append(&mut tx, &self.chain(), &[NewAudit { details, ..audit.clone() }]).await?;
        tx.commit().await?;
        Ok(HotlineInsert::Written(id))
    }

    pub async fn hotline_pending_by_token(&self, token_hash: &str) -> Result<Option<HotlinePendingRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, service_record_id, ticket_number, level, indicator_ids, staff_indicator_ids, comment,
                recorded_by, created_at, expires_at, outcome, decided_at
             FROM hotline_pending WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            use sqlx::Row;
            Ok(HotlinePendingRow {
                id: r.try_get("id")?,
                service_record_id: r.try_get("service_record_id")?,
                ticket_number: r.try_get("ticket_number")?,
                level: r.try_get("level")?,
                indicator_ids: r.try_get("indicator_ids")?,
                staff_indicator_ids: r.try_get("staff_indicator_ids")?,
                comment: r.try_get("comment")?,
                recorded_by: r.try_get("recorded_by")?,
                created_at: crate::time::from_ms(r.try_get("created_at")?),
                expires_at: crate::time::from_ms(r.try_get("expires_at")?),
                outcome: r.try_get("outcome")?,
                decided_at: r.try_get::<Option<i64>, _>("decided_at")?.map(crate::time::from_ms),
            })
        })
        .transpose()
    }

    /// The applicant's answer to a waiting hotline evaluation. Confirmed, the evaluation is written (with its
    /// case if bad) in the same transaction; declined, it never counts. `None` when it was answered already;
    /// `Some(None)` when confirmed but the record had meanwhile been evaluated another way.
    pub async fn decide_hotline_pending(
        &self,
        id: i64,
        confirmed: Option<&NewEvaluation>,
        at: DateTime<Utc>,
        audit: &NewAudit,
    ) -> Result<Option<Option<i64>>, StoreError> {
        let mut tx = self.begin_write().await?;
        let outcome = if confirmed.is_some() { "confirmed" } else { "declined" };
        let done =
            sqlx::query("UPDATE hotline_pending SET outcome = $1, decided_at = $2 WHERE id = $3 AND outcome IS NULL")
                .bind(outcome)
                .bind(to_ms(at))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        let written = match confirmed {
            Some(e) => {
                let Some(id) = write_one_evaluation(&mut tx, &self.chain(), e, audit).await? else {
                    tx.rollback().await?;
                    return Ok(Some(None));
                };
                Some(id)
            }
            None => {
                crate::audit::append(&mut tx, &self.chain(), std::slice::from_ref(audit)).await?;
                None
            }
        };
        tx.commit().await?;
        Ok(Some(written))
    }

    /// The ticket number a hotline evaluation of this record was recorded with.
    pub async fn hotline_ticket_of(&self, service_record_id: i64) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT ticket_number FROM hotline_ticket WHERE service_record_id = $1")
            .bind(service_record_id)
            .fetch_optional(&self.pool)
            .await?)
    }
}
