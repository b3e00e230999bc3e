//! `/api/v1/appeals` and the filing register (备案).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use hcp_app::App;
use hcp_app::appeals::{AppealDetail, AppealView, DecisionView, register_csv};
use serde::{Deserialize, Serialize};

use crate::controllers::cases::Attached;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, Person, path_id};

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only those waiting for a decision.
    #[serde(default)]
    pub open: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AppealList {
    pub appeals: Vec<AppealView>,
}

/// `GET /api/v1/appeals?open=true`
#[utoipa::path(
    operation_id = "appeals_list",
    get, path = "/appeals", tag = "申诉", summary = "申诉列表", params(ListQuery), security(("session" = [])),
    responses((status = 200, description = "申诉", body = AppealList)),
)]
pub async fn list(
    State(app): State<App>,
    Person(who): Person,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<AppealList>, ApiError> {
    Ok(Json(AppealList { appeals: app.appeal_queue(&who, q.open).await? }))
}

/// `GET /api/v1/appeals/{id}`
#[utoipa::path(
    operation_id = "appeals_get",
    get, path = "/appeals/{id}", tag = "申诉", summary = "申诉详情", security(("session" = [])), params(("id" = i64, Path, description = "申诉编号")),
    responses((status = 200, description = "申诉及其证据与决定", body = AppealDetail)),
)]
pub async fn get(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
) -> Result<Json<AppealDetail>, ApiError> {
    Ok(Json(app.appeal_detail(&who, path_id(&id, "appeal_not_found")?).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// Stage 1, the unit's verification: whether it supports the appeal (it goes to the center either way).
    pub supports: Option<bool>,
    /// Stage 2, the center's review: upheld (the evaluation is void) or not. Also read at stage 1 for clients
    /// written before `supports`.
    pub uphold: Option<bool>,
    pub reasons: String,
    pub version: Option<i64>,
}

/// `POST /api/v1/appeals/{id}/decision`
#[utoipa::path(
    operation_id = "appeals_decide",
    post, path = "/appeals/{id}/decision", tag = "申诉", summary = "单位初核或中心复核", request_body = DecisionBody, security(("session" = [])), params(("id" = i64, Path, description = "申诉编号")),
    responses(
        (status = 200, description = "申诉", body = AppealView),
        (status = 409, description = "已决定,或已被他人改动", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn decide(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Result<Json<AppealView>, ApiError> {
    let id = path_id(&id, "appeal_not_found")?;
    let Some(yes) = body.supports.or(body.uphold) else {
        return Err(ApiError::field(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "supports",
            "decision_required",
            "请给出结论:单位初步核实用 supports(是否支持申诉),中心复核用 uphold(申诉是否成立)。",
        ));
    };
    Ok(Json(app.decide_appeal(&who, id, yes, &body.reasons, body.version).await?))
}

/// `POST /api/v1/appeals/{id}/withdraw`: the appellant withdraws the appeal before the center decides.
#[utoipa::path(
    operation_id = "appeals_withdraw",
    post, path = "/appeals/{id}/withdraw", tag = "申诉", summary = "撤回申诉", security(("session" = [])), params(("id" = i64, Path, description = "申诉编号")),
    responses(
        (status = 200, description = "申诉", body = AppealView),
        (status = 409, description = "中心已决定", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn withdraw(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
) -> Result<Json<AppealView>, ApiError> {
    Ok(Json(app.withdraw_appeal(&who, path_id(&id, "appeal_not_found")?).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RegisterQuery {
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub format: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Register {
    pub decisions: Vec<DecisionView>,
}

/// `GET /api/v1/filing-register?from=YYYY-MM-DD&to=YYYY-MM-DD[&format=csv]`
#[utoipa::path(
    operation_id = "appeals_register",
    get, path = "/filing-register", tag = "申诉", summary = "申诉备案登记", params(RegisterQuery), security(("session" = [])),
    responses((status = 200, description = "日期内的决定", content((Register = "application/json"), ("text/csv")))),
)]
pub async fn register(
    State(app): State<App>,
    Person(who): Person,
    ApiQuery(q): ApiQuery<RegisterQuery>,
) -> Result<Response, ApiError> {
    let (from, to) = (parse_date("from", &q.from)?, parse_date("to", &q.to)?);
    let rows = app.filing_register(&who, from, to).await?;
    Ok(match q.format.as_deref() {
        Some("csv") => csv_download(&format!("申诉备案_{from}_{to}.csv"), register_csv(&rows)),
        _ => Json(Register { decisions: rows }).into_response(),
    })
}

pub fn parse_date(field: &str, raw: &str) -> Result<chrono::NaiveDate, ApiError> {
    hcp_domain::calendar::parse_date(field, raw).map_err(|v| hcp_app::AppError::Invalid(vec![v]).into())
}

pub fn csv_download(name: &str, text: String) -> Response {
    let encoded: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename*=UTF-8''{encoded}")),
        ],
        text,
    )
        .into_response()
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EvidenceQuery {
    #[serde(default)]
    pub name: String,
}

/// `POST /api/v1/appeals/{id}/evidence?name=scan.pdf`: the appellant adds a file (JPG, PNG, PDF, ≤ 5 MB)
/// while the unit has not decided.
#[utoipa::path(
    operation_id = "appeals_add_evidence",
    post, path = "/appeals/{id}/evidence", tag = "申诉", summary = "补充证据",
    params(("id" = i64, Path, description = "申诉编号"), EvidenceQuery),
    request_body(description = "文件本身(JPG、PNG 或 PDF,不超过 5 MB)", content(("image/jpeg"), ("image/png"), ("application/pdf"))),
    security(("session" = [])),
    responses((status = 201, description = "证据编号", body = Attached)),
)]
pub async fn add_evidence(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<EvidenceQuery>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(axum::http::StatusCode, Json<Attached>), ApiError> {
    let body = crate::extract::body_or_too_large(body, hcp_app::attachments::MAX_BYTES)?;
    let upload = hcp_app::attachments::Upload { file_name: q.name, bytes: body.to_vec() };
    let id = app.add_evidence(&who, path_id(&id, "appeal_not_found")?, &upload).await?;
    Ok((axum::http::StatusCode::CREATED, Json(Attached { id })))
}

/// `GET /api/v1/appeals/{id}/evidence/{evidence}`: the file, as a download.
#[utoipa::path(
    operation_id = "appeals_evidence",
    get, path = "/appeals/{id}/evidence/{evidence}", tag = "申诉", summary = "下载证据", security(("session" = [])),
    params(("id" = i64, Path, description = "申诉编号"), ("evidence" = i64, Path, description = "证据编号")),
    responses((status = 200, description = "文件(作为下载)", content(("image/jpeg"), ("image/png"), ("application/pdf")))),
)]
pub async fn evidence(
    State(app): State<App>,
    Person(who): Person,
    Path((id, eid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (name, content_type, data) = app
        .appeal_evidence_file(&who, path_id(&id, "appeal_not_found")?, path_id(&eid, "attachment_not_found")?)
        .await?;
    Ok(crate::controllers::cases::download(&name, &content_type, data))
}
