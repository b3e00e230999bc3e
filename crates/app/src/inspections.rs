//! Mystery-shopper visits (调查暗访, plan §一 "组织开展调查暗访评价", issue 16 §5). The county office plans a visit to
//! a window (dates, inspector's account); the named inspector records one evaluation of it — the annex's five
//! levels and criteria, findings, photos — on a phone. Visits are their own source: never an applicant's
//! evaluation, never in applicants' figures or the exchange, counted apart as "暗访评价". A bad finding opens a
//! case that the 12345 center dispatches and the unit works to the same 1-5-15 limits as a bad review's.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use hcp_domain::Level;
use hcp_domain::calendar::{business_date, parse_date};
use hcp_domain::evaluation::{RawSubmission, Submission};
use hcp_domain::identity::parse_text;
use hcp_domain::inspection::{VisitDates, recording_refusal};
use hcp_store::{InspectionRow, InspectionWrite, NewInspection, NewInspectionEvaluation};
use serde::Serialize;
use serde_json::json;

use crate::attachments::{MAX_EVIDENCE, Upload, check_upload};
use crate::audit::Actor;
use crate::cases::AttachmentView;
use crate::policy::{Action, Principal, Target};
use crate::{App, AppError, AppResult};

/// Findings are the point of a visit: longer than a comment, bounded like a case step's text.
const FINDINGS_MAX_CHARS: usize = 2000;

/// A visit as the office plans it.
#[derive(Debug, Clone, Default)]
pub struct InspectionPlan {
    pub window_code: String,
    pub from: String,
    pub to: String,
    /// The inspector's account (username).
    pub inspector: String,
}

/// What the inspector records: an applicant's evaluation body plus findings and, optionally, who served.
#[derive(Debug, Clone, Default)]
pub struct InspectionInput {
    pub level: String,
    pub indicator_ids: Vec<String>,
    pub staff_indicator_ids: Vec<String>,
    pub comment: Option<String>,
    pub findings: String,
    pub staff_number: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InspectionEvaluationView {
    pub staff_number: Option<String>,
    pub staff_name: Option<String>,
    pub level: String,
    pub level_name: &'static str,
    pub indicator_ids: Vec<String>,
    pub staff_indicator_ids: Vec<String>,
    pub comment: Option<String>,
    pub findings: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InspectionView {
    pub id: i64,
    pub window_code: String,
    pub window_name: String,
    pub org_name: String,
    pub from: String,
    pub to: String,
    pub inspector: String,
    pub planned_by: String,
    pub created_at: DateTime<Utc>,
    /// `planned`, `recorded`, or `missed` (the dates passed with nothing recorded).
    pub state: &'static str,
    pub state_name: &'static str,
    pub evaluation: Option<InspectionEvaluationView>,
    /// The case a bad finding opened.
    pub case_id: Option<i64>,
    pub photos: Vec<AttachmentView>,
}

/// The visits of a period counted apart from applicants' evaluations (statistics and reports: "暗访评价").
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct InspectionSummary {
    pub planned: u64,
    pub recorded: u64,
    pub missed: u64,
    /// Recorded visits by level code.
    pub levels: BTreeMap<String, u64>,
    /// Recorded visits rated 不满意 or 非常不满意 (each opened a case).
    pub bad_findings: u64,
}

impl InspectionSummary {
    pub fn of(visits: &[InspectionView]) -> InspectionSummary {
        let mut s = InspectionSummary { planned: visits.len() as u64, ..Default::default() };
        for v in visits {
            match &v.evaluation {
                Some(e) => {
                    s.recorded += 1;
                    *s.levels.entry(e.level.clone()).or_default() += 1;
                    s.bad_findings += Level::parse(&e.level).is_some_and(|l| l.is_bad_review()) as u64;
                }
                None if v.state == "missed" => s.missed += 1,
                None => {}
            }
        }
        s
    }
}

fn split_ids(s: &str) -> Vec<String> {
    s.split(',').filter(|x| !x.is_empty()).map(str::to_string).collect()
}

fn inspection_not_found(id: i64) -> AppError {
    AppError::not_found("inspection_not_found", format!("暗访安排 {id} 不存在。"))
}

impl App {
    fn inspection_view(&self, r: InspectionRow, photos: Vec<AttachmentView>) -> InspectionView {
        let today = business_date(self.now());
        let over = parse_date("to", &r.to_day).is_ok_and(|to| to < today);
        let (state, state_name) = match (&r.evaluation, over) {
            (Some(_), _) => ("recorded", "已录入"),
            (None, true) => ("missed", "逾期未录入"),
            (None, false) => ("planned", "待暗访"),
        };
        InspectionView {
            id: r.id,
            window_code: r.window_code,
            window_name: r.window_name,
            org_name: r.org_name,
            from: r.from_day,
            to: r.to_day,
            inspector: r.inspector,
            planned_by: r.planned_by,
            created_at: r.created_at,
            state,
            state_name,
            evaluation: r.evaluation.map(|e| InspectionEvaluationView {
                level_name: Level::parse(&e.level).map(|l| l.name_zh()).unwrap_or(""),
                staff_number: e.staff_number,
                staff_name: e.staff_name,
                level: e.level,
                indicator_ids: split_ids(&e.indicator_ids),
                staff_indicator_ids: split_ids(&e.staff_indicator_ids),
                comment: e.comment,
                findings: e.findings,
                recorded_by: e.recorded_by,
                recorded_at: e.at,
            }),
            case_id: r.case_id,
            photos,
        }
    }

    /// Whether the person may see this visit: the office and auditors over its window, and its inspector.
    fn sees_inspection(who: &Principal, r: &InspectionRow) -> bool {
        r.inspector == who.username
            || who.may(Action::ViewInspections, Some(Target { org_path: &r.org_path, staff_id: None }))
    }

    /// The inspector's account as a principal, to check it may inspect the window; `None` if it does not exist
    /// or is disabled.
    async fn inspector_principal(&self, username: &str) -> AppResult<Option<Principal>> {
        let Some(user) = self.store.user_by_username(username).await? else { return Ok(None) };
        if user.disabled_at.is_some() {
            return Ok(None);
        }
        Ok(Some(self.principal_of(user).await?))
    }

    /// The visit `id` if this person is its inspector and may act on it today: within its dates and, when
    /// `once`, not recorded yet. Anyone who may not see the visit learns nothing of it (404).
    async fn visit_for_inspector(&self, who: &Principal, id: i64, once: bool) -> AppResult<InspectionRow> {
        let r = self.store.inspection_by_id(id).await?.ok_or_else(|| inspection_not_found(id))?;
        if !Self::sees_inspection(who, &r) {
            return Err(inspection_not_found(id));
        }
        let dates = VisitDates {
            from: parse_date("from", &r.from_day).map_err(|v| AppError::Invalid(vec![v]))?,
            to: parse_date("to", &r.to_day).map_err(|v| AppError::Invalid(vec![v]))?,
        };
        let recorded = once && r.evaluation.is_some();
        match recording_refusal(dates, &r.inspector, &who.username, business_date(self.now()), recorded) {
            None => Ok(r),
            Some((code @ "not_the_inspector", message)) => Err(AppError::denied(code, message)),
            Some((code, message)) => Err(AppError::conflict(code, message)),
        }
    }

    /// `POST /api/v1/inspections`: the county office plans a visit. Every reason is given at once.
    pub async fn plan_inspection(&self, who: &Principal, plan: &InspectionPlan) -> AppResult<InspectionView> {
        if !who.may(Action::PlanInspection, None) {
            return Err(AppError::Forbidden);
        }
        let mut v = Vec::new();
        let window = self
            .store
            .window_by_code(plan.window_code.trim())
            .await?
            .filter(|w| who.may(Action::PlanInspection, Some(Target { org_path: &w.org_path, staff_id: None })));
        if window.is_none() {
            v.push(hcp_domain::Violation::new(
                "window_code",
                "unknown_window",
                format!("窗口“{}”不存在或不在您的管辖范围内。", plan.window_code.trim()),
            ));
        }
        let dates = VisitDates::parse(&plan.from, &plan.to, business_date(self.now())).map_err(|e| v.extend(e)).ok();
        let inspector = plan.inspector.trim();
        let account = self.inspector_principal(inspector).await?;
        match (&account, &window) {
            (None, _) => v.push(hcp_domain::Violation::new(
                "inspector",
                "unknown_inspector",
                format!("暗访人员账号“{inspector}”不存在或已停用。"),
            )),
            (Some(p), Some(w))
                if !p.may(Action::RecordInspection, Some(Target { org_path: &w.org_path, staff_id: None })) =>
            {
                v.push(hcp_domain::Violation::new(
                    "inspector",
                    "inspector_not_allowed",
                    format!("账号“{inspector}”不是县政府办公室人员,或其管辖范围不含该窗口,不能担任暗访人员。"),
                ))
            }
            _ => {}
        }
        let (Some(window), Some(dates), true) = (window, dates, v.is_empty()) else {
            return Err(AppError::Invalid(v));
        };
        let (from, to) = (dates.from.to_string(), dates.to.to_string());
        let Some((_, org_id)) = self.store.window_and_org_by_code(&window.code).await? else {
            return Err(AppError::invalid("window_code", "unknown_window", "窗口不存在。"));
        };
        let new = NewInspection {
            window_id: window.id,
            org_id,
            from_day: &from,
            to_day: &to,
            inspector,
            planned_by: &who.username,
            at: self.now(),
        };
        let audit = self.audit(
            &Actor::user(&who.username),
            "inspection.plan",
            "",
            json!({ "window_code": window.code, "from": from, "to": to, "inspector": inspector }),
        );
        let id = self.store.insert_inspection(&new, &audit).await?;
        self.inspection(who, id).await
    }

    /// One visit with its photos, for those who may see it.
    pub async fn inspection(&self, who: &Principal, id: i64) -> AppResult<InspectionView> {
        let r = self.store.inspection_by_id(id).await?.ok_or_else(|| inspection_not_found(id))?;
        if !Self::sees_inspection(who, &r) {
            // Nobody else learns that the visit exists: it is meant to be unannounced.
            return Err(inspection_not_found(id));
        }
        let photos = self.store.inspection_photos(id).await?.iter().map(AttachmentView::from_row).collect();
        Ok(self.inspection_view(r, photos))
    }

    /// `GET /api/v1/inspections?from=&to=`: the visits overlapping the dates with their summary — every one in
    /// scope for the office and auditors, one's own for an inspector.
    pub async fn inspections(
        &self,
        who: &Principal,
        from: &str,
        to: &str,
    ) -> AppResult<(Vec<InspectionView>, InspectionSummary)> {
        let all = who.may(Action::ViewInspections, None);
        if !all && !who.may(Action::RecordInspection, None) {
            return Err(AppError::Forbidden);
        }
        let mut v = Vec::new();
        let from = parse_date("from", from).map_err(|e| v.push(e)).ok();
        let to = parse_date("to", to).map_err(|e| v.push(e)).ok();
        let (Some(from), Some(to)) = (from, to) else { return Err(AppError::Invalid(v)) };
        let rows = self
            .store
            .list_inspections(&from.to_string(), &to.to_string(), if all { None } else { Some(&who.username) })
            .await?;
        let views: Vec<InspectionView> = rows
            .into_iter()
            .filter(|r| Self::sees_inspection(who, r))
            .map(|r| self.inspection_view(r, Vec::new()))
            .collect();
        let summary = InspectionSummary::of(&views);
        Ok((views, summary))
    }

    /// `POST /api/v1/inspections/{id}/evaluations`: the named inspector records the visit, within its dates,
    /// once. A bad finding opens a case in the same transaction.
    pub async fn record_inspection(
        &self,
        who: &Principal,
        id: i64,
        input: &InspectionInput,
        photos: &[Upload],
    ) -> AppResult<InspectionView> {
        let now = self.now();
        let r = self.visit_for_inspector(who, id, true).await?;
        let mut v = Vec::new();
        let sub = Submission::parse_inspection(RawSubmission {
            level: &input.level,
            indicator_ids: &input.indicator_ids,
            staff_indicator_ids: &input.staff_indicator_ids,
            comment: input.comment.as_deref(),
            channel: "",
        })
        .map_err(|e| v.extend(e))
        .ok();
        // Blank findings are refused (`required`) like any other required text.
        let findings =
            parse_text("findings", &input.findings, FINDINGS_MAX_CHARS, "暗访发现").map_err(|e| v.push(e)).ok();
        let staff_id = match input.staff_number.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(number) => match self.store.staff_placement(number).await? {
                Some((staff_id, org_id, _)) if org_id == r.org_id => Some(staff_id),
                _ => {
                    v.push(hcp_domain::Violation::new(
                        "staff_number",
                        "unknown_staff",
                        format!("工号“{number}”不是该窗口所属单位的工作人员。"),
                    ));
                    None
                }
            },
        };
        if photos.len() > MAX_EVIDENCE {
            v.push(hcp_domain::Violation::new("photos", "too_many_files", format!("照片最多 {MAX_EVIDENCE} 张。")));
        }
        let (Some(sub), Some(findings), true) = (sub, findings, v.is_empty()) else {
            return Err(AppError::Invalid(v));
        };
        let files = photos.iter().map(|u| check_upload(u, &who.username, now)).collect::<AppResult<Vec<_>>>()?;
        let bad = sub.level.is_bad_review();
        let new = NewInspectionEvaluation {
            staff_id,
            level: sub.level.as_str(),
            indicator_ids: sub.indicator_ids.join(","),
            staff_indicator_ids: sub.staff_indicator_ids.join(","),
            comment: sub.comment.clone(),
            findings,
            recorded_by: who.username.clone(),
            at: now,
        };
        let audit = self.audit(
            &Actor::user(&who.username),
            "inspection.record",
            format!("inspection:{id}"),
            json!({ "level": new.level, "photos": files.len(), "bad_finding": bad }),
        );
        match self.store.record_inspection(id, &new, &files, bad, &[audit]).await? {
            InspectionWrite::Recorded { .. } => self.inspection(who, id).await,
            InspectionWrite::AlreadyRecorded => {
                Err(AppError::conflict("inspection_recorded", "这次暗访已录入评价,不能重复录入。"))
            }
        }
    }

    /// The "暗访评价" of the windows under `org_path` whose visits overlap the dates (reports and statistics).
    pub(crate) async fn inspection_summary(
        &self,
        org_path: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> AppResult<InspectionSummary> {
        let rows = self.store.list_inspections(&from.to_string(), &to.to_string(), None).await?;
        let views: Vec<InspectionView> = rows
            .into_iter()
            .filter(|r| r.org_path.starts_with(org_path))
            .map(|r| self.inspection_view(r, Vec::new()))
            .collect();
        Ok(InspectionSummary::of(&views))
    }

    /// `POST /api/v1/inspections/{id}/photos`: the inspector adds a photo of the visit (within its dates; at
    /// most [`MAX_EVIDENCE`]), checked for type and size as case attachments are.
    pub async fn add_inspection_photo(&self, who: &Principal, id: i64, upload: &Upload) -> AppResult<i64> {
        let now = self.now();
        // The same rule as recording, except that photos may follow the recorded evaluation.
        self.visit_for_inspector(who, id, false).await?;
        let photo = check_upload(upload, &who.username, now)?;
        let audit = self.audit(
            &Actor::user(&who.username),
            "inspection.photo",
            format!("inspection:{id}"),
            json!({ "file_name": photo.file_name, "size": photo.data.len(), "sm3": photo.sm3 }),
        );
        self.store.add_inspection_photo(id, &photo, MAX_EVIDENCE, &audit).await?.ok_or_else(|| {
            AppError::invalid("file", "too_many_files", format!("每次暗访的照片最多 {MAX_EVIDENCE} 张。"))
        })
    }

    /// A visit's photo, for those who may see the visit.
    pub async fn inspection_photo(
        &self,
        who: &Principal,
        id: i64,
        photo_id: i64,
    ) -> AppResult<(String, String, Vec<u8>)> {
        let r = self.store.inspection_by_id(id).await?.ok_or_else(|| inspection_not_found(id))?;
        if !Self::sees_inspection(who, &r) {
            return Err(inspection_not_found(id));
        }
        self.store
            .inspection_photo_data(id, photo_id)
            .await?
            .ok_or_else(|| AppError::not_found("photo_not_found", "照片不存在。"))
    }
}
