//! `/api/v1/inspections`: mystery-shopper visits (调查暗访, issue 16 §5) — planned by the county office, recorded
//! by the named inspector, counted apart from applicants' evaluations.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcp_app::App;
use hcp_app::inspections::{InspectionInput, InspectionPlan, InspectionSummary, InspectionView};
use serde::{Deserialize, Serialize};

use crate::controllers::cases::download;
use crate::controllers::cases::{AttachQuery, Attached};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, Person, path_id};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanBody {
    pub window_code: String,
    /// YYYY-MM-DD, business dates, inclusive.
    pub from: String,
    pub to: String,
    /// The inspector's account.
    pub inspector: String,
}

/// `POST /api/v1/inspections` (county office): 201 with the planned visit.
#[utoipa::path(
    operation_id = "inspections_create",
    post, path = "/inspections", tag = "调查暗访", summary = "安排暗访", request_body = PlanBody, security(("session" = [])),
    responses((status = 201, description = "暗访安排", body = InspectionView)),
)]
pub async fn create(
    State(app): State<App>,
    Person(who): Person,
    ApiJson(b): ApiJson<PlanBody>,
) -> Result<(StatusCode, Json<InspectionView>), ApiError> {
    let plan = InspectionPlan { window_code: b.window_code, from: b.from, to: b.to, inspector: b.inspector };
    Ok((StatusCode::CREATED, Json(app.plan_inspection(&who, &plan).await?)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub from: String,
    pub to: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InspectionList {
    pub inspections: Vec<InspectionView>,
    /// "暗访评价": the visits counted apart from applicants' evaluations.
    pub summary: InspectionSummary,
}

/// `GET /api/v1/inspections?from=&to=`: visits overlapping the dates, with their summary.
#[utoipa::path(
    operation_id = "inspections_list",
    get, path = "/inspections", tag = "调查暗访", summary = "暗访列表与汇总", params(ListQuery), security(("session" = [])),
    responses((status = 200, description = "日期内的暗访及“暗访评价”汇总", body = InspectionList)),
)]
pub async fn list(
    State(app): State<App>,
    Person(who): Person,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<InspectionList>, ApiError> {
    let (inspections, summary) = app.inspections(&who, &q.from, &q.to).await?;
    Ok(Json(InspectionList { inspections, summary }))
}

/// `GET /api/v1/inspections/{id}`.
#[utoipa::path(
    operation_id = "inspections_get",
    get, path = "/inspections/{id}", tag = "调查暗访", summary = "暗访详情", security(("session" = [])), params(("id" = i64, Path, description = "暗访编号")),
    responses((status = 200, description = "暗访", body = InspectionView)),
)]
pub async fn get(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
) -> Result<Json<InspectionView>, ApiError> {
    Ok(Json(app.inspection(&who, path_id(&id, "inspection_not_found")?).await?))
}

/// An applicant's evaluation body (the token aside) plus the findings and who served.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationBody {
    pub level: String,
    #[serde(default)]
    pub indicator_ids: Vec<String>,
    #[serde(default)]
    pub staff_indicator_ids: Vec<String>,
    pub comment: Option<String>,
    /// Accepted for the same body as an applicant's; a visit is its own source, whatever is named here.
    pub channel: Option<String>,
    pub findings: String,
    /// The staff member who served the inspector, if known.
    pub staff_number: Option<String>,
}

/// `POST /api/v1/inspections/{id}/evaluations` (the visit's inspector, within its dates, once): 201.
#[utoipa::path(
    operation_id = "inspections_evaluate",
    post, path = "/inspections/{id}/evaluations", tag = "调查暗访", summary = "记录暗访评价", request_body = EvaluationBody, security(("session" = [])), params(("id" = i64, Path, description = "暗访编号")),
    responses(
        (status = 201, description = "暗访(差评即开案件)", body = InspectionView),
        (status = 409, description = "已记录", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn evaluate(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<EvaluationBody>,
) -> Result<(StatusCode, Json<InspectionView>), ApiError> {
    let input = InspectionInput {
        level: b.level,
        indicator_ids: b.indicator_ids,
        staff_indicator_ids: b.staff_indicator_ids,
        comment: b.comment,
        findings: b.findings,
        staff_number: b.staff_number,
    };
    let view = app.record_inspection(&who, path_id(&id, "inspection_not_found")?, &input, &[]).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// `POST /api/v1/inspections/{id}/photos?name=photo.jpg` (the visit's inspector): the file is the body (JPG,
/// PNG or PDF, ≤ 5 MB; five a visit). 201 `{"id"}`.
#[utoipa::path(
    operation_id = "inspections_add_photo",
    post, path = "/inspections/{id}/photos", tag = "调查暗访", summary = "上传暗访照片",
    params(("id" = i64, Path, description = "暗访编号"), AttachQuery),
    request_body(description = "文件本身(JPG、PNG 或 PDF,不超过 5 MB;每次暗访 5 张)", content(("image/jpeg"), ("image/png"), ("application/pdf"))),
    security(("session" = [])),
    responses((status = 201, description = "照片编号", body = Attached)),
)]
pub async fn add_photo(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<AttachQuery>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<Attached>), ApiError> {
    let body = crate::extract::body_or_too_large(body, hcp_app::attachments::MAX_BYTES)?;
    let upload = hcp_app::attachments::Upload { file_name: q.name, bytes: body.to_vec() };
    let photo = app.add_inspection_photo(&who, path_id(&id, "inspection_not_found")?, &upload).await?;
    Ok((StatusCode::CREATED, Json(Attached { id: photo })))
}

/// `GET /api/v1/inspections/{id}/photos/{photo}`: a photo, as a download.
#[utoipa::path(
    operation_id = "inspections_photo",
    get, path = "/inspections/{id}/photos/{photo}", tag = "调查暗访", summary = "下载暗访照片", security(("session" = [])),
    params(("id" = i64, Path, description = "暗访编号"), ("photo" = i64, Path, description = "照片编号")),
    responses((status = 200, description = "文件(作为下载)", content(("image/jpeg"), ("image/png"), ("application/pdf")))),
)]
pub async fn photo(
    State(app): State<App>,
    Person(who): Person,
    Path((id, pid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (name, content_type, data) =
        app.inspection_photo(&who, path_id(&id, "inspection_not_found")?, path_id(&pid, "photo_not_found")?).await?;
    Ok(download(&name, &content_type, data))
}
