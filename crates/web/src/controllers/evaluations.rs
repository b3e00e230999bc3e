use axum::Json;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use hcp_app::App;
use hcp_app::evaluations::EvaluationInput;
use hcp_app::views::EvaluationView;
use serde::Deserialize;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ClientIp};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewEvaluation)]
pub struct CreateBody {
    pub token: String,
    pub level: String,
    #[serde(default)]
    pub indicator_ids: Vec<String>,
    #[serde(default)]
    pub staff_indicator_ids: Vec<String>,
    pub comment: Option<String>,
    /// Defaults to `web`.
    pub channel: Option<String>,
}

/// Marks an answer that repeats an earlier one (a retried submission); nothing new was written.
pub static REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// `POST /api/v1/evaluations`: the evaluator's one evaluation of a record, authorised by the link's token.
/// A retry of the same submission answers 201 with the first result (and `Idempotent-Replayed: true`).
#[utoipa::path(
    operation_id = "evaluations_create",
    post, path = "/evaluations", tag = "评价", summary = "提交评价",
    request_body = CreateBody,
    responses(
        (status = 201, description = "评价已保存(重试时为首次的结果,`Idempotent-Replayed: true`)", body = EvaluationView),
        (status = 409, description = "已评价,或评价期已过", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "尝试过于频繁", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, [(HeaderName, HeaderValue); 1], Json<EvaluationView>), ApiError> {
    let input = EvaluationInput {
        token: body.token,
        level: body.level,
        indicator_ids: body.indicator_ids,
        staff_indicator_ids: body.staff_indicator_ids,
        comment: body.comment,
        channel: body.channel.unwrap_or_else(|| "web".into()),
    };
    let out = app.submit_evaluation_from(ip, crate::extract::user_agent(&headers), &input).await?;
    let replayed = HeaderValue::from_static(if out.replayed { "true" } else { "false" });
    Ok((StatusCode::CREATED, [(REPLAYED.clone(), replayed)], Json(out.evaluation)))
}
