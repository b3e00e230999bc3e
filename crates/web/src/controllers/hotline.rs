//! `/api/v1/service-records/{id}/hotline-evaluation`: a caller's evaluation recorded by a 12345 hotline agent
//! (session token), with the ticket of the call (issue 14 §4).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hcp_app::App;
use hcp_app::evaluations::EvaluationInput;
use hcp_app::hotline::HotlineOutcome;
use serde::Deserialize;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Person, path_id};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HotlineBody {
    /// The 12345 ticket of the call; one evaluation per ticket.
    pub ticket_number: String,
    pub level: String,
    #[serde(default)]
    pub indicator_ids: Vec<String>,
    #[serde(default)]
    pub staff_indicator_ids: Vec<String>,
    pub comment: Option<String>,
}

/// `POST /api/v1/service-records/{id}/hotline-evaluation`: 201 `{"state": "recorded", "evaluation": …}`, or
/// with `--hotline-confirm` 202 `{"state": "awaiting_confirmation", "ticket_number", "expires_at"}`; 409
/// `ticket_used` when the ticket carried one already, 409 `already_evaluated` when the record has its evaluation.
#[utoipa::path(
    operation_id = "hotline_create",
    post, path = "/service-records/{id}/hotline-evaluation", tag = "评价", summary = "12345 热线代录评价",
    request_body = HotlineBody, security(("session" = [])), params(("id" = i64, Path, description = "办件编号")),
    responses(
        (status = 201, description = "已记录", body = HotlineOutcome),
        (status = 202, description = "等待来电人确认(`--hotline-confirm`)", body = HotlineOutcome),
        (status = 409, description = "工单已用过,或办件已有评价", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<HotlineBody>,
) -> Result<(StatusCode, Json<HotlineOutcome>), ApiError> {
    let id = path_id(&id, "record_not_found")?;
    let input = EvaluationInput {
        token: String::new(),
        level: body.level,
        indicator_ids: body.indicator_ids,
        staff_indicator_ids: body.staff_indicator_ids,
        comment: body.comment,
        channel: "hotline".into(),
    };
    let outcome = app.record_hotline_evaluation(&who, id, &body.ticket_number, &input).await?;
    let status = match outcome {
        HotlineOutcome::Recorded { .. } => StatusCode::CREATED,
        HotlineOutcome::AwaitingConfirmation { .. } => StatusCode::ACCEPTED,
    };
    Ok((status, Json(outcome)))
}
