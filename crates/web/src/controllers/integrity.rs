//! `/api/v1/integrity`: the integrity checks' flags for the county office and auditors (issue 16 §4).

use axum::Json;
use axum::extract::{Path, State};
use hcp_app::integrity::{ConclusionInput, FlagView, parse_pattern};
use hcp_app::{App, AppError};
use hcp_domain::calendar::parse_date;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, Person, path_id};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagQuery {
    /// Business dates (UTC+8), inclusive.
    pub from: String,
    pub to: String,
    /// One pattern (`self_rating` …), or all.
    pub pattern: Option<String>,
}

#[derive(Serialize)]
pub struct FlagList {
    pub flags: Vec<FlagView>,
}

/// `GET /api/v1/integrity/flags?from=2026-11-01&to=2026-11-30[&pattern=self_rating]`: flags whose evaluations
/// fall in the dates, strongest first.
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvestigationBody {
    pub note: String,
}

/// `POST /api/v1/integrity/flags/{id}/investigation {"note"}`: the county office opens it; 409 `flag_not_open`.
pub async fn investigate(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<InvestigationBody>,
) -> Result<Json<FlagView>, ApiError> {
    Ok(Json(app.open_investigation(&who, path_id(&id, "flag_not_found")?, &body.note).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConclusionBody {
    pub conclusion: String,
    pub findings: String,
    pub evaluation_ids: Option<Vec<i64>>,
}

/// `POST /api/v1/integrity/flags/{id}/conclusion {"conclusion": "fake_good"|"malicious_bad"|"cleared"|"referred",
/// "findings", "evaluation_ids"?}`: a fake or malicious conclusion sets the evaluations aside.
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
