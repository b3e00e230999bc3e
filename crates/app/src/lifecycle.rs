//! Retiring and reactivating catalog entries (issue 17 §2): a window that closes, a staff member who leaves, an
//! item no longer offered, a hall or an organization that closes. Kept with their history (past records,
//! figures and reports are unchanged); gone from the pickers, the forms and registration from then on. Refused,
//! with the reason, while something still uses the entry (a device on the window, open cases of the staff
//! member, windows of the hall …). Every change audited.

use std::collections::HashSet;

use hcp_store::CatalogTable;
use serde_json::json;

use crate::audit::Actor;
use crate::catalog_admin::CatalogKind;
use crate::policy::Principal;
use crate::{App, AppError, AppResult};

/// The retired entries of each kind, by code.
#[derive(Debug, Clone, Default)]
pub struct Retired {
    pub orgs: HashSet<String>,
    pub halls: HashSet<String>,
    pub windows: HashSet<String>,
    pub staff: HashSet<String>,
    pub items: HashSet<String>,
}

pub(crate) fn table_of(kind: CatalogKind) -> CatalogTable {
    match kind {
        CatalogKind::Org => CatalogTable::Org,
        CatalogKind::Hall => CatalogTable::Hall,
        CatalogKind::Window => CatalogTable::Window,
        CatalogKind::Staff => CatalogTable::Staff,
        CatalogKind::Item => CatalogTable::Item,
        CatalogKind::Platform => CatalogTable::Platform,
    }
}

impl App {
    /// Retires (`retire`) or reactivates an entry of the person's catalog scope; the message says what was done.
    pub async fn set_catalog_retired(
        &self,
        who: &Principal,
        kind: CatalogKind,
        code: &str,
        retire: bool,
    ) -> AppResult<String> {
        let scope = self.catalog_scope(who)?;
        let code = code.trim();
        if kind == CatalogKind::Platform {
            return Err(AppError::invalid("what", "not_retirable", "办理平台不能停用,可以修改名称。"));
        }
        let table = table_of(kind);
        match self.store.catalog_entry_path(table, code).await? {
            Some(path) if path.starts_with(&scope) => {}
            _ => {
                return Err(AppError::invalid(
                    "code",
                    "not_found",
                    format!("{}“{code}”不存在或不在您的管理范围内。", kind.name_zh()),
                ));
            }
        }
        if retire {
            let uses = self.store.uses_of(table, code).await?;
            if !uses.is_empty() {
                let list: Vec<String> = uses.iter().map(|(what, n)| format!("{what} {n} 个")).collect();
                return Err(AppError::conflict(
                    "still_in_use",
                    format!("{}“{code}”还有{},请先处理后再停用。", kind.name_zh(), list.join("、")),
                ));
            }
        }
        let action = if retire { "catalog.retire" } else { "catalog.reactivate" };
        let audit = self.audit(
            &Actor::user(&who.username),
            action,
            format!("{}:{code}", kind.name_zh()),
            json!({ "kind": kind.name_zh(), "code": code }),
        );
        if !self.store.set_retired(table, code, retire.then(|| self.now()), &audit).await? {
            return Err(AppError::conflict(
                if retire { "already_retired" } else { "not_retired" },
                format!("{}“{code}”{}。", kind.name_zh(), if retire { "已经停用" } else { "未停用,无需重新启用" }),
            ));
        }
        Ok(format!("{}“{code}”已{}。", kind.name_zh(), if retire { "停用(历史记录和统计保留)" } else { "重新启用" }))
    }

    /// Moves an organization and everything under it under another parent of the person's catalog scope
    /// (issue 17 §2). Its records, figures and reports move with it; scopes follow the tree.
    pub async fn move_org(&self, who: &Principal, code: &str, parent_code: &str) -> AppResult<String> {
        use hcp_store::lifecycle::MoveRefusal;
        let scope = self.catalog_scope(who)?;
        let (code, parent_code) = (code.trim(), parent_code.trim());
        let mut v = Vec::new();
        for (field, c) in [("code", code), ("org", parent_code)] {
            match self.store.catalog_entry_path(CatalogTable::Org, c).await? {
                Some(path) if path.starts_with(&scope) => {}
                _ => v.push(hcp_domain::Violation::new(
                    field,
                    "not_found",
                    format!("机构代码“{c}”不存在或不在您的管理范围内。"),
                )),
            }
        }
        if !v.is_empty() {
            return Err(AppError::Invalid(v));
        }
        let audit = self.audit(
            &Actor::user(&who.username),
            "catalog.move",
            format!("org:{code}"),
            json!({ "code": code, "new_parent": parent_code }),
        );
        match self.store.move_org(code, parent_code, &audit).await? {
            Ok(_) => Ok(format!("机构“{code}”及其下级已调整到“{parent_code}”之下。")),
            Err(MoveRefusal::IntoOwnSubtree) => Err(AppError::invalid(
                "org",
                "into_own_subtree",
                format!("不能把机构“{code}”调整到它自己或它的下级“{parent_code}”之下。"),
            )),
            Err(MoveRefusal::Root) => Err(AppError::invalid("code", "root_org", "县级机构没有上级,不能调整。")),
            Err(MoveRefusal::Unchanged) => {
                Err(AppError::conflict("unchanged", format!("机构“{code}”已在“{parent_code}”之下。")))
            }
            Err(MoveRefusal::UnknownOrg | MoveRefusal::UnknownParent) => {
                Err(AppError::invalid("code", "not_found", "机构不存在。"))
            }
        }
    }

    /// Every retired entry's code, by kind.
    pub async fn retired(&self) -> AppResult<Retired> {
        Ok(Retired {
            orgs: self.store.retired_codes(CatalogTable::Org).await?,
            halls: self.store.retired_codes(CatalogTable::Hall).await?,
            windows: self.store.retired_codes(CatalogTable::Window).await?,
            staff: self.store.retired_codes(CatalogTable::Staff).await?,
            items: self.store.retired_codes(CatalogTable::Item).await?,
        })
    }
}
