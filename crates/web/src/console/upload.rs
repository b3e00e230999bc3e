//! Console forms with files (multipart): read whole, then the CSRF token they carry is checked before the
//! handler runs — like [`super::CsrfForm`] for plain forms, so no upload handler can forget the check.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{FromRequest, FromRequestParts, Multipart};
use axum::http::StatusCode;
use axum::response::Response;
use hcp_app::attachments::Upload;
use hcp_app::{App, AppError};

use super::{Console, FormData, csrf_refusal};

/// A multipart form: its text fields and its files.
pub struct Posted {
    pub form: FormData,
    pub files: Vec<(String, Upload)>,
}

/// Reads a multipart form (uploads). A part too large, or a broken body, is an error the page explains.
pub async fn read_multipart(m: Result<Multipart, MultipartRejection>) -> Result<Posted, AppError> {
    let mut m = m.map_err(|_| AppError::invalid("file", "not_multipart", "请通过页面上的表单选择文件后提交。"))?;
    let mut fields = Vec::new();
    let mut files = Vec::new();
    loop {
        let field = match m.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return Err(if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::invalid("file", "file_too_large", "文件过大:每个文件不超过 5 MB,每次最多 5 个。")
                } else {
                    AppError::invalid("file", "unreadable_body", "上传未完成,请重新选择文件后提交。")
                });
            }
        };
        let name = field.name().unwrap_or("").to_string();
        match field.file_name().map(str::to_string) {
            Some(file_name) => {
                let bytes = field.bytes().await.map_err(|_| {
                    AppError::invalid("file", "file_too_large", "文件过大:每个文件不超过 5 MB,每次最多 5 个。")
                })?;
                if !(file_name.is_empty() && bytes.is_empty()) {
                    files.push((name, Upload { file_name, bytes: bytes.to_vec() }));
                }
            }
            None => {
                let text = field.text().await.unwrap_or_default();
                fields.push((name, text));
            }
        }
    }
    let encoded: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    Ok(Posted { form: FormData::parse(encoded.as_bytes()), files })
}

/// A console form with files. `posted` is the form whose CSRF token checked out, or why it could not be read
/// (too large, broken) — which changes nothing and is shown on the page the form came from. A form read whole
/// without the right token is refused 403 before the handler runs.
pub struct CsrfMultipart {
    pub console: Console,
    pub posted: Result<Posted, AppError>,
}

impl FromRequest<App> for CsrfMultipart {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, app: &App) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let console = Console::from_request_parts(&mut parts, app).await?;
        let req = axum::extract::Request::from_parts(parts, body);
        let posted = read_multipart(Multipart::from_request(req, app).await).await;
        if let Ok(p) = &posted
            && let Some(refusal) = csrf_refusal(&console, &p.form)
        {
            return Err(refusal);
        }
        Ok(CsrfMultipart { console, posted })
    }
}
