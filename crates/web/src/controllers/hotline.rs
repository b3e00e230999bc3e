//! `/api/v1/service-records/{id}/hotline-evaluation`: a caller's evaluation recorded by a 12345 hotline agent
//! (session token), with the ticket of the call (issue 14 §4); `/api/v1/service-records/{id}/hotline-tickets`:
//! the 12345 system (API key) registers the ticket of a call about the record (issue 29 §3).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hcp_app::App;
use hcp_app::call_tickets::TicketRegistration;
use hcp_app::evaluations::EvaluationInput;
use hcp_app::hotline::HotlineOutcome;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Client, Person, path_id};

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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketBody {
    /// The 12345 ticket (工单编号) of the call about this record: 6–40 letters, digits or `-`.
    pub ticket_number: String,
}

/// A ticket registered for a record.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TicketView {
    /// As stored: upper-cased.
    pub ticket_number: String,
    pub service_record_id: i64,
}

/// `POST /api/v1/service-records/{id}/hotline-tickets`: the 12345 system registers the ticket of a call about
/// the record; only then may a hotline agent reveal the record's contact or record an evaluation with it.
/// 201 when new, 200 when registered before for the same record, 409 `ticket_other_record` for another record.
#[utoipa::path(
    operation_id = "hotline_tickets_create",
    post, path = "/service-records/{id}/hotline-tickets", tag = "评价", summary = "12345 系统登记来电工单",
    request_body = TicketBody, security(("api_key" = [])), params(("id" = i64, Path, description = "办件编号")),
    responses(
        (status = 201, description = "已登记", body = TicketView),
        (status = 200, description = "此前已登记在同一办件(重试)", body = TicketView),
        (status = 409, description = "工单已登记在另一个办件", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn register_ticket(
    State(app): State<App>,
    Client(client): Client,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TicketBody>,
) -> Result<(StatusCode, Json<TicketView>), ApiError> {
    let id = path_id(&id, "record_not_found")?;
    let outcome = app.register_call_ticket(&client, id, &body.ticket_number).await?;
    let status = if outcome == TicketRegistration::Registered { StatusCode::CREATED } else { StatusCode::OK };
    let ticket_number = body.ticket_number.trim().to_ascii_uppercase();
    Ok((status, Json(TicketView { ticket_number, service_record_id: id })))
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
        (status = 422, description = "工单未由12345系统登记在该办件(`unknown_ticket`)或内容有误", body = Problem, content_type = "application/problem+json"),
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
