//! Catalog import from files (issue 13 §2): `hcp catalog import FILE` and the console's upload for the
//! center. A CSV file holds one kind (its first column says which); an .xlsx workbook one sheet per kind.
//! All or nothing per file: every bad line is reported at once with its line, column and reason; importing
//! the same file again changes nothing; a changed row changes that entry, audited. Columns:
//! docs/catalog-import.md.

mod plan;
pub mod read;
mod template;

pub use plan::{Counts, columns};
pub use template::template_xlsx;

use crate::audit::Actor;
use crate::catalog_admin::CatalogKind;
use crate::policy::Principal;
use crate::{App, AppError, AppResult};

/// One bad cell or line: where, and why (Chinese, for the clerk who fixes the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub sheet: String,
    pub line: usize,
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.column.is_empty() {
            write!(f, "{} 第 {} 行:{}", self.sheet, self.line, self.message)
        } else {
            write!(f, "{} 第 {} 行“{}”:{}", self.sheet, self.line, self.column, self.message)
        }
    }
}

/// What an import did, per kind in the file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImportReport {
    pub kinds: Vec<(&'static str, Counts)>,
}

impl ImportReport {
    pub fn summary(&self) -> String {
        self.kinds
            .iter()
            .map(|(k, c)| format!("{k}:新增 {},修改 {},未变 {}", c.added, c.changed, c.unchanged))
            .collect::<Vec<_>>()
            .join(";")
    }
}

fn invalid(errors: Vec<LineError>) -> AppError {
    AppError::Invalid(
        errors
            .into_iter()
            .map(|e| {
                hcp_domain::Violation::new(format!("{}:{}:{}", e.sheet, e.line, e.column), "invalid_row", e.to_string())
            })
            .collect(),
    )
}

impl App {
    /// Imports a file as `actor` within `scope` (an org path prefix; `None`: the whole catalog), calling
    /// `progress(done, total)` while writing. A file with any bad line writes nothing: the error lists them.
    pub async fn import_catalog(
        &self,
        actor: &Actor,
        scope: Option<&str>,
        file_name: &str,
        bytes: &[u8],
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> AppResult<ImportReport> {
        let sheets = read::read(file_name, bytes).map_err(|u| AppError::invalid("file", u.code, u.message))?;
        let snapshot = self.store.catalog_snapshot().await?;
        let plan = plan::plan(file_name, &sheets, &snapshot, &self.keys, scope).map_err(invalid)?;
        let total = plan.import.len();
        if total > 0 {
            let audit = self.audit(actor, "catalog.import", "", serde_json::Value::Null);
            let result = self.store.import_catalog(&plan.import, &audit, &|done| progress(done, total)).await;
            if let Err(e) = result {
                // Most likely a code someone added meanwhile (the file was checked against the catalog as it was).
                tracing::warn!(error = %e, "catalog import failed; nothing written");
                return Err(AppError::conflict(
                    "catalog_changed",
                    "导入时基础信息被他人同时修改(如编码已被占用),本文件未导入任何内容,请重新导入。",
                ));
            }
        }
        Ok(ImportReport { kinds: plan.counts.into_iter().map(|(k, c)| (k.name_zh(), c)).collect() })
    }

    /// The console's upload: a center (or system) administrator imports within their subtree.
    pub async fn import_catalog_by(&self, who: &Principal, file_name: &str, bytes: &[u8]) -> AppResult<ImportReport> {
        let scope = self.catalog_scope(who)?;
        self.import_catalog(&Actor::user(&who.username), Some(&scope), file_name, bytes, &|_, _| {}).await
    }
}

/// The header of each kind's template, for the docs and the console.
pub fn template_headers() -> Vec<(&'static str, Vec<&'static str>)> {
    [CatalogKind::Org, CatalogKind::Hall, CatalogKind::Window, CatalogKind::Staff, CatalogKind::Item]
        .into_iter()
        .map(|k| (k.name_zh(), columns(k)))
        .collect()
}
