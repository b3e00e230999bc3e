//! `/api/v1/cases`: bad-review cases for the people who work them (session token, see `sessions.rs`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hcp_app::App;
use hcp_app::appeals::AppealView;
use hcp_app::attachments::Upload;
use hcp_app::cases::{CaseDetail, CaseView, Inbox, StepInput};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, Person, path_id};

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    #[serde(default)]
    pub inbox: Inbox,
    #[serde(default)]
    pub page: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CaseList {
    pub cases: Vec<CaseView>,
}

/// `GET /api/v1/cases?inbox=mine|overdue|all&page=N`: the person's cases, most urgent first.
#[utoipa::path(
    operation_id = "cases_list",
    get, path = "/cases", tag = "差评整改", summary = "案件收件箱", params(ListQuery), security(("session" = [])),
    responses((status = 200, description = "最紧急的在前", body = CaseList)),
)]
pub async fn list(
    State(app): State<App>,
    Person(who): Person,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<CaseList>, ApiError> {
    Ok(Json(CaseList { cases: app.case_inbox(&who, q.inbox, q.page).await? }))
}

/// `GET /api/v1/cases/{id}`: the case, its steps, attachments, notifications, and the steps allowed now.
#[utoipa::path(
    operation_id = "cases_get",
    get, path = "/cases/{id}", tag = "差评整改", summary = "案件详情", security(("session" = [])), params(("id" = i64, Path, description = "案件编号")),
    responses((status = 200, description = "案件、步骤、附件、通知和现在可做的步骤", body = CaseDetail)),
)]
pub async fn get(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
) -> Result<Json<CaseDetail>, ApiError> {
    Ok(Json(app.case_detail(&who, path_id(&id, "case_not_found")?).await?))
}

/// `POST /api/v1/cases/{id}/steps`: takes a step (`{"step": "contact", "text": "…"}`).
#[utoipa::path(
    operation_id = "cases_step",
    post, path = "/cases/{id}/steps", tag = "差评整改", summary = "办理一步", request_body = StepInput, security(("session" = [])), params(("id" = i64, Path, description = "案件编号")),
    responses(
        (status = 200, description = "案件", body = CaseView),
        (status = 409, description = "案件已被他人改动,或此步骤现在不可做", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn step(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StepInput>,
) -> Result<Json<CaseView>, ApiError> {
    Ok(Json(app.take_case_step(&who, path_id(&id, "case_not_found")?, &body).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Attached {
    pub id: i64,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AttachQuery {
    #[serde(default)]
    pub name: String,
}

/// `POST /api/v1/cases/{id}/attachments?name=photo.jpg`: the file is the body (JPG, PNG or PDF, ≤ 5 MB).
#[utoipa::path(
    operation_id = "cases_attach",
    post, path = "/cases/{id}/attachments", tag = "差评整改", summary = "上传附件",
    params(("id" = i64, Path, description = "案件编号"), AttachQuery),
    request_body(description = "文件本身(JPG、PNG 或 PDF,不超过 5 MB)", content(("image/jpeg"), ("image/png"), ("application/pdf"))),
    security(("session" = [])),
    responses((status = 201, description = "附件编号", body = Attached)),
)]
pub async fn attach(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<AttachQuery>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<Attached>), ApiError> {
    let body = crate::extract::body_or_too_large(body, hcp_app::attachments::MAX_BYTES)?;
    let upload = Upload { file_name: q.name, bytes: body.to_vec() };
    let id = app.attach_to_case(&who, path_id(&id, "case_not_found")?, &upload).await?;
    Ok((StatusCode::CREATED, Json(Attached { id })))
}

/// `GET /api/v1/cases/{id}/attachments/{attachment}`: the file, as a download.
#[utoipa::path(
    operation_id = "cases_attachment",
    get, path = "/cases/{id}/attachments/{attachment}", tag = "差评整改", summary = "下载附件", security(("session" = [])),
    params(("id" = i64, Path, description = "案件编号"), ("attachment" = i64, Path, description = "附件编号")),
    responses((status = 200, description = "文件(作为下载)", content(("image/jpeg"), ("image/png"), ("application/pdf")))),
)]
pub async fn attachment(
    State(app): State<App>,
    Person(who): Person,
    Path((id, aid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (name, content_type, data) =
        app.case_attachment(&who, path_id(&id, "case_not_found")?, path_id(&aid, "attachment_not_found")?).await?;
    Ok(download(&name, &content_type, data))
}

/// A file as a download; never rendered inline, so a disguised file cannot run in our origin.
pub fn download(name: &str, content_type: &str, data: Vec<u8>) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(v) = content_type.parse() {
        headers.insert(header::CONTENT_TYPE, v);
    }
    let encoded: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
    if let Ok(v) = format!("attachment; filename*=UTF-8''{encoded}").parse() {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    (headers, data).into_response()
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealBody {
    pub reasons: String,
}

/// `POST /api/v1/cases/{id}/appeal`: the staff member who served appeals the bad review (evidence files
/// through the console).
#[utoipa::path(
    operation_id = "cases_appeal",
    post, path = "/cases/{id}/appeal", tag = "申诉", summary = "对差评提出申诉", request_body = AppealBody, security(("session" = [])), params(("id" = i64, Path, description = "案件编号")),
    responses(
        (status = 201, description = "申诉", body = AppealView),
        (status = 409, description = "已申诉,或暗访差评不可申诉", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn appeal(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AppealBody>,
) -> Result<(StatusCode, Json<AppealView>), ApiError> {
    let a = app.file_appeal(&who, path_id(&id, "case_not_found")?, &body.reasons, &[]).await?;
    Ok((StatusCode::CREATED, Json(a)))
}
