//! `/api/v1/appeals` and the filing register (备案).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use hcp_app::App;
use hcp_app::appeals::{AppealDetail, AppealView, DecisionView, register_csv};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, Person, path_id};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only those waiting for a decision.
    #[serde(default)]
    pub open: bool,
}

#[derive(Serialize)]
pub struct AppealList {
    pub appeals: Vec<AppealView>,
}

/// `GET /api/v1/appeals?open=true`
pub async fn list(
    State(app): State<App>,
    Person(who): Person,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<AppealList>, ApiError> {
    Ok(Json(AppealList { appeals: app.appeal_queue(&who, q.open).await? }))
}

/// `GET /api/v1/appeals/{id}`
pub async fn get(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
) -> Result<Json<AppealDetail>, ApiError> {
    Ok(Json(app.appeal_detail(&who, path_id(&id, "appeal_not_found")?).await?))
}

#[derive(Deserialize)]
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
pub async fn withdraw(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
) -> Result<Json<AppealView>, ApiError> {
    Ok(Json(app.withdraw_appeal(&who, path_id(&id, "appeal_not_found")?).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterQuery {
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub format: Option<String>,
}

#[derive(Serialize)]
pub struct Register {
    pub decisions: Vec<DecisionView>,
}

/// `GET /api/v1/filing-register?from=YYYY-MM-DD&to=YYYY-MM-DD[&format=csv]`
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceQuery {
    #[serde(default)]
    pub name: String,
}

/// `POST /api/v1/appeals/{id}/evidence?name=scan.pdf`: the appellant adds a file (JPG, PNG, PDF, ≤ 5 MB)
/// while the unit has not decided.
pub async fn add_evidence(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<EvidenceQuery>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(axum::http::StatusCode, Json<crate::controllers::cases::Attached>), ApiError> {
    let body = crate::extract::body_or_too_large(body, hcp_app::attachments::MAX_BYTES)?;
    let upload = hcp_app::attachments::Upload { file_name: q.name, bytes: body.to_vec() };
    let id = app.add_evidence(&who, path_id(&id, "appeal_not_found")?, &upload).await?;
    Ok((axum::http::StatusCode::CREATED, Json(crate::controllers::cases::Attached { id })))
}

/// `GET /api/v1/appeals/{id}/evidence/{evidence}`: the file, as a download.
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
