//! Platforms as evaluated objects (issue 15 §4, plan §三 "各类政务服务平台"): the catalog holds the platforms
//! through which services are delivered (政务服务网, 移动端应用, 自助终端系统 …), each run by an organization;
//! records name the platform they were delivered through.

use serde::Serialize;
use serde_json::json;

use crate::audit::Actor;
use crate::catalog_admin::parse_code;
use crate::policy::{Action, Principal, Target};
use crate::{App, AppError, AppResult};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlatformView {
    pub code: String,
    pub name: String,
    pub org_code: String,
    pub org_name: String,
}

impl App {
    /// Every platform of the county (integrating systems and people need their codes to name them).
    pub async fn list_platforms(&self) -> AppResult<Vec<PlatformView>> {
        Ok(self
            .store
            .list_platforms()
            .await?
            .into_iter()
            .map(|p| PlatformView { code: p.code, name: p.name, org_code: p.org_code, org_name: p.org_name })
            .collect())
    }

    /// Adds a platform run by an organization in this person's catalog scope (center and system admins).
    pub async fn add_platform(
        &self,
        who: &Principal,
        code: &str,
        name: &str,
        org_code: &str,
    ) -> AppResult<PlatformView> {
        if !who.may(Action::ManageCatalog, None) {
            return Err(AppError::Forbidden);
        }
        let in_scope = |path: &str| who.may(Action::ManageCatalog, Some(Target { org_path: path, staff_id: None }));
        self.add_platform_by(&Actor::user(&who.username), &in_scope, code, name, org_code).await
    }

    /// [`App::add_platform`] for `actor`, an organization counting only if `in_scope` of its path (the operator
    /// on the command line: everywhere).
    pub async fn add_platform_by(
        &self,
        actor: &Actor,
        in_scope: &(dyn Fn(&str) -> bool + Sync),
        code: &str,
        name: &str,
        org_code: &str,
    ) -> AppResult<PlatformView> {
        let mut v = Vec::new();
        let code = parse_code("code", code, "平台编码").map_err(|e| v.push(e)).ok();
        let name = hcp_domain::identity::parse_text("name", name, 50, "平台名称").map_err(|e| v.push(e)).ok();
        let org = self.store.org_by_code(org_code.trim()).await?.filter(|o| in_scope(&o.path));
        if org.is_none() {
            v.push(hcp_domain::Violation::new(
                "org_code",
                "unknown_org",
                format!("机构代码“{}”不存在或不在您的管理范围内。", org_code.trim()),
            ));
        }
        let (Some(code), Some(name), Some(org)) = (code, name, org) else {
            return Err(AppError::Invalid(v));
        };
        let audit = self.audit(
            actor,
            "catalog.platform",
            format!("platform:{code}"),
            json!({ "code": code, "name": name, "org": org.code }),
        );
        match self.store.add_platform(&code, &name, org.id, &audit).await? {
            Some(_) => Ok(PlatformView { code, name, org_code: org.code, org_name: org.name }),
            None => Err(AppError::conflict("platform_code_taken", format!("平台编码“{code}”已被使用。"))),
        }
    }
}
