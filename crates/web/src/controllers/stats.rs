//! `/api/v1/stats` and `/api/v1/rankings`: the metrics of any cut, and rankings (issue 7 §2, §3), as JSON,
//! CSV or Excel.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use hcp_app::stats::{By, Cut, Ranking, parse_by, parse_metric, parse_period};
use hcp_app::{App, AppError};
use serde::Deserialize;

use crate::controllers::download::respond;
use crate::error::ApiError;
use crate::extract::{ApiQuery, Person};

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// The organization (and everything under it), by code.
    pub org: String,
    /// A period code (`2026-11`, `2026-Q4`, `2026`, `2026-W05`, `2026-11-05`) …
    pub period: Option<String>,
    /// … or a range of business dates.
    pub from: Option<String>,
    pub to: Option<String>,
    /// unit, org, window, staff, item, category, channel.
    pub by: Option<String>,
    /// For rankings: the metric and the minimum sample.
    pub metric: Option<String>,
    pub min: Option<u64>,
    /// json (default), csv, xlsx.
    pub format: Option<String>,
}

impl StatsQuery {
    fn period(&self) -> Result<hcp_domain::period::Period, AppError> {
        parse_period(self.period.as_deref(), self.from.as_deref(), self.to.as_deref())
    }
}

/// `GET /api/v1/stats?org=510899&period=2026-11[&by=unit][&format=csv|xlsx]`
#[utoipa::path(
    operation_id = "stats_get",
    get, path = "/stats", tag = "统计与排名", summary = "任一维度的统计", params(StatsQuery), security(("session" = [])),
    responses((status = 200, description = "统计(JSON、CSV 或 Excel)", content((Cut = "application/json"), ("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))),
)]
pub async fn get(
    State(app): State<App>,
    Person(who): Person,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> Result<Response, ApiError> {
    let cut = app.cut(&who, &q.org, q.period()?, parse_by(q.by.as_deref())?).await?;
    respond(q.format.as_deref(), &cut.file_name(), || cut.table(), || Json(&cut).into_response())
}

/// `GET /api/v1/rankings?org=510899&period=2026-11&by=unit&metric=satisfaction[&min=20][&format=…]`
#[utoipa::path(
    operation_id = "stats_rankings",
    get, path = "/rankings", tag = "统计与排名", summary = "排名", params(StatsQuery), security(("session" = [])),
    responses((status = 200, description = "排名(JSON、CSV 或 Excel)", content((Ranking = "application/json"), ("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))),
)]
pub async fn rankings(
    State(app): State<App>,
    Person(who): Person,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> Result<Response, ApiError> {
    let metric = parse_metric(q.metric.as_deref())?;
    let by = parse_by(q.by.as_deref())?.unwrap_or(By::Unit);
    let ranking = app.ranking(&who, &q.org, q.period()?, by, metric, q.min).await?;
    respond(q.format.as_deref(), &ranking.file_name(), || ranking.table(), || Json(&ranking).into_response())
}
