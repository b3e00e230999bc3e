//! Waking hall devices across instances (issue 18 §5): a completion recorded by one instance is announced
//! through PostgreSQL's LISTEN/NOTIFY, and every instance wakes the devices waiting on it at once. SQLite serves
//! one instance, which wakes its own devices in memory.

use crate::{Backend, Store, StoreError};

/// The channel of the announcements.
const CHANNEL: &str = "hcp_completion";

impl Store {
    /// Tells the other instances that a record was completed (PostgreSQL; nothing on SQLite).
    pub async fn announce_completion(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, '')").bind(CHANNEL).execute(&self.pool).await?;
        }
        Ok(())
    }
}

/// Calls `wake` for every completion announced by any instance, for as long as it runs; reconnects when the
/// connection drops. Returns at once for SQLite.
pub async fn listen_for_completions(url: &str, wake: impl Fn()) {
    if Backend::from_url(url).ok() != Some(Backend::Postgres) {
        return;
    }
    loop {
        match sqlx::postgres::PgListener::connect(url).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen(CHANNEL).await {
                    tracing::warn!(error = %e, "listening for completions failed; retrying");
                } else {
                    // A lost connection is re-established by `recv`; wake anyway, a completion may have passed.
                    while listener.recv().await.is_ok() {
                        wake();
                    }
                    wake();
                }
            }
            Err(e) => tracing::warn!(error = %e, "connecting to listen for completions failed; retrying"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
}
