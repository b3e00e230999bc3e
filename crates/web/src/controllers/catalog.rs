use axum::Json;
use axum::extract::State;
use hcp_app::App;
use hcp_app::views::{ItemView, OrgView, WindowView};
use serde::Serialize;

use crate::error::ApiError;
use crate::extract::Client;

#[derive(Serialize)]
pub struct List<T> {
    pub items: Vec<T>,
}

/// `GET /api/v1/orgs`: the organizations the key acts for, in tree order.
pub async fn orgs(State(app): State<App>, Client(client): Client) -> Result<Json<List<OrgView>>, ApiError> {
    Ok(Json(List { items: app.list_orgs(&client).await? }))
}

/// `GET /api/v1/service-items`: the catalog of service items.
pub async fn items(State(app): State<App>, Client(_): Client) -> Result<Json<List<ItemView>>, ApiError> {
    Ok(Json(List { items: app.list_items().await? }))
}

/// `GET /api/v1/windows`: the windows of the organizations the key acts for.
pub async fn windows(State(app): State<App>, Client(client): Client) -> Result<Json<List<WindowView>>, ApiError> {
    Ok(Json(List { items: app.list_windows(&client).await? }))
}
