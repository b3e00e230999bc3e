use axum::http::header;
use axum::response::IntoResponse;

pub const CSS: &str = include_str!("../../assets/hcp.css");

/// `GET /assets/hcp.css`, embedded in the binary.
pub async fn css() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")], CSS)
}

const DEVICE_JS: &str = include_str!("../../assets/device.js");

/// `GET /assets/device.js`: the hall device's long poll and idle return.
pub async fn device_js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        DEVICE_JS,
    )
}
