//! `/api/v1/referrals`: clues of suspected misconduct referred to the bodies that handle them (issue 16 §6).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hcp_app::App;
use hcp_app::referrals::{ReferralInput, ReferralView, Suggestion};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, Person, path_id};

#[derive(Deserialize, utoipa::ToSchema)]
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
#[utoipa::path(
    operation_id = "referrals_create",
    post, path = "/referrals", tag = "问题线索移送", summary = "移送线索", request_body = NewReferralBody, security(("session" = [])),
    responses((status = 201, description = "移送记录", body = ReferralView)),
)]
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

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReferralList {
    pub referrals: Vec<ReferralView>,
}

/// `GET /api/v1/referrals`: every referral for the county office and auditors, one's own otherwise.
#[utoipa::path(
    operation_id = "referrals_list",
    get, path = "/referrals", tag = "问题线索移送", summary = "移送记录", security(("session" = [])),
    responses((status = 200, description = "移送记录", body = ReferralList)),
)]
pub async fn list(State(app): State<App>, Person(who): Person) -> Result<Json<ReferralList>, ApiError> {
    Ok(Json(ReferralList { referrals: app.referrals(&who).await? }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeBody {
    pub outcome: String,
}

/// `POST /api/v1/referrals/{id}/outcome {"outcome"}`: once; 409 `outcome_recorded`.
#[utoipa::path(
    operation_id = "referrals_outcome",
    post, path = "/referrals/{id}/outcome", tag = "问题线索移送", summary = "登记处理结果", request_body = OutcomeBody, security(("session" = [])), params(("id" = i64, Path, description = "移送编号")),
    responses(
        (status = 200, description = "移送记录", body = ReferralView),
        (status = 409, description = "已登记结果", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn outcome(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<OutcomeBody>,
) -> Result<Json<ReferralView>, ApiError> {
    Ok(Json(app.record_outcome(&who, path_id(&id, "referral_not_found")?, &b.outcome).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SuggestionQuery {
    pub from: String,
    pub to: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SuggestionList {
    pub suggestions: Vec<Suggestion>,
}

/// `GET /api/v1/referrals/suggestions?from=&to=`: evaluations whose comments suggest misconduct.
#[utoipa::path(
    operation_id = "referrals_suggestions",
    get, path = "/referrals/suggestions", tag = "问题线索移送", summary = "评论中疑似违纪的线索", params(SuggestionQuery), security(("session" = [])),
    responses((status = 200, description = "建议移送的评价", body = SuggestionList)),
)]
pub async fn suggestions(
    State(app): State<App>,
    Person(who): Person,
    ApiQuery(q): ApiQuery<SuggestionQuery>,
) -> Result<Json<SuggestionList>, ApiError> {
    Ok(Json(SuggestionList { suggestions: app.referral_suggestions(&who, &q.from, &q.to).await? }))
}
