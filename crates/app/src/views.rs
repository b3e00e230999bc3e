//! What the API answers: shapes for clients, kept apart from the database rows so a column can change
//! without breaking an integrating system, and so personal data leaves only masked.

use chrono::{DateTime, Utc};
use hcp_domain::identity::{ApplicantIdNumber, ApplicantName, Mobile};
use hcp_domain::indicators::Annex;
use hcp_domain::{Category, Channel, Level};
use hcp_store::{EvaluationRow, RecordRow};

use crate::keys::PlainApplicant;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IndicatorsView {
    pub source: &'static str,
    pub levels: Vec<LevelView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LevelView {
    pub level: Level,
    pub name: &'static str,
    pub bad_review: bool,
    pub service_criteria: Vec<ServiceCriterionView>,
    pub staff_criteria: Vec<StaffCriterionView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ServiceCriterionView {
    pub id: String,
    pub dimension: String,
    pub dimension_name: String,
    pub sub_dimension: String,
    pub sub_dimension_name: String,
    pub text: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffCriterionView {
    pub id: String,
    pub text: String,
}

impl IndicatorsView {
    pub fn from_annex(annex: &Annex) -> IndicatorsView {
        IndicatorsView {
            source: "苍府办函〔2020〕13号 附件《“好差评”评价指标》",
            levels: annex
                .levels()
                .iter()
                .map(|l| LevelView {
                    level: l.level,
                    name: l.level.name_zh(),
                    bad_review: l.level.is_bad_review(),
                    service_criteria: l
                        .service_criteria
                        .iter()
                        .map(|c| ServiceCriterionView {
                            id: c.id.clone(),
                            dimension: c.dimension.clone(),
                            dimension_name: c.dimension_name.clone(),
                            sub_dimension: c.sub_dimension.clone(),
                            sub_dimension_name: c.sub_dimension_name.clone(),
                            text: c.text.clone(),
                        })
                        .collect(),
                    staff_criteria: l
                        .staff_criteria
                        .iter()
                        .map(|c| StaffCriterionView { id: c.id.clone(), text: c.text.clone() })
                        .collect(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegisteredRecord {
    pub id: i64,
    pub record_number: String,
    pub evaluation_token: String,
    pub evaluation_url: String,
    /// The link as a QR code for the receipt (`…/qr.svg` is the same code as SVG).
    pub evaluation_qr_png: String,
    /// When the evaluation window closes (24:00 UTC+8 of the 7th natural day after completion).
    pub evaluation_deadline: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CodeName {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffRef {
    pub staff_number: String,
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemRef {
    pub code: String,
    pub name: String,
    pub category: String,
    pub category_name: &'static str,
}

/// The applicant, masked: 张*, 138****5678, 5108**********1234 (R11.2).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApplicantView {
    pub kind: String,
    pub name: String,
    pub id_number: String,
    pub mobile: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecordView {
    pub id: i64,
    pub source_system: String,
    pub record_number: String,
    pub item: ItemRef,
    pub org: CodeName,
    pub window: Option<CodeName>,
    /// The platform the service was delivered through, if the record names one.
    pub platform: Option<CodeName>,
    pub staff: Option<StaffRef>,
    pub applicant: ApplicantView,
    pub received_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub evaluation_deadline: Option<DateTime<Utc>>,
    pub evaluation: Option<EvaluationSummary>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EvaluationSummary {
    pub id: i64,
    pub level: String,
    pub level_name: &'static str,
    pub channel: String,
    /// The channel in Chinese (网页, 评价器 …), as pages show it.
    pub channel_name: &'static str,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Clone, utoipa::ToSchema)]
pub struct EvaluationView {
    pub id: i64,
    pub service_record_id: i64,
    pub level: String,
    pub level_name: &'static str,
    pub channel: String,
    pub channel_name: &'static str,
    pub indicator_ids: Vec<String>,
    pub staff_indicator_ids: Vec<String>,
    pub comment: Option<String>,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
}

fn level_name(code: &str) -> &'static str {
    Level::parse(code).map(Level::name_zh).unwrap_or("")
}

impl From<&EvaluationRow> for EvaluationView {
    fn from(e: &EvaluationRow) -> Self {
        EvaluationView {
            id: e.id,
            service_record_id: e.service_record_id,
            level: e.level.clone(),
            level_name: level_name(&e.level),
            channel: e.channel.clone(),
            channel_name: Channel::parse(&e.channel).map(Channel::name_zh).unwrap_or(""),
            indicator_ids: hcp_domain::evaluation::split_ids(&e.indicator_ids),
            staff_indicator_ids: hcp_domain::evaluation::split_ids(&e.staff_indicator_ids),
            comment: e.comment.clone(),
            is_default: e.is_default,
            created_at: e.created_at,
        }
    }
}

/// Masks a stored value through its validated type; a value that no longer parses is hidden entirely.
fn mask_with<T>(parsed: Result<T, hcp_domain::Violation>, mask: impl Fn(&T) -> String) -> String {
    parsed.map(|v| mask(&v)).unwrap_or_else(|_| "***".to_string())
}

impl RecordView {
    /// The record with its applicant masked; `a` is the applicant's data opened for masking only.
    pub fn new(r: &RecordRow, a: &PlainApplicant) -> Self {
        RecordView {
            id: r.id,
            source_system: r.source_system.clone(),
            record_number: r.record_number.clone(),
            item: ItemRef {
                code: r.item_code.clone(),
                name: r.item_name.clone(),
                category: r.category.clone(),
                category_name: Category::parse(&r.category).map(Category::name_zh).unwrap_or(""),
            },
            org: CodeName { code: r.org_code.clone(), name: r.org_name.clone() },
            window: r
                .window_code
                .as_ref()
                .map(|c| CodeName { code: c.clone(), name: r.window_name.clone().unwrap_or_default() }),
            platform: r
                .platform_code
                .as_ref()
                .map(|c| CodeName { code: c.clone(), name: r.platform_name.clone().unwrap_or_default() }),
            staff: r
                .staff_number
                .as_ref()
                .map(|n| StaffRef { staff_number: n.clone(), name: r.staff_name.clone().unwrap_or_default() }),
            applicant: ApplicantView {
                kind: r.applicant_kind.clone(),
                name: mask_with(ApplicantName::parse("", &a.name), ApplicantName::masked),
                id_number: mask_with(ApplicantIdNumber::parse("", a.kind, &a.id_number), |n| n.masked()),
                mobile: mask_with(Mobile::parse("", &a.mobile), Mobile::masked),
            },
            received_at: r.received_at,
            completed_at: r.completed_at,
            evaluation_deadline: r.default_due_at,
            evaluation: r.evaluation.as_ref().map(|e| EvaluationSummary {
                id: e.id,
                level: e.level.clone(),
                level_name: level_name(&e.level),
                channel: e.channel.clone(),
                channel_name: Channel::parse(&e.channel).map(Channel::name_zh).unwrap_or(""),
                is_default: e.is_default,
                created_at: e.created_at,
            }),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrgView {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub kind_name: &'static str,
    pub parent_code: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemView {
    pub code: String,
    pub name: String,
    pub category: String,
    pub category_name: &'static str,
    pub org_code: String,
    pub legal_limit_days: Option<i64>,
    pub promised_limit_days: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WindowView {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub hall: String,
    pub org_code: String,
}
