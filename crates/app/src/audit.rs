//! Who did what, for the audit log (issue 4 §5). Entries are appended by the store inside the transaction
//! of the change; this module only says who the actor is and shapes the entry. No personal data goes in.

use hcp_store::NewAudit;
use serde_json::Value;

use crate::clients::ApiClient;
use crate::{App, AppResult};

/// The one who causes a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(String);

impl Actor {
    /// An operator at the server's command line (`hcp …`), named by the login running it.
    pub fn operator() -> Actor {
        let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
        Actor(format!("cli:{user}"))
    }

    /// The system itself (jobs, demo loading).
    pub fn system() -> Actor {
        Actor("system".into())
    }

    /// An evaluation channel acting for an evaluator it identified: `window:W-…`, `device:…`, `kiosk`.
    pub fn channel(name: impl Into<String>) -> Actor {
        Actor(name.into())
    }

    /// A person, by their username.
    pub fn user(username: &str) -> Actor {
        Actor(format!("user:{username}"))
    }

    /// An integrating system, by its API key.
    pub fn client(c: &ApiClient) -> Actor {
        Actor(format!("api_key:{}:{}", c.key_id, c.source_system))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl App {
    pub(crate) fn audit(
        &self,
        actor: &Actor,
        action: &'static str,
        target: impl Into<String>,
        details: Value,
    ) -> NewAudit {
        NewAudit { at: self.now(), actor: actor.0.clone(), action, target: target.into(), details: details.to_string() }
    }

    /// Records that the server was started on a chain that does not match its anchors (`--accept-audit-mismatch`,
    /// issue 29 §2), with what was wrong.
    pub async fn note_audit_mismatch_accepted(&self, reason: &str) -> AppResult<()> {
        let entry =
            self.audit(&Actor::operator(), "audit.mismatch_accepted", "", serde_json::json!({ "reason": reason }));
        Ok(self.store.append_audit(&[entry]).await?)
    }
}
