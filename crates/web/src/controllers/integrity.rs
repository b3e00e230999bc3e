//! `/api/v1/integrity`: the integrity checks' flags for the county office and auditors (issue 16 §4).

use axum::Json;
use axum::extract::{Path, State};
use hcp_app::integrity::{ConclusionInput, FlagView, parse_pattern};
use hcp_app::{App, AppError};
use hcp_domain::calendar::parse_date;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, Person, path_id};

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FlagQuery {
    /// Business dates (UTC+8), inclusive.
    pub from: String,
    pub to: String,
    /// One pattern (`self_rating` …), or all.
    pub pattern: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FlagList {
    pub flags: Vec<FlagView>,
}

/// `GET /api/v1/integrity/flags?from=2026-11-01&to=2026-11-30[&pattern=self_rating]`: flags whose evaluations
/// fall in the dates, strongest first.
#[utoipa::path(
    operation_id = "integrity_flags",
    get, path = "/integrity/flags", tag = "诚信核查", summary = "疑似刷好评、恶意差评的线索", params(FlagQuery), security(("session" = [])),
    responses((status = 200, description = "线索,最强的在前", body = FlagList)),
)]
pub async fn flags(
    State(app): State<App>,
    Person(who): Person,
    ApiQuery(q): ApiQuery<FlagQuery>,
) -> Result<Json<FlagList>, ApiError> {
    let mut v = Vec::new();
    let from = parse_date("from", &q.from).map_err(|e| v.push(e)).ok();
    let to = parse_date("to", &q.to).map_err(|e| v.push(e)).ok();
    let pattern = parse_pattern(q.pattern.as_deref())?;
    let (Some(from), Some(to)) = (from, to) else { return Err(AppError::Invalid(v).into()) };
    Ok(Json(FlagList { flags: app.integrity_flags(&who, from, to, pattern).await? }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvestigationBody {
    pub note: String,
}

/// `POST /api/v1/integrity/flags/{id}/investigation {"note"}`: the county office opens it; 409 `flag_not_open`.
#[utoipa::path(
    operation_id = "integrity_investigate",
    post, path = "/integrity/flags/{id}/investigation", tag = "诚信核查", summary = "立案核查", request_body = InvestigationBody, security(("session" = [])), params(("id" = i64, Path, description = "线索编号")),
    responses(
        (status = 200, description = "线索", body = FlagView),
        (status = 409, description = "线索不在待核查状态", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn investigate(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<InvestigationBody>,
) -> Result<Json<FlagView>, ApiError> {
    Ok(Json(app.open_investigation(&who, path_id(&id, "flag_not_found")?, &body.note).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConclusionBody {
    pub conclusion: String,
    pub findings: String,
    pub evaluation_ids: Option<Vec<i64>>,
}

/// `POST /api/v1/integrity/flags/{id}/conclusion {"conclusion": "fake_good"|"malicious_bad"|"cleared"|"referred",
/// "findings", "evaluation_ids"?}` on a flag under investigation (409 `investigation_required` before): a fake
/// or malicious conclusion is a proposal (state `proposed`) that sets the evaluations aside only once a second
/// person confirms it (`…/confirmation`); the others take effect at once.
#[utoipa::path(
    operation_id = "integrity_conclude",
    post, path = "/integrity/flags/{id}/conclusion", tag = "诚信核查", summary = "核查结论", request_body = ConclusionBody, security(("session" = [])), params(("id" = i64, Path, description = "线索编号")),
    responses(
        (status = 200, description = "线索(认定为刷好评或恶意差评时为待确认,确认后相关评价不再计入)", body = FlagView),
        (status = 409, description = "尚未立案核查(`investigation_required`)、已有待确认结论或已办结", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn conclude(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ConclusionBody>,
) -> Result<Json<FlagView>, ApiError> {
    let input =
        ConclusionInput { conclusion: body.conclusion, findings: body.findings, evaluation_ids: body.evaluation_ids };
    Ok(Json(app.conclude_flag(&who, path_id(&id, "flag_not_found")?, &input).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmationBody {
    /// `true` confirms the proposal (the evaluations are set aside), `false` returns the flag to investigation.
    pub confirm: bool,
    /// Required when rejecting.
    pub note: Option<String>,
}

/// `POST /api/v1/integrity/flags/{id}/confirmation {"confirm", "note"?}`: a second person (another county-office
/// account or an auditor) confirms or rejects a proposed fake/malicious conclusion (issue 29 §8); the proposer,
/// or whoever could act as the proposer's account, gets 403 `conflict_of_interest`.
#[utoipa::path(
    operation_id = "integrity_confirm",
    post, path = "/integrity/flags/{id}/confirmation", tag = "诚信核查", summary = "确认或退回核查结论(双人)", request_body = ConfirmationBody, security(("session" = [])), params(("id" = i64, Path, description = "线索编号")),
    responses(
        (status = 200, description = "线索(确认后相关评价不再计入;退回后回到核查中)", body = FlagView),
        (status = 403, description = "结论由本人提出(`conflict_of_interest`)或无权确认", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "没有待确认的结论(`no_proposal`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn confirm(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ConfirmationBody>,
) -> Result<Json<FlagView>, ApiError> {
    let id = path_id(&id, "flag_not_found")?;
    Ok(Json(app.confirm_conclusion(&who, id, body.confirm, body.note.as_deref()).await?))
}
