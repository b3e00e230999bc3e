//! What people do in the console, each through the policy (issue 4 §2–§4): find records, read one (masked),
//! reveal a contact for a duty (recorded with the reason), record a hotline evaluation, read the audit log,
//! import a calendar. Something out of a person's scope answers "not found", never "forbidden", so nobody
//! learns what exists elsewhere.

use hcp_domain::identity::Mobile;
use hcp_store::{AuditRow, RecordRow};

use crate::audit::Actor;
use crate::calendar::{CalendarSource, ImportReport};
use crate::keys::mobile_index;
use crate::policy::{Action, Principal, Target};
use crate::views::RecordView;
use crate::{App, AppError, AppResult};

fn target(r: &RecordRow) -> Target<'_> {
    Target { org_path: &r.org_path, staff_id: r.staff_id }
}

fn record_not_found(id: i64) -> AppError {
    AppError::not_found("record_not_found", format!("办件 {id} 不存在。"))
}

/// A record as a person may see it, and what they may do with it.
pub struct RecordPage {
    pub view: RecordView,
    /// Whether and how the contact may be revealed now (for a case step, or on a call with its ticket).
    pub reveal: crate::reveal::RevealAccess,
    pub may_rate_by_phone: bool,
}

impl App {
    fn require(&self, who: &Principal, action: Action) -> AppResult<()> {
        if who.may(action, None) { Ok(()) } else { Err(AppError::Forbidden) }
    }

    pub(crate) async fn record_for(&self, who: &Principal, id: i64, action: Action) -> AppResult<RecordRow> {
        let rec = self.store.record_by_id(id).await?.ok_or_else(|| record_not_found(id))?;
        if !who.may(Action::ViewRecords, Some(target(&rec))) {
            return Err(record_not_found(id));
        }
        if !who.may(action, Some(target(&rec))) {
            return Err(AppError::Forbidden);
        }
        Ok(rec)
    }

    /// Records by the applicant's mobile (through its blind index) or by record number, within scope.
    pub async fn find_records(&self, who: &Principal, mobile: &str, record_number: &str) -> AppResult<Vec<RecordView>> {
        self.require(who, Action::ViewRecords)?;
        let rows = if !mobile.trim().is_empty() {
            let m = Mobile::parse("mobile", mobile)?;
            self.store.records_by_mobile_index(&mobile_index(&self.keys.current(), m.as_str()), 50).await?
        } else if !record_number.trim().is_empty() {
            self.store.records_by_number_any_source(record_number.trim(), 50).await?
        } else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for r in rows.iter().filter(|r| who.may(Action::ViewRecords, Some(target(r)))) {
            out.push(RecordView::new(r, &self.keys.open(r)?));
        }
        Ok(out)
    }

    pub async fn record_page(&self, who: &Principal, id: i64) -> AppResult<RecordPage> {
        let rec = self.record_for(who, id, Action::ViewRecords).await?;
        let t = target(&rec);
        Ok(RecordPage {
            view: RecordView::new(&rec, &self.keys.open(&rec)?),
            reveal: self.reveal_access(who, &rec).await?,
            may_rate_by_phone: who.may(Action::RecordHotlineEvaluation, Some(t)) && rec.evaluation.is_none(),
        })
    }

    pub async fn audit_log(&self, who: &Principal, action_prefix: &str, after: i64) -> AppResult<Vec<AuditRow>> {
        self.require(who, Action::ViewAudit)?;
        Ok(self.store.audit_entries(action_prefix.trim(), after.max(0), 200).await?)
    }

    pub async fn import_calendar_as(&self, who: &Principal, text: &str, local: bool) -> AppResult<ImportReport> {
        self.require(who, Action::ImportCalendar)?;
        let source = if local { CalendarSource::Local } else { CalendarSource::National };
        self.import_calendar_by(&Actor::user(&who.username), text, source).await
    }
}
