use axum::Json;
use hcp_app::views::IndicatorsView;
use hcp_domain::indicators::Annex;

/// `GET /api/v1/indicators`: the annex's criteria per level, from very satisfied to very dissatisfied (RA).
#[utoipa::path(
    operation_id = "indicators_list",
    get, path = "/indicators", tag = "目录", summary = "评价指标(附件)",
    responses((status = 200, description = "五个等级及其指标,从非常满意到非常不满意", body = IndicatorsView)),
)]
pub async fn list() -> Json<IndicatorsView> {
    Json(IndicatorsView::from_annex(Annex::get()))
}
