//! `/api/v1/stats`: the metrics of a cut (issue 7, first part).

use axum::Json;
use axum::extract::State;
use hcp_app::App;
use hcp_app::stats::CutStats;
use serde::Deserialize;

use crate::controllers::appeals::parse_date;
use crate::error::ApiError;
use crate::extract::{ApiQuery, Person};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// The organization (and everything under it), by code.
    pub org: String,
    pub from: String,
    pub to: String,
}

/// `GET /api/v1/stats?org=510899&from=2026-11-01&to=2026-11-30`
pub async fn get(
    State(app): State<App>,
    Person(who): Person,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> Result<Json<CutStats>, ApiError> {
    let (from, to) = (parse_date("from", &q.from)?, parse_date("to", &q.to)?);
    Ok(Json(app.cut_stats(&who, &q.org, from, to).await?))
}
