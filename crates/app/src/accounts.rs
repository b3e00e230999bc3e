//! People's accounts (issue 4 §1): login with argon2id (off the async threads), sessions with an idle
//! timeout, lockout after repeated failures per account and per client address, password change.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::Duration;
use rand::RngCore;
use serde_json::json;

use crate::audit::Actor;
use crate::policy::{Binding, Principal, Role};
use crate::{App, AppError, AppResult, secrets};

/// A session ends after this long without a request.
pub const IDLE_TIMEOUT: Duration = Duration::minutes(30);
/// … and after this long in any case.
pub const ABSOLUTE_TIMEOUT: Duration = Duration::hours(12);
/// Failures that lock an account, and for how long.
pub const ACCOUNT_LOCK_AFTER: i64 = 5;
pub const ACCOUNT_LOCK_FOR: Duration = Duration::minutes(15);
/// Failures from one client address within the window that refuse further attempts from it.
pub const CLIENT_LOCK_AFTER: i64 = 20;
pub const CLIENT_WINDOW: Duration = Duration::minutes(15);
/// An address the account logged in from within this period is the owner's: strangers' failures elsewhere do
/// not lock the account out there (issue 29 §6).
pub const KNOWN_CLIENT_FOR: Duration = Duration::days(90);
/// How long a login waits for parallel attempts of the same account still being checked.
const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

pub const PASSWORD_MIN_CHARS: usize = 10;

/// A new session: the cookie value (shown once) and its CSRF token.
pub struct NewSession {
    pub cookie: String,
    pub csrf: String,
}

/// A live session: who, and the token every form must carry.
pub struct Session {
    pub principal: Principal,
    pub csrf: String,
}

pub(crate) fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2id hashing succeeds").to_string()
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Argon2 takes tens of milliseconds of CPU: never on the async threads.
/// Runs a password hash or verification (argon2id: ~19 MiB and tens of milliseconds each) on one of
/// [`ARGON2_AT_ONCE`] threads kept for it; the rest wait in a queue holding a few bytes each. Unbounded, a flood
/// of logins took a blocking thread and 19 MiB each (1.4 → 3.0 GB seen under 200 parallel logins, issue 14 §5).
/// A semaphore in front of tokio's blocking pool was not enough: the allocator kept each freed 19 MiB block in
/// the arena of whichever pool thread ran it (635 MiB after 100 logins, 4 at a time); the same few threads
/// reuse their own blocks.
pub(crate) async fn argon2_work<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    type Job = Box<dyn FnOnce() + Send>;
    static QUEUE: std::sync::OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<Job>>> = std::sync::OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for n in 0..ARGON2_AT_ONCE {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new().name(format!("argon2-{n}")).spawn(move || {
                loop {
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(poisoned) => poisoned.into_inner().recv(),
                    };
                    match job {
                        // A job that panics must not take its thread with it (the queue would stall).
                        Ok(job) => {
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                        }
                        Err(_) => return,
                    }
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password thread");
            }
        }
        std::sync::Mutex::new(tx)
    });
    let (done, answer) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(f());
    });
    let sent = queue.lock().map(|q| q.send(job).is_ok()).unwrap_or(false);
    let lost = || AppError::Internal(hcp_store::StoreError::Corrupt("the password threads have stopped".into()));
    if !sent {
        return Err(lost());
    }
    answer.await.map_err(|_| lost())
}

/// How many argon2 computations run at once: enough to keep a small server's cores busy, few enough that
/// their memory (19 MiB each) never matters.
pub const ARGON2_AT_ONCE: usize = 2;

/// A username as stored: trimmed, lower case, 3–32 of `a-z 0-9 . _ -`.
pub(crate) fn parse_username(field: &str, raw: &str) -> AppResult<String> {
    let username = raw.trim().to_lowercase();
    let valid = (3..=32).contains(&username.len())
        && username.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if !valid {
        return Err(AppError::invalid(field, "invalid_username", "用户名为 3–32 位小写字母、数字或 . _ -。"));
    }
    Ok(username)
}

pub(crate) fn check_password(field: &str, password: &str) -> AppResult<()> {
    if password.chars().count() < PASSWORD_MIN_CHARS {
        return Err(AppError::invalid(field, "weak_password", format!("密码至少 {PASSWORD_MIN_CHARS} 个字符。")));
    }
    if password.chars().count() > 200 {
        return Err(AppError::invalid(field, "too_long", "密码不能超过 200 个字符。"));
    }
    Ok(())
}

fn bad_login() -> AppError {
    AppError::invalid("password", "bad_credentials", "用户名或密码不正确。")
}

impl App {
    /// `hcp user create`: an account with one role over an org subtree.
    pub async fn create_user(
        &self,
        username: &str,
        display_name: &str,
        password: &str,
        role: &str,
        org_code: &str,
        staff_number: Option<&str>,
    ) -> AppResult<i64> {
        self.create_user_as(&Actor::operator(), username, display_name, password, role, org_code, staff_number).await
    }

    /// [`App::create_user`] on behalf of `actor` (an administrator in the console).
    #[expect(clippy::too_many_arguments, reason = "the account's fields and who creates it")]
    pub async fn create_user_as(
        &self,
        actor: &Actor,
        username: &str,
        display_name: &str,
        password: &str,
        role: &str,
        org_code: &str,
        staff_number: Option<&str>,
    ) -> AppResult<i64> {
        let username = parse_username("username", username)?;
        let display_name = hcp_domain::identity::parse_text("display_name", display_name, 50, "姓名")?;
        check_password("password", password)?;
        let role = Role::parse(role).ok_or_else(|| {
            let all: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
            AppError::invalid("role", "invalid_role", format!("角色“{role}”无法识别,可选:{}。", all.join(", ")))
        })?;
        let org = self
            .store
            .org_by_code(org_code)
            .await?
            .ok_or_else(|| AppError::invalid("org", "unknown_org", format!("机构代码 {org_code} 不存在。")))?;
        let staff_id = match staff_number {
            None => None,
            Some(n) => Some(
                self.store
                    .staff_id_by_number(n)
                    .await?
                    .ok_or_else(|| AppError::invalid("staff", "unknown_staff", format!("工号 {n} 不存在。")))?,
            ),
        };
        let pw = password.to_string();
        let hash = argon2_work(move || hash_password(&pw)).await?;
        let audit = self.audit(
            actor,
            "user.create",
            "",
            json!({ "username": username, "role": role.as_str(), "org": org.code }),
        );
        match self
            .store
            .insert_user(&username, &display_name, &hash, staff_id, role.as_str(), org.id, self.now(), &audit)
            .await?
        {
            hcp_store::UserInsert::Created(id) => Ok(id),
            hcp_store::UserInsert::UsernameTaken => {
                Err(AppError::conflict("username_taken", format!("用户名 {username} 已存在。")))
            }
            hcp_store::UserInsert::StaffLinked(holder) => Err(AppError::conflict(
                "staff_already_linked",
                format!("工号 {} 已关联账号“{holder}”:一名工作人员只能有一个账号。", staff_number.unwrap_or("")),
            )),
        }
    }

    /// Checks a username and password from a client address; opens a session. The attempt is counted before
    /// the password is checked (issue 14 §5), so parallel attempts cannot outrun the lockouts; a success
    /// takes it back.
    pub async fn login(&self, username: &str, password: &str, client: &str) -> AppResult<NewSession> {
        let now = self.now();
        let username = username.trim().to_lowercase();
        let attempt = secrets::new_token();
        let limits = hcp_store::LoginLimits {
            now,
            client_limit: CLIENT_LOCK_AFTER,
            client_since: now - CLIENT_WINDOW,
            lock_after: ACCOUNT_LOCK_AFTER,
            lock_since: now - ACCOUNT_LOCK_FOR,
            lock_until: now + ACCOUNT_LOCK_FOR,
            known_since: now - KNOWN_CLIENT_FOR,
        };
        // Attempts still being checked may all be right: wait for them rather than refuse (issue 29 §6).
        let waited_until = std::time::Instant::now() + BUSY_WAIT;
        let mut pause = 20u64 + u64::from(attempt.as_bytes()[0] % 20);
        let reservation = loop {
            match self.store.reserve_login_attempt(&attempt, &username, client, &limits).await? {
                hcp_store::LoginReservation::Busy if std::time::Instant::now() < waited_until => {
                    // Backing off (with a little jitter from the attempt's token), so waiting logins do not
                    // crowd the database's writer.
                    tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                    pause = (pause * 2).min(400);
                }
                other => break other,
            }
        };
        let reserved_user = match reservation {
            hcp_store::LoginReservation::ClientLocked => {
                return Err(AppError::TooMany {
                    code: "client_locked",
                    message: "登录失败次数过多,请 15 分钟后再试。".into(),
                });
            }
            hcp_store::LoginReservation::AccountLocked => {
                return Err(AppError::TooMany {
                    code: "account_locked",
                    message:
                        "该账户因多次密码错误已暂时锁定,请 15 分钟后再试,或在平时使用的电脑上登录,或联系系统管理员。"
                            .into(),
                });
            }
            hcp_store::LoginReservation::Busy => {
                return Err(AppError::TooMany {
                    code: "login_busy",
                    message: "该账户正有多个登录请求在核对,请稍后再试。".into(),
                });
            }
            hcp_store::LoginReservation::Reserved { user_id } => user_id,
        };
        let user = match reserved_user {
            Some(id) => self.store.user_by_id(id).await?,
            None => None,
        };
        // Without an account, verify against a fixed hash anyway, so timing does not tell which usernames exist.
        const DUMMY: &str =
            "$argon2id$v=19$m=19456,t=2,p=1$BwcHBwcHBwcHBwcHBwcHBw$Lvr3bmANjFgmIc9abyvGMXK3adUKIW19U+fbBf3SfOU";
        let hash = user.as_ref().map(|u| u.password_hash.clone()).unwrap_or_else(|| DUMMY.to_string());
        let pw = password.to_string();
        let ok = argon2_work(move || verify_password(&pw, &hash)).await? && user.is_some();
        let actor = Actor::user(&username);
        let Some(user) = user.filter(|_| ok) else {
            self.store.settle_login_failure(&attempt, &limits).await?;
            let audit = self.audit(&actor, "login.failure", format!("client:{client}"), json!({}));
            self.store.append_audit(&[audit]).await?;
            return Err(bad_login());
        };
        // Told only to someone who knows the password, so it says nothing about which accounts exist.
        if user.disabled_at.is_some() {
            // The right password: no guess to count, and nothing left pending for others to wait on.
            self.store.drop_login_attempt(&attempt).await?;
            return Err(AppError::invalid(
                "username",
                "account_disabled",
                "该账号已停用。如需继续使用,请联系政务服务中心管理员。",
            ));
        }
        let session = NewSession { cookie: secrets::new_token(), csrf: secrets::new_token() };
        let audit = self.audit(&actor, "login.success", format!("user:{}", user.id), json!({ "client": client }));
        let opened = self
            .store
            .open_session(
                &hcp_store::NewUserSession {
                    user_id: user.id,
                    verified_hash: &user.password_hash,
                    id_hash: &secrets::hash(&session.cookie),
                    csrf_token: &session.csrf,
                    now,
                    attempt: &attempt,
                    client,
                },
                &audit,
            )
            .await?;
        if !opened {
            // Disabled or its password changed while this login was being checked: counted as a failure.
            self.store.settle_login_failure(&attempt, &limits).await?;
            return Err(bad_login());
        }
        Ok(session)
    }

    /// The session behind a cookie, if it is live; an idle or too old one is closed.
    pub async fn session(&self, cookie: &str) -> AppResult<Option<Session>> {
        if !secrets::looks_like_token(cookie) {
            return Ok(None);
        }
        let id_hash = secrets::hash(cookie);
        let Some(s) = self.store.session(&id_hash).await? else {
            return Ok(None);
        };
        let now = self.now();
        if now - s.last_seen_at > IDLE_TIMEOUT || now - s.created_at > ABSOLUTE_TIMEOUT {
            self.store.close_session(&id_hash, None).await?;
            return Ok(None);
        }
        let Some(user) = self.store.user_by_id(s.user_id).await? else {
            return Ok(None);
        };
        // Every request re-checks the account (issue 14 §7): a session that slipped in around a disable ends here.
        if user.disabled_at.is_some() {
            self.store.close_session(&id_hash, None).await?;
            return Ok(None);
        }
        // Writing last_seen on every request would make every page a write; once a minute is enough.
        if now - s.last_seen_at > Duration::minutes(1) {
            self.store.touch_session(&id_hash, now).await?;
        }
        Ok(Some(Session { principal: self.principal_of(user).await?, csrf: s.csrf_token }))
    }

    /// An account as a principal: its roles as they are in the database now (read at every request, so a role
    /// given or taken away counts at once).
    pub(crate) async fn principal_of(&self, user: hcp_store::UserRow) -> AppResult<Principal> {
        let bindings = self
            .store
            .bindings_of(user.id)
            .await?
            .into_iter()
            .filter_map(|b| Some(Binding { role: Role::parse(&b.role)?, org_path: b.org_path, org_name: b.org_name }))
            .collect();
        Ok(Principal {
            user_id: user.id,
            username: user.username,
            display_name: user.display_name,
            staff_id: user.staff_id,
            bindings,
        })
    }

    pub async fn logout(&self, cookie: &str, who: &Principal) -> AppResult<()> {
        let audit = self.audit(&Actor::user(&who.username), "logout", format!("user:{}", who.user_id), json!({}));
        self.store.close_session(&secrets::hash(cookie), Some(&audit)).await?;
        Ok(())
    }

    /// Changes one's own password; every session of the account ends.
    pub async fn change_password(&self, who: &Principal, old: &str, new: &str) -> AppResult<()> {
        check_password("new_password", new)?;
        let user = self.store.user_by_id(who.user_id).await?.ok_or(AppError::Unauthorized)?;
        let (pw, hash) = (old.to_string(), user.password_hash.clone());
        if !argon2_work(move || verify_password(&pw, &hash)).await? {
            return Err(AppError::invalid("old_password", "bad_credentials", "原密码不正确。"));
        }
        let pw = new.to_string();
        let hash = argon2_work(move || hash_password(&pw)).await?;
        let audit =
            self.audit(&Actor::user(&who.username), "password.change", format!("user:{}", who.user_id), json!({}));
        self.store.set_password(who.user_id, &hash, &audit).await?;
        Ok(())
    }
}
