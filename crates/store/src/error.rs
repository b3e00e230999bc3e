/// A storage failure. Callers translate the few they expect (a missing row is `Ok(None)`, a duplicate is a
/// dedicated outcome) and treat everything else as internal: logged, never shown.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL (expected sqlite:… or postgres://…): {0}")]
    UnsupportedUrl(String),
    #[error("the evaluation writer has stopped")]
    WriterStopped,
    /// The evaluation writer's queue is full: the database is slower than the submissions coming in. Refused
    /// at once (503) rather than left to pile up behind it.
    #[error("the evaluation writer's queue is full")]
    Busy,
    #[error("stored data is not what the program wrote: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// The database cannot be reached or cannot write just now (PostgreSQL stopped or restarting, the network
    /// cut, SQLite's disk full or failing): a temporary condition the client should retry, not a bug.
    pub fn is_unavailable(&self) -> bool {
        if matches!(self, StoreError::Busy) {
            return true;
        }
        let StoreError::Database(e) = self else { return false };
        match e {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => true,
            sqlx::Error::Database(d) => {
                let code = d.code().unwrap_or_default();
                // PostgreSQL: connection exceptions (class 08), shutting down, starting up, too many connections.
                let postgres = code.starts_with("08") || ["57P01", "57P02", "57P03", "53300"].contains(&code.as_ref());
                // SQLite (extended codes; the primary is the low byte): BUSY, IOERR, FULL, CANTOPEN.
                let sqlite = code.parse::<u32>().is_ok_and(|n| [5, 10, 13, 14].contains(&(n & 0xff)));
                postgres || sqlite
            }
            _ => false,
        }
    }

    /// A UNIQUE rule refused a row (a code or number someone else took meanwhile).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(d)) if d.is_unique_violation())
    }
}
