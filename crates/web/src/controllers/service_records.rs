use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hcp_app::App;
use hcp_app::records::{RecordInput, Registration};
use hcp_app::views::{RecordView, RegisteredRecord};
use serde::Deserialize;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Client, path_id};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicantBody {
    pub kind: String,
    pub name: String,
    pub id_number: String,
    pub mobile: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewRecord)]
pub struct CreateBody {
    pub record_number: String,
    pub item_code: String,
    pub org_code: String,
    pub window_code: Option<String>,
    pub staff_number: Option<String>,
    pub applicant: ApplicantBody,
    pub received_at: String,
    pub completed_at: Option<String>,
    /// The platform the service was delivered through (`GET /api/v1/platforms`).
    pub platform_code: Option<String>,
}

/// `POST /api/v1/service-records`: registers a record and answers with its evaluation link. 201 when new;
/// 200 with a fresh link when the same record was sent before (a retry).
#[utoipa::path(
    operation_id = "service_records_create",
    post, path = "/service-records", tag = "办件", summary = "登记办件并取得评价链接",
    request_body = CreateBody, security(("api_key" = [])),
    responses(
        (status = 201, description = "新办件", body = RegisteredRecord),
        (status = 200, description = "同一办件再次提交(重试):新的评价链接", body = RegisteredRecord),
        (status = 409, description = "办件编号已被占用", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create(
    State(app): State<App>,
    Client(client): Client,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<RegisteredRecord>), ApiError> {
    let input = RecordInput {
        record_number: body.record_number,
        item_code: body.item_code,
        org_code: body.org_code,
        window_code: body.window_code,
        staff_number: body.staff_number,
        applicant_kind: body.applicant.kind,
        applicant_name: body.applicant.name,
        applicant_id_number: body.applicant.id_number,
        applicant_mobile: body.applicant.mobile,
        received_at: body.received_at,
        completed_at: body.completed_at,
        platform_code: body.platform_code,
    };
    Ok(match app.register_record(&client, &input).await? {
        Registration::Created(r) => (StatusCode::CREATED, Json(r)),
        Registration::Repeated(r) => (StatusCode::OK, Json(r)),
    })
}

/// `GET /api/v1/service-records/{id}`: the record, its applicant masked, and its evaluation if any.
#[utoipa::path(
    operation_id = "service_records_get",
    get, path = "/service-records/{id}", tag = "办件", summary = "查看办件及其评价", security(("api_key" = [])), params(("id" = i64, Path, description = "办件编号")),
    responses((status = 200, description = "办件(申请人信息已脱敏)", body = RecordView)),
)]
pub async fn get(
    State(app): State<App>,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<Json<RecordView>, ApiError> {
    let id = path_id(&id, "record_not_found")?;
    Ok(Json(app.get_record(&client, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    pub completed_at: String,
}

/// `POST /api/v1/service-records/{id}/complete`: records completion; opens the 7-day evaluation window.
#[utoipa::path(
    operation_id = "service_records_complete",
    post, path = "/service-records/{id}/complete", tag = "办件", summary = "登记办结,开始 7 日评价期",
    request_body = CompleteBody, security(("api_key" = [])), params(("id" = i64, Path, description = "办件编号")),
    responses(
        (status = 200, description = "办件", body = RecordView),
        (status = 409, description = "已办结", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn complete(
    State(app): State<App>,
    Client(client): Client,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CompleteBody>,
) -> Result<Json<RecordView>, ApiError> {
    let id = path_id(&id, "record_not_found")?;
    Ok(Json(app.complete_record(&client, id, &body.completed_at).await?))
}
