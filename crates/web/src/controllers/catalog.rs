use axum::Json;
use axum::extract::State;
use hcp_app::App;
use hcp_app::views::{ItemView, OrgView, WindowView};
use serde::Serialize;

use crate::error::ApiError;
use crate::extract::Client;

#[derive(Serialize, utoipa::ToSchema)]
pub struct List<T> {
    pub items: Vec<T>,
}

/// `GET /api/v1/orgs`: the organizations the key acts for, in tree order.
#[utoipa::path(
    operation_id = "catalog_orgs",
    get, path = "/orgs", tag = "目录", summary = "本接口密钥所属的组织机构", security(("api_key" = [])),
    responses((status = 200, description = "按树序排列", body = List<OrgView>)),
)]
pub async fn orgs(State(app): State<App>, Client(client): Client) -> Result<Json<List<OrgView>>, ApiError> {
    Ok(Json(List { items: app.list_orgs(&client).await? }))
}

/// `GET /api/v1/service-items`: the catalog of service items.
#[utoipa::path(
    operation_id = "catalog_items",
    get, path = "/service-items", tag = "目录", summary = "政务服务事项目录", security(("api_key" = [])),
    responses((status = 200, description = "事项", body = List<ItemView>)),
)]
pub async fn items(State(app): State<App>, Client(_): Client) -> Result<Json<List<ItemView>>, ApiError> {
    Ok(Json(List { items: app.list_items().await? }))
}

/// `GET /api/v1/windows`: the windows of the organizations the key acts for.
#[utoipa::path(
    operation_id = "catalog_windows",
    get, path = "/windows", tag = "目录", summary = "本接口密钥所属机构的窗口", security(("api_key" = [])),
    responses((status = 200, description = "窗口", body = List<WindowView>)),
)]
pub async fn windows(State(app): State<App>, Client(client): Client) -> Result<Json<List<WindowView>>, ApiError> {
    Ok(Json(List { items: app.list_windows(&client).await? }))
}
