//! Accounts, role bindings, sessions and failed logins.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::time::{from_ms, to_ms};
use crate::{NewAudit, Store, StoreError};

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub staff_id: Option<i64>,
    pub failed_logins: i64,
    pub locked_until: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// A role over an org subtree, with the org's path for scope checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingRow {
    pub role: String,
    pub org_id: i64,
    pub org_code: String,
    pub org_name: String,
    pub org_path: String,
}

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// The account columns; a macro so that queries stay `&'static str` literals.
macro_rules! user_select {
    () => {
        "SELECT id, username, display_name, password_hash, staff_id, failed_logins, locked_until, disabled_at
         FROM app_user "
    };
}

fn user_row(r: &sqlx::any::AnyRow) -> Result<UserRow, StoreError> {
    Ok(UserRow {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        password_hash: r.try_get("password_hash")?,
        staff_id: r.try_get("staff_id")?,
        failed_logins: r.try_get("failed_logins")?,
        locked_until: r.try_get::<Option<i64>, _>("locked_until")?.map(from_ms),
        disabled_at: r.try_get::<Option<i64>, _>("disabled_at")?.map(from_ms),
    })
}

/// A login attempt, reserved before its password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginReservation {
    /// Go ahead; the attempt is written as pending (the account's id, if the name exists).
    Reserved {
        user_id: Option<i64>,
    },
    ClientLocked,
    /// Locked for this client: five failures from it, or from anywhere and this client never logged in to it.
    AccountLocked,
    /// Attempts still being checked would reach a limit: try again in a moment.
    Busy,
}

/// A session to open after a verified password.
#[derive(Debug, Clone, Copy)]
pub struct NewUserSession<'a> {
    pub user_id: i64,
    /// The hash the password was verified against (the account must still have it).
    pub verified_hash: &'a str,
    pub id_hash: &'a str,
    pub csrf_token: &'a str,
    pub now: DateTime<Utc>,
    /// The reservation of this attempt, given back.
    pub attempt: &'a str,
    pub client: &'a str,
}

/// The limits a login attempt is checked against.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    pub now: DateTime<Utc>,
    /// Failures of one client (over every name) since `client_since`, at most `client_limit`.
    pub client_limit: i64,
    pub client_since: DateTime<Utc>,
    /// Failures of one name since `lock_since`, at most `lock_after`; a lock lasts until `lock_until`.
    pub lock_after: i64,
    pub lock_since: DateTime<Utc>,
    pub lock_until: DateTime<Utc>,
    /// A client that logged in to the account since then may still try when strangers locked it.
    pub known_since: DateTime<Utc>,
}

/// What became of a new account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserInsert {
    Created(i64),
    UsernameTaken,
    /// The staff number is linked to this other account already.
    StaffLinked(String),
}

impl Store {
    /// Creates an account with one role binding. Returns `None` if the username is taken.
    #[expect(clippy::too_many_arguments, reason = "one row and its first binding, written together")]
    pub async fn insert_user(
        &self,
        username: &str,
        display_name: &str,
        password_hash: &str,
        staff_id: Option<i64>,
        role: &str,
        org_id: i64,
        now: DateTime<Utc>,
        audit: &NewAudit,
    ) -> Result<UserInsert, StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some(staff_id) = staff_id {
            // One account per staff member (issue 14 §3): a second would let its holder act as that person —
            // appeal "their own" bad reviews. On PostgreSQL the check is serialized by a lock on the staff row.
            let lock = match self.backend {
                crate::Backend::Postgres => " FOR UPDATE",
                crate::Backend::Sqlite => "",
            };
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT id FROM staff WHERE id = $1{lock}")))
                .bind(staff_id)
                .fetch_optional(&mut *tx)
                .await?;
            let holder: Option<String> =
                sqlx::query_scalar("SELECT username FROM app_user WHERE staff_id = $1 LIMIT 1")
                    .bind(staff_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(holder) = holder {
                tx.rollback().await?;
                return Ok(UserInsert::StaffLinked(holder));
            }
        }
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO app_user (username, display_name, password_hash, staff_id, failed_logins, created_at, created_by)
             VALUES ($1, $2, $3, $4, 0, $5, $6) ON CONFLICT (username) DO NOTHING RETURNING id",
        )
        .bind(username)
        .bind(display_name)
        .bind(password_hash)
        .bind(staff_id)
        .bind(to_ms(now))
        // The creator as the audit log names them, so that it compares with the actors of later resets.
        .bind(&audit.actor)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            return Ok(UserInsert::UsernameTaken);
        };
        sqlx::query("INSERT INTO role_binding (user_id, role, org_id) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(role)
            .bind(org_id)
            .execute(&mut *tx)
            .await?;
        let entry = NewAudit { target: format!("user:{id}"), ..audit.clone() };
        crate::audit::append(&mut tx, &self.chain(), &[entry]).await?;
        tx.commit().await?;
        Ok(UserInsert::Created(id))
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        let row = sqlx::query(concat!(user_select!(), "WHERE username = $1"))
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_row).transpose()
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<UserRow>, StoreError> {
        let row = sqlx::query(concat!(user_select!(), "WHERE id = $1")).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_row).transpose()
    }

    pub async fn bindings_of(&self, user_id: i64) -> Result<Vec<BindingRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT b.role, b.org_id, o.code, o.name, o.path FROM role_binding b JOIN org o ON o.id = b.org_id
             WHERE b.user_id = $1 ORDER BY b.id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(BindingRow {
                    role: r.try_get("role")?,
                    org_id: r.try_get("org_id")?,
                    org_code: r.try_get("code")?,
                    org_name: r.try_get("name")?,
                    org_path: r.try_get("path")?,
                })
            })
            .collect()
    }

    /// Reserves a login attempt before the password is verified (issues 14 §5, 29 §6): in one transaction,
    /// counts the failures — settled ones, and pending ones older than a minute (a check that never finished) —
    /// and the pending attempts of the client, of this name from this client, and of this name from anywhere;
    /// refuses a client with `l.client_limit` failures, a name with `l.lock_after` failures from this client, and
    /// a name with `l.lock_after` failures from anywhere unless this client logged in to it before
    /// (`l.known_since`); answers `Busy` when pending attempts would reach a limit (wait and try again: they may
    /// all be right); otherwise writes this attempt as pending. A wrong password settles it
    /// ([`Store::settle_login_failure`]); a right one removes it ([`Store::open_session`]).
    pub async fn reserve_login_attempt(
        &self,
        attempt: &str,
        username: &str,
        client: &str,
        l: &LoginLimits,
    ) -> Result<LoginReservation, StoreError> {
        let mut tx = self.begin_write().await?;
        if self.backend == crate::Backend::Postgres {
            // Client first, then name, always in this order: two attempts never wait on each other crosswise.
            for key in [format!("login:{client}"), format!("login-name:{username}")] {
                sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))").bind(key).execute(&mut *tx).await?;
            }
        }
        let stale = to_ms(l.now - chrono::Duration::minutes(1));
        let counts = |filter: &'static str, since: DateTime<Utc>| {
            let sql = format!(
                "SELECT COUNT(CASE WHEN settled = 1 OR at < $1 THEN 1 END) AS failed,
                        COUNT(CASE WHEN settled = 0 AND at >= $1 THEN 1 END) AS pending
                 FROM login_failure WHERE at >= $2 AND {filter}"
            );
            (sql, to_ms(since))
        };
        let mut count = async |filter: &'static str, since: DateTime<Utc>, a: &str, b: Option<&str>| {
            let (sql, since) = counts(filter, since);
            let mut q =
                sqlx::query_as::<_, (i64, i64)>(sqlx::AssertSqlSafe(sql)).bind(stale).bind(since).bind(a.to_string());
            if let Some(b) = b {
                q = q.bind(b.to_string());
            }
            q.fetch_one(&mut *tx).await
        };
        let (client_failed, client_pending) = count("client = $3", l.client_since, client, None).await?;
        let (pair_failed, pair_pending) =
            count("username = $3 AND client = $4", l.lock_since, username, Some(client)).await?;
        let (name_failed, name_pending) = count("username = $3", l.lock_since, username, None).await?;
        let user_id: Option<i64> = sqlx::query_scalar("SELECT id FROM app_user WHERE username = $1")
            .bind(username)
            .fetch_optional(&mut *tx)
            .await?;
        let known = match user_id {
            None => false,
            Some(id) => sqlx::query_scalar::<_, i64>(
                "SELECT user_id FROM login_client WHERE user_id = $1 AND client = $2 AND last_success_at >= $3",
            )
            .bind(id)
            .bind(client)
            .bind(to_ms(l.known_since))
            .fetch_optional(&mut *tx)
            .await?
            .is_some(),
        };
        let outcome = if client_failed >= l.client_limit {
            LoginReservation::ClientLocked
        } else if pair_failed >= l.lock_after || (!known && name_failed >= l.lock_after) {
            LoginReservation::AccountLocked
        } else if client_failed + client_pending >= l.client_limit
            || pair_failed + pair_pending >= l.lock_after
            || (!known && name_failed + name_pending >= l.lock_after)
        {
            LoginReservation::Busy
        } else {
            LoginReservation::Reserved { user_id }
        };
        if outcome == (LoginReservation::Reserved { user_id }) {
            sqlx::query(
                "INSERT INTO login_failure (client, at, attempt, username, settled) VALUES ($1, $2, $3, $4, 0)",
            )
            .bind(client)
            .bind(to_ms(l.now))
            .bind(attempt)
            .bind(username)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(outcome)
    }

    /// Forgets a pending attempt that was no guess (the right password of a disabled account).
    pub async fn drop_login_attempt(&self, attempt: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM login_failure WHERE attempt = $1").bind(attempt).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The attempt's password was wrong: it counts as a failure from now on; the account's list shows it locked
    /// (for new addresses) once it has `lock_after` failures in the period.
    pub async fn settle_login_failure(&self, attempt: &str, l: &LoginLimits) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let username: Option<String> =
            sqlx::query_scalar("UPDATE login_failure SET settled = 1 WHERE attempt = $1 RETURNING username")
                .bind(attempt)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(name) = username {
            sqlx::query(
                "UPDATE app_user SET failed_logins = failed_logins + 1,
                    locked_until = CASE WHEN failed_logins + 1 >= $1 THEN $2 ELSE locked_until END
                 WHERE username = $3",
            )
            .bind(l.lock_after)
            .bind(to_ms(l.lock_until))
            .bind(name)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A successful login opens a session — only if, in this same transaction, the account is still enabled and
    /// its password still the one just verified (issue 14 §7: a login in flight while an administrator disables
    /// the account or resets its password opens nothing). Its attempt is removed and its address becomes one of
    /// the account's own (issue 29 §6). Answers whether the session was opened.
    pub async fn open_session(&self, s: &NewUserSession<'_>, audit: &NewAudit) -> Result<bool, StoreError> {
        let (user_id, attempt, client, now) = (s.user_id, s.attempt, s.client, s.now);
        let mut tx = self.begin_write().await?;
        // A no-op write: it takes the account's row, so a disable or reset in flight is ordered with us.
        let still = sqlx::query(
            "UPDATE app_user SET password_hash = password_hash
             WHERE id = $1 AND password_hash = $2 AND disabled_at IS NULL",
        )
        .bind(user_id)
        .bind(s.verified_hash)
        .execute(&mut *tx)
        .await?;
        if still.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query("DELETE FROM login_failure WHERE attempt = $1").bind(attempt).execute(&mut *tx).await?;
        // The address is the account's own from now on: strangers' failures no longer lock it out here.
        sqlx::query(
            "INSERT INTO login_client (user_id, client, last_success_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, client) DO UPDATE SET last_success_at = $3",
        )
        .bind(user_id)
        .bind(client)
        .bind(to_ms(now))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO user_session (id_hash, user_id, csrf_token, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(s.id_hash)
        .bind(user_id)
        .bind(s.csrf_token)
        .bind(to_ms(now))
        .execute(&mut *tx)
        .await?;
        crate::audit::append(&mut tx, &self.chain(), std::slice::from_ref(audit)).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn session(&self, id_hash: &str) -> Result<Option<SessionRow>, StoreError> {
        let row =
            sqlx::query("SELECT user_id, csrf_token, created_at, last_seen_at FROM user_session WHERE id_hash = $1")
                .bind(id_hash)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| {
            Ok(SessionRow {
                user_id: r.try_get("user_id")?,
                csrf_token: r.try_get("csrf_token")?,
                created_at: from_ms(r.try_get("created_at")?),
                last_seen_at: from_ms(r.try_get("last_seen_at")?),
            })
        })
        .transpose()
    }

    pub async fn touch_session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE user_session SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(to_ms(now))
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn close_session(&self, id_hash: &str, audit: Option<&NewAudit>) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM user_session WHERE id_hash = $1").bind(id_hash).execute(&mut *tx).await?;
        if let Some(a) = audit {
            crate::audit::append(&mut tx, &self.chain(), std::slice::from_ref(a)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sets a new password and ends every session of the account (they must log in again).
    pub async fn set_password(&self, user_id: i64, password_hash: &str, audit: &NewAudit) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        // A new password also lifts a lock: an administrator's reset is how a locked-out person gets back in.
        sqlx::query("UPDATE app_user SET password_hash = $1, failed_logins = 0, locked_until = NULL WHERE id = $2")
            .bind(password_hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM login_failure WHERE username = (SELECT username FROM app_user WHERE id = $1)")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM user_session WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        crate::audit::append(&mut tx, &self.chain(), std::slice::from_ref(audit)).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Disables an account (`Some(at)`: its sessions end in the same transaction) or enables it again.
    pub async fn set_account_disabled(
        &self,
        user_id: i64,
        at: Option<DateTime<Utc>>,
        audit: &NewAudit,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE app_user SET disabled_at = $1 WHERE id = $2")
            .bind(at.map(to_ms))
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if at.is_some() {
            sqlx::query("DELETE FROM user_session WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        }
        crate::audit::append(&mut tx, &self.chain(), std::slice::from_ref(audit)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes sessions idle since before `idle_before` or opened before `opened_before`, and failed-login
    /// rows and window one-time codes older than `failures_before`. Returns how many sessions ended.
    pub async fn purge_sessions(
        &self,
        idle_before: DateTime<Utc>,
        opened_before: DateTime<Utc>,
        failures_before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let ended = sqlx::query("DELETE FROM user_session WHERE last_seen_at < $1 OR created_at < $2")
            .bind(to_ms(idle_before))
            .bind(to_ms(opened_before))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM login_failure WHERE at < $1").bind(to_ms(failures_before)).execute(&mut *tx).await?;
        // One-time codes of window QR codes: ten minutes of life, kept a day for the per-number hourly limit.
        sqlx::query("DELETE FROM window_login WHERE created_at < $1")
            .bind(to_ms(failures_before))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(ended)
    }
}

impl Store {
    /// Adds a role over an organization to an account, with its audit entry; `false` when the account has that
    /// role over that organization already. One statement, so two parallel requests add it once.
    pub async fn add_binding(
        &self,
        user_id: i64,
        role: &str,
        org_id: i64,
        audit: &NewAudit,
    ) -> Result<bool, StoreError> {
        let statement = sqlx::query(
            "INSERT INTO role_binding (user_id, role, org_id) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, role, org_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(role.to_string())
        .bind(org_id);
        self.update_one_audited(statement, audit).await
    }

    /// Takes a role over an organization from an account, never its last one; `false` when there was no such
    /// binding or it was the last.
    pub async fn remove_binding(
        &self,
        user_id: i64,
        role: &str,
        org_id: i64,
        audit: &NewAudit,
    ) -> Result<bool, StoreError> {
        let statement = sqlx::query(
            "DELETE FROM role_binding WHERE user_id = $1 AND role = $2 AND org_id = $3
             AND (SELECT COUNT(*) FROM role_binding WHERE user_id = $1) > 1",
        )
        .bind(user_id)
        .bind(role.to_string())
        .bind(org_id);
        self.update_one_audited(statement, audit).await
    }
}
