//! Registering service records (办件) from integrating systems, completing them, reading them back.

use chrono::{DateTime, Duration, Utc};
use hcp_domain::calendar::{add_natural_days, parse_instant};
use hcp_domain::evaluation::DEFAULT_EVALUATION_DAYS;
use hcp_domain::identity::{Applicant, ApplicantIdNumber, ApplicantName, Mobile, parse_text};
use hcp_domain::{ApplicantKind, Violation, Violations};
use hcp_store::{NewServiceRecord, RecordInsert, RecordRow};
use serde_json::json;

use crate::audit::Actor;
use crate::clients::ApiClient;
use crate::keys::PlainApplicant;
use crate::views::{RecordView, RegisteredRecord};
use crate::{App, AppError, AppResult, secrets};

/// How far ahead of the server's clock a reported time may be (clocks drift between systems).
const CLOCK_SKEW: Duration = Duration::minutes(5);

/// A record as an integrating system sends it, before validation.
#[derive(Debug, Clone, Default)]
pub struct RecordInput {
    pub record_number: String,
    pub item_code: String,
    pub org_code: String,
    pub window_code: Option<String>,
    pub staff_number: Option<String>,
    pub applicant_kind: String,
    pub applicant_name: String,
    pub applicant_id_number: String,
    pub applicant_mobile: String,
    pub received_at: String,
    pub completed_at: Option<String>,
    /// The platform the service was delivered through (政务服务网, 移动端应用 …), by its catalog code.
    pub platform_code: Option<String>,
}

/// The outcome of a registration: new, or the same record sent again (a retry gets a fresh link).
pub enum Registration {
    Created(RegisteredRecord),
    Repeated(RegisteredRecord),
}

pub(crate) struct ValidRecord {
    pub(crate) record_number: String,
    pub(crate) applicant: Applicant,
    pub(crate) received_at: DateTime<Utc>,
    pub(crate) completed_at: Option<DateTime<Utc>>,
}

pub(crate) fn validate(input: &RecordInput, now: DateTime<Utc>) -> Result<ValidRecord, Vec<Violation>> {
    let mut v = Violations::default();
    let record_number = v.take(parse_text("record_number", &input.record_number, 64, "办件编号"));
    let kind = ApplicantKind::parse(&input.applicant_kind);
    if kind.is_none() {
        v.push(Violation::new(
            "applicant.kind",
            "invalid_applicant_kind",
            format!(
                "申请人类型“{}”无法识别,应为 person(个人)、enterprise(企业)或 organization(组织)。",
                input.applicant_kind
            ),
        ));
    }
    let name = v.take(ApplicantName::parse("applicant.name", &input.applicant_name));
    let id_number =
        kind.and_then(|k| v.take(ApplicantIdNumber::parse("applicant.id_number", k, &input.applicant_id_number)));
    let mobile = v.take(Mobile::parse("applicant.mobile", &input.applicant_mobile));
    let received_at = v.take(parse_instant("received_at", &input.received_at));
    let completed_at = match &input.completed_at {
        None => Some(None),
        Some(s) => v.take(parse_instant("completed_at", s)).map(Some),
    };
    if let Some(r) = received_at
        && r > now + CLOCK_SKEW
    {
        v.push(Violation::new("received_at", "time_in_future", "受理时间晚于当前时间,请核对系统时钟。"));
    }
    if let Some(Some(c)) = completed_at {
        if c > now + CLOCK_SKEW {
            v.push(Violation::new("completed_at", "time_in_future", "办结时间晚于当前时间,请核对系统时钟。"));
        }
        if let Some(r) = received_at
            && c < r
        {
            v.push(Violation::new("completed_at", "completed_before_received", "办结时间早于受理时间,请核对。"));
        }
    }
    v.finish()?;
    Ok(ValidRecord {
        record_number: record_number.expect("checked"),
        applicant: Applicant {
            kind: kind.expect("checked"),
            name: name.expect("checked"),
            id_number: id_number.expect("checked"),
            mobile: mobile.expect("checked"),
        },
        received_at: received_at.expect("checked"),
        completed_at: completed_at.expect("checked"),
    })
}

/// Where the catalog placed a staff member: (id, org id, window id).
pub(crate) type StaffPlacement = (i64, i64, Option<i64>);

/// A record's window and staff member belong to its organization (issue 14 §2): a key scoped to one unit
/// cannot put another unit's window or staff member on a record — and get them judged by it. A staff member
/// of another organization may serve at the record's window. `window` is (code, (id, org id)), `staff` is
/// (number, (id, org id, window id)), as the catalog placed them.
pub(crate) fn placement_violations(
    org_id: i64,
    org_name: &str,
    window: Option<(&str, (i64, i64))>,
    staff: Option<(&str, StaffPlacement)>,
) -> Vec<Violation> {
    let mut v = Vec::new();
    if let Some((code, (_, window_org))) = window
        && window_org != org_id
    {
        v.push(Violation::new(
            "window_code",
            "window_not_of_org",
            format!("窗口“{code}”不属于机构“{org_name}”,请核对窗口编码或机构代码。"),
        ));
    }
    if let Some((number, (_, staff_org, staff_window))) = staff {
        let at_window = window.is_some_and(|(_, (w, _))| staff_window == Some(w));
        if staff_org != org_id && !at_window {
            v.push(Violation::new(
                "staff_number",
                "staff_not_of_org",
                format!("工号“{number}”的工作人员不属于机构“{org_name}”,也不在所填窗口,请核对。"),
            ));
        }
    }
    v
}

/// When the evaluation window of a record completed at `completed_at` closes (R7.3).
pub fn evaluation_deadline(completed_at: DateTime<Utc>) -> DateTime<Utc> {
    add_natural_days(completed_at, DEFAULT_EVALUATION_DAYS)
}

impl App {
    /// Registers a completed (or received) service and gives back an evaluation link (R5.2).
    pub async fn register_record(&self, client: &ApiClient, input: &RecordInput) -> AppResult<Registration> {
        let now = self.now();
        let valid = validate(input, now).map_err(AppError::Invalid)?;

        let mut v = Violations::default();
        let item_id = self.store.item_id_by_code(input.item_code.trim()).await?;
        if item_id.is_none() {
            v.push(Violation::new(
                "item_code",
                "unknown_item",
                format!("政务服务事项编码“{}”不存在。", input.item_code),
            ));
        }
        let org = self.store.org_by_code(input.org_code.trim()).await?;
        if org.is_none() {
            v.push(Violation::new("org_code", "unknown_org", format!("机构代码“{}”不存在。", input.org_code)));
        }
        let window = match input.window_code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(code) => {
                let w = self.store.window_and_org_by_code(code).await?;
                if w.is_none() {
                    v.push(Violation::new("window_code", "unknown_window", format!("窗口编码“{code}”不存在。")));
                }
                w.map(|w| (code, w))
            }
        };
        let staff = match input.staff_number.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(number) => {
                let s = self.store.staff_placement(number).await?;
                if s.is_none() {
                    v.push(Violation::new("staff_number", "unknown_staff", format!("工号“{number}”不存在。")));
                }
                s.map(|s| (number, s))
            }
        };
        if let Some(org) = &org {
            for violation in placement_violations(org.id, &org.name, window, staff) {
                v.push(violation);
            }
        }
        let platform_id = match input.platform_code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(code) => {
                let id = self.store.platform_id_by_code(code).await?;
                if id.is_none() {
                    v.push(Violation::new(
                        "platform_code",
                        "unknown_platform",
                        format!("平台编码“{code}”不存在,请先由中心管理员在目录中登记该平台。"),
                    ));
                }
                id
            }
        };
        // Retired entries take no new records (issue 17 §2); their past records stay.
        let (item_code, org_code) = (input.item_code.trim(), input.org_code.trim());
        let (window_code, staff_number) = (window.map(|(c, _)| c), staff.map(|(c, _)| c));
        let retired = self.store.retired_among(item_code, org_code, window_code, staff_number).await?;
        for (field, table, code, what) in [
            ("item_code", hcp_store::CatalogTable::Item, Some(item_code), "事项"),
            ("org_code", hcp_store::CatalogTable::Org, Some(org_code), "机构"),
            ("window_code", hcp_store::CatalogTable::Window, window_code, "窗口"),
            ("staff_number", hcp_store::CatalogTable::Staff, staff_number, "工作人员"),
        ] {
            if let (Some(code), true) = (code, retired.contains(&table)) {
                v.push(Violation::new(field, "retired", format!("{what}“{code}”已停用,不能再登记办件。")));
            }
        }
        let window_id = window.map(|(_, (id, _))| id);
        let staff_id = staff.map(|(_, (id, _, _))| id);
        v.finish().map_err(AppError::Invalid)?;
        let org = org.expect("checked");
        if !client.covers(&org.path) {
            return Err(AppError::invalid(
                "org_code",
                "org_out_of_scope",
                format!("本接口密钥无权为机构“{}”登记办件。", org.name),
            ));
        }

        let token = secrets::new_token();
        let a = &valid.applicant;
        let sealed = self.keys.seal(&valid.record_number, a);
        let new = NewServiceRecord {
            source_system: &client.source_system,
            record_number: &valid.record_number,
            item_id: item_id.expect("checked"),
            org_id: org.id,
            window_id,
            staff_id,
            platform_id,
            applicant_kind: a.kind.as_str(),
            applicant: sealed.as_store(),
            received_at: valid.received_at,
            completed_at: valid.completed_at,
            default_due_at: valid.completed_at.map(evaluation_deadline),
            created_at: now,
        };
        let actor = Actor::client(client);
        let details = json!({ "record_number": valid.record_number, "org": org.code });
        let audit = self.audit(&actor, "record.register", "", details.clone());
        match self.store.insert_record_with_invite(&new, &secrets::hash(&token), &audit).await? {
            RecordInsert::Created(id) => {
                if new.completed_at.is_some() {
                    self.completed();
                }
                Ok(Registration::Created(self.registered(id, &new, token)))
            }
            RecordInsert::TakenBy(owner) => Err(AppError::Conflict {
                code: "record_number_taken",
                message: format!(
                    "办件编号“{}”已由对接系统“{owner}”登记。办件编号在全县唯一(上报省平台时以它识别办件),请核对编号。",
                    valid.record_number
                ),
                details: [("owner".to_string(), serde_json::Value::String(owner))].into_iter().collect(),
            }),
            RecordInsert::Existing(existing) => {
                let stored = self.keys.open(&existing)?;
                if !same_record(&existing, &stored, &new, a) {
                    return Err(AppError::conflict(
                        "duplicate_record_number",
                        format!(
                            "办件编号“{}”已登记过,且内容与本次不同。同一系统的办件编号不能重复使用。",
                            valid.record_number
                        ),
                    ));
                }
                let audit = self.audit(&actor, "record.invite", format!("service_record:{}", existing.id), details);
                self.store.insert_invite(existing.id, &secrets::hash(&token), now, None, &audit).await?;
                Ok(Registration::Repeated(self.registered(existing.id, &new, token)))
            }
        }
    }

    fn registered(&self, id: i64, new: &NewServiceRecord<'_>, token: String) -> RegisteredRecord {
        RegisteredRecord {
            id,
            record_number: new.record_number.to_string(),
            evaluation_url: self.evaluation_url(&token),
            evaluation_qr_png: format!("{}/qr.png", self.evaluation_url(&token)),
            evaluation_token: token,
            evaluation_deadline: new.default_due_at,
        }
    }

    /// A record the client may see; out of scope reads as not found.
    pub(crate) async fn scoped_record(&self, client: &ApiClient, id: i64) -> AppResult<RecordRow> {
        match self.store.record_by_id(id).await? {
            Some(r) if client.covers(&r.org_path) => Ok(r),
            _ => Err(AppError::not_found("record_not_found", format!("办件 {id} 不存在。"))),
        }
    }

    pub async fn get_record(&self, client: &ApiClient, id: i64) -> AppResult<RecordView> {
        let rec = self.scoped_record(client, id).await?;
        let applicant = self.keys.open(&rec)?;
        Ok(RecordView::new(&rec, &applicant))
    }

    /// Records completion of a record registered before it was done. Repeating the same time is harmless.
    pub async fn complete_record(&self, client: &ApiClient, id: i64, completed_at: &str) -> AppResult<RecordView> {
        let now = self.now();
        let at = parse_instant("completed_at", completed_at)?;
        let rec = self.scoped_record(client, id).await?;
        if at > now + CLOCK_SKEW {
            return Err(AppError::invalid("completed_at", "time_in_future", "办结时间晚于当前时间,请核对系统时钟。"));
        }
        if at < rec.received_at {
            return Err(AppError::invalid(
                "completed_at",
                "completed_before_received",
                "办结时间早于受理时间,请核对。",
            ));
        }
        match rec.completed_at {
            Some(done) if done == at => {}
            Some(done) => {
                return Err(AppError::conflict(
                    "already_completed",
                    format!("该办件已于 {} 办结,不能更改办结时间。", hcp_domain::calendar::display_cst(done)),
                ));
            }
            None => {
                let audit = self.audit(
                    &Actor::client(client),
                    "record.complete",
                    format!("service_record:{id}"),
                    json!({ "completed_at": at }),
                );
                let done = self.store.complete_record(id, at, evaluation_deadline(at), &audit).await?;
                self.completed();
                if !done {
                    // Completed by a concurrent call meanwhile: answer with what is stored now.
                    return Box::pin(self.complete_record(client, id, completed_at)).await;
                }
            }
        }
        self.get_record(client, id).await
    }
}

fn same_record(existing: &RecordRow, stored: &PlainApplicant, new: &NewServiceRecord<'_>, a: &Applicant) -> bool {
    existing.item_id == new.item_id
        && existing.org_id == new.org_id
        && existing.window_id == new.window_id
        && existing.staff_id == new.staff_id
        && existing.applicant_kind == new.applicant_kind
        && stored.name == a.name.as_str()
        && stored.id_number == a.id_number.as_str()
        && stored.mobile == a.mobile.as_str()
        && existing.received_at == new.received_at
        && existing.completed_at == new.completed_at
}
