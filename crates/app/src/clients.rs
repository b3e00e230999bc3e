//! Integrating systems and their API keys (issue 2 §7).

use crate::{App, AppError, AppResult, secrets};

/// An authenticated integrating system.
#[derive(Debug, Clone)]
pub struct ApiClient {
    pub key_id: i64,
    /// The system's name; records it registers are unique per this name and record number.
    pub source_system: String,
    /// The org subtree it acts for (`/1/5/`); `None` for the whole county.
    pub scope_path: Option<String>,
}

impl ApiClient {
    /// Whether the client may act on something of the org at `org_path`.
    pub fn covers(&self, org_path: &str) -> bool {
        self.scope_path.as_deref().is_none_or(|scope| org_path.starts_with(scope))
    }

    /// The path prefix of what it may list.
    pub fn scope_prefix(&self) -> &str {
        self.scope_path.as_deref().unwrap_or("/")
    }
}

impl App {
    /// Creates a key and returns it; it is not stored and cannot be shown again.
    pub async fn create_api_key(&self, name: &str, org_code: Option<&str>) -> AppResult<String> {
        let name = hcp_domain::identity::parse_text("name", name, 100, "系统名称")?;
        let org_id = match org_code {
            None => None,
            Some(code) => Some(
                self.store
                    .org_by_code(code)
                    .await?
                    .ok_or_else(|| AppError::invalid("org", "unknown_org", format!("机构代码 {code} 不存在。")))?
                    .id,
            ),
        };
        let key = secrets::new_api_key();
        let audit = self.audit(
            &crate::audit::Actor::operator(),
            "api_key.create",
            "",
            serde_json::json!({ "name": name, "org": org_code }),
        );
        self.store.insert_api_key(&name, &secrets::hash(&key), org_id, self.now(), &audit).await?;
        Ok(key)
    }

    pub async fn authenticate(&self, key: &str) -> AppResult<ApiClient> {
        let key = key.trim();
        if !key.starts_with("hcp_") || key.len() > 100 {
            return Err(AppError::Unauthorized);
        }
        let row = self.store.api_key_by_hash(&secrets::hash(key)).await?.ok_or(AppError::Unauthorized)?;
        Ok(ApiClient { key_id: row.id, source_system: row.name, scope_path: row.org_path })
    }
}

impl From<hcp_domain::Violation> for AppError {
    fn from(v: hcp_domain::Violation) -> Self {
        AppError::Invalid(vec![v])
    }
}
