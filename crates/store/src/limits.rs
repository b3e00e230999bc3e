//! The limit on guessed evaluation links (issue 4 §6), kept in the database so that every instance behind a
//! load balancer counts against the same allowance (issue 18 §5). Each statement is one atomic step, so
//! parallel guesses cannot slip past the count.

use chrono::{DateTime, Utc};

use crate::time::to_ms;
use crate::{Store, StoreError};

impl Store {
    /// Whether the address has `limit` failures in its window that began after `since`.
    pub async fn token_guesses_blocked(
        &self,
        address_idx: &str,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<bool, StoreError> {
        let failures: Option<i64> =
            sqlx::query_scalar("SELECT failures FROM token_guess WHERE address_idx = $1 AND window_start > $2")
                .bind(address_idx)
                .bind(to_ms(since))
                .fetch_optional(&self.pool)
                .await?;
        Ok(failures.is_some_and(|n| n >= i64::from(limit)))
    }

    /// Counts one failure of the address: in its window if that began after `since`, else in a new one from
    /// `now`.
    pub async fn token_guess_failed(
        &self,
        address_idx: &str,
        now: DateTime<Utc>,
        since: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO token_guess (address_idx, window_start, failures) VALUES ($1, $2, 1)
             ON CONFLICT (address_idx) DO UPDATE SET
                failures = CASE WHEN token_guess.window_start > $3 THEN token_guess.failures + 1 ELSE 1 END,
                window_start = CASE WHEN token_guess.window_start > $3 THEN token_guess.window_start ELSE $2 END",
        )
        .bind(address_idx)
        .bind(to_ms(now))
        .bind(to_ms(since))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets windows that began before `before` (the jobs, so the table stays small).
    pub async fn purge_token_guesses(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM token_guess WHERE window_start < $1")
            .bind(to_ms(before))
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}

impl Store {
    /// Takes or renews the lease on a job until `until`: `true` when this `holder` has it (it was free,
    /// lapsed, or already this holder's). One statement, so two instances asking at once cannot both win.
    pub async fn take_job_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO job_lease (name, holder, until_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_at = excluded.until_at
             WHERE job_lease.until_at < $4 OR job_lease.holder = excluded.holder",
        )
        .bind(name)
        .bind(holder)
        .bind(to_ms(until))
        .bind(to_ms(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
