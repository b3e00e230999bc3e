//! Persistence of 好差评. Every SQL statement of the program lives in this crate.
//!
//! One SQL text serves both databases through sqlx's `Any` driver (placeholders `$1`, portable column types:
//! BIGINT epoch milliseconds for times, 0/1 for flags, TEXT). Where the two dialects differ (schema DDL,
//! connection settings) the difference sits in [`connect`] and in the two migration folders, nowhere else.
//! See docs/architecture.md for why this was chosen over a trait with one implementation per backend.
#![forbid(unsafe_code)]

mod api_keys;
mod appeals;
pub mod audit;
mod bulk;
mod calendar;
mod call_tickets;
mod cases;
mod catalog;
mod catalog_admin;
mod catalog_import;
mod channels;
mod connect;
mod error;
mod evaluation_list;
mod evaluations;
mod exchange_health;
mod first_run;
mod go_live;
mod history;
mod inspections;
mod integrity;
mod jobs;
mod keys;
pub mod lifecycle;
mod limits;
mod outbox;
mod public_cases;
mod records;
mod referrals;
mod reports;
mod rollups;
mod safeguards;
mod sql;
mod telemetry;
mod themes;
pub mod time;
pub mod upstream;
mod upstream_pull;
mod users;
mod wakeups;
mod writer;

pub use api_keys::ApiKeyRow;
pub use appeals::{AppealDecisionWrite, AppealRow, DecisionRow, NewAppeal, NewDecision, OpenStage};
pub use audit::{AuditRow, ChainCheck, NewAudit};
pub use bulk::{BulkEvaluation, BulkRecord};
pub use calendar::CalendarDayRow;
pub use call_tickets::TicketRegistration;
pub use cases::{AttachmentRow, CaseFields, CaseFilter, CaseRow, CaseStepRow, CaseWrite, NewAttachment, NewCaseStep};
pub use catalog::{
    ItemRow, MemberName, NewHall, NewItem, NewOrg, NewStaff, NewWindow, OrgRow, PlatformRow, SealedField, WindowRow,
};
pub use catalog_admin::{AccountRow, CatalogChange, CatalogEntry, CatalogTable, HallRow, StaffRow};
pub use catalog_import::{
    CatalogImport, CatalogSnapshot, HallEntry, ImportOp, ItemEntry, OrgEntry, PlatformEntry, StaffEntry, WindowEntry,
};
pub use channels::{DeviceRow, NewWindowLogin, WindowLoginRow};
pub use connect::{Backend, redact as redact_url};
pub use error::StoreError;
pub use evaluation_list::{EvaluationFacts, EvaluationFilter, EvaluationListRow};
pub use evaluations::{EvaluationEvidence, EvaluationRow, NewEvaluation};
pub use exchange_health::{ExchangeHealthRow, PushOutcome};
pub use first_run::{FirstAdmin, FirstRun};
pub use go_live::{FeatureCounts, SetupCounts};
pub use history::{HistoryCatalog, HistoryWritten};
pub use inspections::{
    InspectionEvaluationRow, InspectionRow, InspectionWrite, NewInspection, NewInspectionEvaluation,
};
pub use integrity::{FlagConclusion, FlagProposal, FlagRow, SavedFlags};
pub use keys::{ReencryptedApplicant, StoredApplicant};
pub use outbox::{DeliveredVia, MessageRow, NewMessage, SealedSecret};
pub use public_cases::PublicCaseRow;
pub use records::{EncryptedApplicant, EvaluationContext, NewServiceRecord, RecordInsert, RecordRow};
pub use referrals::{CommentRow, NewReferral, ReferralRow};
pub use reports::{NewOrder, NewReport, OrderChange, OrderRow, ReportRow};
pub use rollups::{CutRow, MonthTotal, RebuildReport};
pub use safeguards::{HotlineInsert, HotlinePendingRow, NewHotlinePending};
pub use telemetry::Backlog;
pub use upstream::{RecordCodes, UpstreamClaim, UpstreamCount, UpstreamEvaluation, UpstreamListRow, UpstreamMark};
pub use upstream_pull::{PullOutcome, PulledEvaluation, PulledItem, PulledRow};
pub use users::{BindingRow, LoginLimits, LoginReservation, NewUserSession, SessionRow, UserInsert, UserRow};
pub use wakeups::listen_for_completions;
pub use writer::{EvaluationWriter, TokenSubmission, WriteOutcome, WriterStats};

use sqlx::AnyPool;

/// A handle on the database: cheap to clone, shared by every request and job.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The audit chain's key, once the data keys are loaded ([`Store::set_audit_key`]).
    audit_key: std::sync::Arc<std::sync::OnceLock<audit::AuditKey>>,
}

impl Store {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Gives the store the audit chain's key (from the data keys). Set once; later calls are ignored, the key
    /// being derived from the never-rotated index key.
    pub fn set_audit_key(&self, key: [u8; 32]) {
        let _ = self.audit_key.set(audit::AuditKey(key));
    }

    /// How this store appends to the audit log.
    pub(crate) fn chain(&self) -> audit::Chain<'_> {
        audit::Chain { backend: self.backend, key: self.audit_key.get() }
    }

    /// Answers when the database does (for `/healthz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`),
    /// so a transaction that reads before it writes waits for another writer (busy timeout) instead of
    /// failing with "database is locked" when it upgrades its lock.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A guarded change of one row with its audit entry: `statement` (bound, an UPDATE whose WHERE says when
    /// the change is allowed) must change exactly one row; then the entry is appended and all committed.
    /// `false`, with nothing written, when it changed none (someone else got there first).
    pub(crate) async fn update_one_audited<'q>(
        &self,
        statement: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
        audit: &NewAudit,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        if statement.execute(&mut *tx).await?.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        crate::audit::append(&mut tx, &self.chain(), std::slice::from_ref(audit)).await?;
        tx.commit().await?;
        Ok(true)
    }
}

impl Store {
    /// Refreshes the planner's statistics of the big tables (after a bulk load; PostgreSQL only — SQLite's
    /// plans for these statements do not depend on them).
    pub async fn analyze(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            sqlx::query(
                "ANALYZE service_record, evaluation, evaluation_rollup, record_rollup, cut_rollup, upstream_item,
                     bad_review_case, case_step",
            )
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }
}
