//! `/api/v1/referrals`: clues of suspected misconduct referred to the bodies that handle them (issue 16 §6).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hcp_app::App;
use hcp_app::referrals::{ReferralInput, ReferralView, Suggestion};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, Person, path_id};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewReferralBody {
    pub subject_kind: String,
    pub subject_id: i64,
    /// The receiving body (县纪委监委 …).
    pub body: String,
    pub reference: String,
    /// YYYY-MM-DD.
    pub referred_on: String,
}

/// `POST /api/v1/referrals` (center, county office): 201 with the referral.
pub async fn create(
    State(app): State<App>,
    Person(who): Person,
    ApiJson(b): ApiJson<NewReferralBody>,
) -> Result<(StatusCode, Json<ReferralView>), ApiError> {
    let input = ReferralInput {
        subject_kind: b.subject_kind,
        subject_id: b.subject_id,
        body: b.body,
        reference: b.reference,
        referred_on: b.referred_on,
    };
    Ok((StatusCode::CREATED, Json(app.refer(&who, &input).await?)))
}

#[derive(Serialize)]
pub struct ReferralList {
    pub referrals: Vec<ReferralView>,
}

/// `GET /api/v1/referrals`: every referral for the county office and auditors, one's own otherwise.
pub async fn list(State(app): State<App>, Person(who): Person) -> Result<Json<ReferralList>, ApiError> {
    Ok(Json(ReferralList { referrals: app.referrals(&who).await? }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeBody {
    pub outcome: String,
}

/// `POST /api/v1/referrals/{id}/outcome {"outcome"}`: once; 409 `outcome_recorded`.
pub async fn outcome(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<OutcomeBody>,
) -> Result<Json<ReferralView>, ApiError> {
    Ok(Json(app.record_outcome(&who, path_id(&id, "referral_not_found")?, &b.outcome).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuggestionQuery {
    pub from: String,
    pub to: String,
}

#[derive(Serialize)]
pub struct SuggestionList {
    pub suggestions: Vec<Suggestion>,
}

/// `GET /api/v1/referrals/suggestions?from=&to=`: evaluations whose comments suggest misconduct.
pub async fn suggestions(
    State(app): State<App>,
    Person(who): Person,
    ApiQuery(q): ApiQuery<SuggestionQuery>,
) -> Result<Json<SuggestionList>, ApiError> {
    Ok(Json(SuggestionList { suggestions: app.referral_suggestions(&who, &q.from, &q.to).await? }))
}
