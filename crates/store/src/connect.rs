use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, Executor};

use crate::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(redact(url)))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// The URL without its password, for logs and messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..s], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

/// Creates a new SQLite file readable by its owner only: it holds evaluator data (sealed, but with its
/// blind indexes) and the audit log. SQLite gives the WAL and shared-memory files the database file's mode.
/// An existing file is left as it is.
fn create_owner_only(path: &std::path::Path) -> Result<(), StoreError> {
    if path.as_os_str().is_empty() || path.to_str() == Some(":memory:") || path.exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        // Another process created it meanwhile: fine, SQLite opens it.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Database(sqlx::Error::Io(e))),
    }
}

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Opens the database, creating a SQLite file (and switching it to WAL) on first use. Does not migrate:
    /// call [`Store::migrate`] (serve and every command do).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        install_default_drivers();
        let backend = Backend::from_url(url)?;
        if backend == Backend::Sqlite {
            // WAL is a property of the file and needs an exclusive lock to set: do it once, up front, on a
            // connection of our own, rather than racing for it from every pooled connection.
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(30));
            create_owner_only(opts.get_filename())?;
            let conn = opts.connect().await?;
            conn.close().await?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // FULL: an evaluation acknowledged with 201 survives a power cut, not only a crash.
                        // The group-commit writer pays one fsync per batch, not per evaluation.
                        // A 64 MiB page cache per connection: the blind-index indexes take random keys, and with
                        // SQLite's 2 MiB default a large table's index pages are read back from disk on every insert.
                        conn.execute(
                            "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 30000;
                             PRAGMA cache_size = -65536;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .after_release(move |conn, _| {
                Box::pin(async move {
                    if backend != Backend::Sqlite {
                        return Ok(true);
                    }
                    // On a full disk or an I/O error SQLite rolls a transaction back by itself; sqlx's ROLLBACK
                    // then fails and it still counts the connection as inside a transaction, so every later
                    // `BEGIN IMMEDIATE` on it would fail (InvalidSavePointStatement) long after space returned.
                    // Such a connection is closed, not pooled. The ping first lets a pending rollback finish.
                    conn.ping().await?;
                    Ok(!sqlx::Connection::is_in_transaction(conn))
                })
            })
            .connect(url)
            .await?;
        Ok(Store { pool, backend, audit_key: Default::default() })
    }

    /// The newest schema version this program knows (the number of its last migration; both backends have the
    /// same).
    pub fn schema_version() -> i64 {
        SQLITE_MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// The migrations this database has not had yet, as (version, description), without applying any: what
    /// `hcp migrate` would do. An empty database lists them all.
    pub async fn pending_migrations(&self) -> Result<Vec<(i64, String)>, StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATOR,
            Backend::Postgres => &POSTGRES_MIGRATOR,
        };
        // sqlx keeps its ledger in `_sqlx_migrations`; before the first migration it does not exist.
        let applied: Vec<i64> = match sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(&self.pool)
            .await
        {
            Ok(v) => v,
            Err(sqlx::Error::Database(d))
                if d.code().as_deref() == Some("42P01") || d.message().contains("no such table") =>
            {
                Vec::new()
            }
            Err(e) => return Err(e.into()),
        };
        Ok(migrator
            .iter()
            .filter(|m| !m.migration_type.is_down_migration() && !applied.contains(&m.version))
            .map(|m| (m.version, m.description.to_string()))
            .collect())
    }

    /// A consistent copy of a SQLite database written to `path` while others keep reading and writing
    /// (`VACUUM INTO`: one read transaction, so the copy is as of one instant, compacted). PostgreSQL is
    /// backed up with its own tools (pg_dump); this says so.
    pub async fn backup_into(&self, path: &std::path::Path) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Corrupt("PostgreSQL 请用 pg_dump 备份".into()));
        }
        sqlx::query("VACUUM INTO $1").bind(path.to_string_lossy().into_owned()).execute(&self.pool).await?;
        Ok(())
    }

    /// The database server's version (PostgreSQL's `server_version`, SQLite's library version).
    pub async fn server_version(&self) -> Result<String, StoreError> {
        let sql = match self.backend {
            Backend::Sqlite => "SELECT sqlite_version()",
            Backend::Postgres => "SELECT current_setting('server_version')",
        };
        Ok(sqlx::query_scalar(sql).fetch_one(&self.pool).await?)
    }

    /// Whether the database holds anything of a county yet (an organization): a restore will not overwrite
    /// one that does unless told to.
    pub async fn holds_data(&self) -> Result<bool, StoreError> {
        match sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM org").fetch_one(&self.pool).await {
            Ok(n) => Ok(n > 0),
            Err(sqlx::Error::Database(d))
                if d.code().as_deref() == Some("42P01") || d.message().contains("no such table") =>
            {
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Applies the migrations of this backend; safe to run from several instances at once (sqlx takes a lock).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATOR.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATOR.run(&self.pool).await?,
        }
        self.rebuild_if_requested().await
    }

    /// Recomputes the rollups when a migration asked for it (a new dimension the stored counts lack).
    async fn rebuild_if_requested(&self) -> Result<(), StoreError> {
        let pending: Vec<String> =
            sqlx::query_scalar("SELECT reason FROM rollup_rebuild_request").fetch_all(&self.pool).await?;
        if pending.is_empty() {
            return Ok(());
        }
        tracing::info!(reasons = ?pending, "a migration asked for the rollups to be recomputed");
        if let Some(report) = self.rebuild(true).await? {
            tracing::info!(?report, "rollups recomputed");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://hcp:s3cret@db:5432/hcp"), "postgres://hcp:***@db:5432/hcp");
        assert_eq!(redact("sqlite://hcp.db"), "sqlite://hcp.db");
    }
}
