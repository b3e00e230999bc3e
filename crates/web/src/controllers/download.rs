//! Tables as downloads: `format=csv` or `format=xlsx` beside the JSON of the same resource.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use hcp_app::AppError;
use hcp_app::export::Table;

use crate::controllers::appeals::csv_download;
use crate::error::ApiError;

/// The workbook's media type.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Answers in the format asked for: the JSON `json` builds, or the table as CSV or a workbook named `name`
/// (without extension).
pub fn respond(
    format: Option<&str>,
    name: &str,
    table: impl FnOnce() -> Table,
    json: impl FnOnce() -> Response,
) -> Result<Response, ApiError> {
    Ok(match format.unwrap_or("json") {
        "json" => json(),
        "csv" => csv_download(&format!("{name}.csv"), table().to_csv()),
        "xlsx" => {
            let bytes = table().to_xlsx().map_err(|e| {
                tracing::error!(error = %e, "a workbook could not be written");
                ApiError::from(AppError::Internal(hcp_store::StoreError::Corrupt("xlsx".into())))
            })?;
            xlsx_download(&format!("{name}.xlsx"), bytes)
        }
        other => {
            return Err(AppError::invalid(
                "format",
                "invalid_format",
                format!("导出格式“{other}”无法识别,可选:json、csv、xlsx。"),
            )
            .into());
        }
    })
}

/// For pages: the table as CSV or a workbook (`format` given), or a friendly page for an unknown format.
pub fn page_download(format: &str, name: &str, table: impl FnOnce() -> Table) -> Response {
    match respond(Some(format), name, table, || axum::http::StatusCode::NOT_FOUND.into_response()) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

pub fn xlsx_download(name: &str, bytes: Vec<u8>) -> Response {
    let encoded: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
    (
        [
            (header::CONTENT_TYPE, XLSX.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename*=UTF-8''{encoded}")),
        ],
        bytes,
    )
        .into_response()
}
