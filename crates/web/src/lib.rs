//! HTTP for 好差评: the JSON API under `/api/v1` and the server-rendered pages.
#![forbid(unsafe_code)]

pub mod api;
pub mod charts;
pub mod console;
pub mod controllers;
pub mod error;
pub mod extract;
pub mod html;
pub mod pages;
pub mod problems;
pub mod qr;
pub mod report_bundle;
pub mod telemetry;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hcp_app::App;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::controllers::health;
use crate::error::ApiError;

/// Every route of the program.
pub fn router(app: App) -> Router {
    let (api, doc) = api::routes();
    let api = api.fallback(api_not_found).method_not_allowed_fallback(api_method_not_allowed);
    let mut router = Router::new();
    for r in console::routes() {
        router = router.route(r.path, r.router);
    }
    router
        .route("/login", get(console::login::show).post(console::login::submit))
        .route("/", get(pages::home::home))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(telemetry::metrics))
        .route("/e/{token}", get(pages::evaluate::show).post(pages::evaluate::submit))
        .route("/e2/{token}", get(pages::second::show).post(pages::second::submit))
        .route("/h/{token}", get(pages::hotline::show).post(pages::hotline::submit))
        .route("/e/{token}/{file}", get(pages::evaluate::qr_image))
        .route("/w/{code}", get(pages::window::show).post(pages::window::request_code))
        .route("/w/{code}/verify", post(pages::window::verify))
        .route("/w/{code}/poster", get(pages::window::poster))
        .route("/w/{code}/{file}", get(pages::window::qr_image))
        .route("/kiosk", get(pages::kiosk::show).post(pages::kiosk::find))
        .route("/d/{secret}", get(pages::device::show))
        .route("/d/{secret}/next", get(pages::device::next))
        .route("/assets/hcp.css", get(pages::assets::css))
        .route("/assets/device.js", get(pages::assets::device_js))
        .route("/public", get(pages::public::index))
        .route("/public/reports/{id}", get(pages::public::report))
        .route("/public/bad-reviews", get(pages::public::bad_reviews))
        .nest(api::PREFIX, api)
        .merge(api::docs(doc))
        .fallback(page_not_found)
        // Per route (so the route template is known), the fallback included.
        .layer(axum::middleware::from_fn_with_state(app.clone(), telemetry::track))
        .layer(DefaultBodyLimit::max(extract::MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .with_state(app)
}

/// A 503 answer made outside the router (a request that ran out of time): problem+json under `/api/`, a page
/// elsewhere, with `Retry-After`.
pub fn unavailable(path: &str, code: &'static str, message: &str) -> Response {
    let status = axum::http::StatusCode::SERVICE_UNAVAILABLE;
    let mut res = if path.starts_with("/api/") {
        ApiError::new(status, code, message).into_response()
    } else {
        let body = maud::html! { h2 { "请稍后重试" } p.notice { (message) } };
        html::page(status, "请稍后重试", body)
    };
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    res
}

async fn api_not_found() -> ApiError {
    ApiError::not_found()
}

async fn api_method_not_allowed() -> ApiError {
    ApiError::new(axum::http::StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "该接口不支持此请求方法。")
}

async fn page_not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return ApiError::not_found().into_response();
    }
    let body = maud::html! {
        h2 { "页面不存在" }
        p.notice { "您访问的页面不存在。请核对地址,或回到" a href="/" { "首页" } "。" }
    };
    html::page(axum::http::StatusCode::NOT_FOUND, "页面不存在", body)
}
