//! Reading the catalog, scoped to what a client may see.

use hcp_domain::{Category, OrgKind, WindowKind};

use crate::clients::ApiClient;
use crate::views::{ItemView, OrgView, WindowView};
use crate::{App, AppResult};

impl App {
    pub async fn list_orgs(&self, client: &ApiClient) -> AppResult<Vec<OrgView>> {
        let rows = self.store.list_orgs(client.scope_prefix()).await?;
        Ok(rows
            .into_iter()
            .map(|o| OrgView {
                kind_name: OrgKind::parse(&o.kind).map(OrgKind::name_zh).unwrap_or(""),
                code: o.code,
                name: o.name,
                kind: o.kind,
                parent_code: o.parent_code,
            })
            .collect())
    }

    pub async fn list_items(&self) -> AppResult<Vec<ItemView>> {
        Ok(self
            .store
            .list_items()
            .await?
            .into_iter()
            .map(|i| ItemView {
                category_name: Category::parse(&i.category).map(Category::name_zh).unwrap_or(""),
                code: i.code,
                name: i.name,
                category: i.category,
                org_code: i.org_code,
                legal_limit_days: i.legal_limit_days,
                promised_limit_days: i.promised_limit_days,
            })
            .collect())
    }

    pub async fn list_windows(&self, client: &ApiClient) -> AppResult<Vec<WindowView>> {
        Ok(self
            .store
            .list_windows(client.scope_prefix())
            .await?
            .into_iter()
            .map(|w| WindowView {
                kind: WindowKind::parse(&w.kind).map(|k| k.as_str().to_string()).unwrap_or(w.kind),
                code: w.code,
                name: w.name,
                hall: w.hall_name,
                org_code: w.org_code,
            })
            .collect())
    }
}
