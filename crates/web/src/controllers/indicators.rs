use axum::Json;
use hcp_app::views::IndicatorsView;
use hcp_domain::indicators::Annex;

/// `GET /api/v1/indicators`: the annex's criteria per level, from very satisfied to very dissatisfied (RA).
pub async fn list() -> Json<IndicatorsView> {
    Json(IndicatorsView::from_annex(Annex::get()))
}
