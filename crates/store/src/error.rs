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
    #[error("stored data is not what the program wrote: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// A UNIQUE rule refused a row (a code or number someone else took meanwhile).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(d)) if d.is_unique_violation())
    }
}
