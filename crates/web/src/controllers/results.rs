//! `/api/v1/reports`, `/api/v1/rectification-orders` and `/api/v1/assessment`: reports (通报), orders for
//! the repeatedly low, and performance assessment (issue 7 §4–§6).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hcp_app::App;
use hcp_app::assessment::AssessmentReport;
use hcp_app::rectification::OrderView;
use hcp_app::reports::ReportView;
use hcp_app::stats::{By, parse_period};
use serde::{Deserialize, Serialize};

use crate::controllers::download::respond;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, Person, path_id};

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReportList {
    pub reports: Vec<ReportView>,
}

/// `GET /api/v1/reports`: the reports this person may see (drafts for the county office).
#[utoipa::path(
    operation_id = "results_list",
    get, path = "/reports", tag = "通报与考核", summary = "通报列表", security(("session" = [])),
    responses((status = 200, description = "可见的通报(县政府办可见草稿)", body = ReportList)),
)]
pub async fn list(State(app): State<App>, Person(who): Person) -> Result<Json<ReportList>, ApiError> {
    Ok(Json(ReportList { reports: app.reports(Some(&who)).await? }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReport {
    pub org: String,
    /// 2026-11, 2026-Q4 or 2026.
    pub period: String,
    /// Why a new version corrects a published one.
    #[serde(default)]
    pub note: String,
}

/// `POST /api/v1/reports`: drafts the period's report (or redrafts the draft; a published one gets a new
/// version).
#[utoipa::path(
    operation_id = "results_create",
    post, path = "/reports", tag = "通报与考核", summary = "起草通报", request_body = NewReport, security(("session" = [])),
    responses((status = 201, description = "通报草稿", body = ReportView)),
)]
pub async fn create(
    State(app): State<App>,
    Person(who): Person,
    ApiJson(body): ApiJson<NewReport>,
) -> Result<(StatusCode, Json<ReportView>), ApiError> {
    Ok((StatusCode::CREATED, Json(app.generate_report(&who, &body.org, &body.period, &body.note).await?)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    pub format: Option<String>,
}

/// `GET /api/v1/reports/{id}[?format=xlsx|csv]`
#[utoipa::path(
    operation_id = "results_get",
    get, path = "/reports/{id}", tag = "通报与考核", summary = "通报", security(("session" = [])), params(("id" = i64, Path, description = "通报编号"), FormatQuery),
    responses((status = 200, description = "通报(JSON、CSV 或 Excel)", content((ReportView = "application/json"), ("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))),
)]
pub async fn get(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<FormatQuery>,
) -> Result<Response, ApiError> {
    let report = app.report(Some(&who), path_id(&id, "report_not_found")?).await?;
    respond(q.format.as_deref(), &report.file_name(), || report.table(), || Json(&report).into_response())
}

/// `POST /api/v1/reports/{id}/publish`: freezes the draft and makes it public.
#[utoipa::path(
    operation_id = "results_publish",
    post, path = "/reports/{id}/publish", tag = "通报与考核", summary = "发布通报", security(("session" = [])), params(("id" = i64, Path, description = "通报编号")),
    responses(
        (status = 200, description = "已发布的通报", body = ReportView),
        (status = 409, description = "已发布", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn publish(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
) -> Result<Json<ReportView>, ApiError> {
    Ok(Json(app.publish_report(&who, path_id(&id, "report_not_found")?).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OrderList {
    pub orders: Vec<OrderView>,
}

/// `GET /api/v1/rectification-orders`
#[utoipa::path(
    operation_id = "results_orders",
    get, path = "/rectification-orders", tag = "通报与考核", summary = "整改通知", security(("session" = [])),
    responses((status = 200, description = "整改通知", body = OrderList)),
)]
pub async fn orders(State(app): State<App>, Person(who): Person) -> Result<Json<OrderList>, ApiError> {
    Ok(Json(OrderList { orders: app.orders(&who).await? }))
}

/// `GET /api/v1/rectification-orders/{id}`
#[utoipa::path(
    operation_id = "results_order",
    get, path = "/rectification-orders/{id}", tag = "通报与考核", summary = "整改通知详情", security(("session" = [])), params(("id" = i64, Path, description = "整改通知编号")),
    responses((status = 200, description = "整改通知", body = OrderView)),
)]
pub async fn order(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    Ok(Json(app.order(&who, path_id(&id, "order_not_found")?).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub report: String,
    pub version: Option<i64>,
}

/// `POST /api/v1/rectification-orders/{id}/answer`: the unit reports its rectification.
#[utoipa::path(
    operation_id = "results_answer",
    post, path = "/rectification-orders/{id}/answer", tag = "通报与考核", summary = "单位报送整改情况", request_body = Answer, security(("session" = [])), params(("id" = i64, Path, description = "整改通知编号")),
    responses(
        (status = 200, description = "整改通知", body = OrderView),
        (status = 409, description = "不在待报送状态,或已被他人改动", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn answer(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Answer>,
) -> Result<Json<OrderView>, ApiError> {
    Ok(Json(app.answer_order(&who, path_id(&id, "order_not_found")?, &body.report, body.version).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Review {
    pub accept: bool,
    #[serde(default)]
    pub note: String,
    pub version: Option<i64>,
}

/// `POST /api/v1/rectification-orders/{id}/review`: the county office accepts or returns it.
#[utoipa::path(
    operation_id = "results_review",
    post, path = "/rectification-orders/{id}/review", tag = "通报与考核", summary = "县政府办验收或退回", request_body = Review, security(("session" = [])), params(("id" = i64, Path, description = "整改通知编号")),
    responses(
        (status = 200, description = "整改通知", body = OrderView),
        (status = 409, description = "尚未报送,或已被他人改动", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn review(
    State(app): State<App>,
    Person(who): Person,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Review>,
) -> Result<Json<OrderView>, ApiError> {
    Ok(Json(app.review_order(&who, path_id(&id, "order_not_found")?, body.accept, &body.note, body.version).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssessmentQuery {
    pub org: String,
    pub period: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// unit (default) or staff.
    pub by: Option<String>,
    pub format: Option<String>,
}

/// `GET /api/v1/assessment?org=510899&period=2026&by=unit|staff[&format=csv|xlsx]`
#[utoipa::path(
    operation_id = "results_assessment",
    get, path = "/assessment", tag = "通报与考核", summary = "绩效考核得分", params(AssessmentQuery), security(("session" = [])),
    responses((status = 200, description = "考核(JSON、CSV 或 Excel)", content((AssessmentReport = "application/json"), ("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))),
)]
pub async fn assessment(
    State(app): State<App>,
    Person(who): Person,
    ApiQuery(q): ApiQuery<AssessmentQuery>,
) -> Result<Response, ApiError> {
    let period = parse_period(q.period.as_deref(), q.from.as_deref(), q.to.as_deref())?;
    let by = match q.by.as_deref().map(str::trim) {
        None | Some("") | Some("unit") => By::Unit,
        Some("staff") => By::Staff,
        Some(other) => {
            return Err(hcp_app::AppError::invalid(
                "by",
                "invalid_dimension",
                format!("考核对象“{other}”无法识别,可选:unit、staff。"),
            )
            .into());
        }
    };
    let report = app.assessment(&who, &q.org, period, by).await?;
    respond(q.format.as_deref(), &report.file_name(), || report.table(), || Json(&report).into_response())
}
