//! Photos and scans attached to cases and appeals (issue 5 §2, §5): a type is what the bytes say, not what
//! the browser claims, and sizes are bounded so a county server's disk and database stay sane.

use hcp_store::NewAttachment;
use serde_json::json;

use crate::audit::Actor;
use crate::policy::Principal;
use crate::{App, AppError, AppResult};

/// The largest file accepted (a phone photo or a scanned page).
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// Files per appeal.
pub const MAX_EVIDENCE: usize = 5;

/// A file as uploaded.
#[derive(Debug, Clone)]
pub struct Upload {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// The accepted types by their first bytes: JPEG, PNG, PDF.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

/// Checks an upload and makes it a row: a clean file name, a sniffed type, a size within bounds, its SM3.
pub fn check_upload(u: &Upload, by: &str, at: chrono::DateTime<chrono::Utc>) -> AppResult<NewAttachment> {
    if u.bytes.is_empty() {
        return Err(AppError::invalid("file", "file_empty", "请选择要上传的文件。"));
    }
    if u.bytes.len() > MAX_BYTES {
        return Err(AppError::invalid(
            "file",
            "file_too_large",
            format!("文件过大:每个文件不超过 {} MB。", MAX_BYTES / 1024 / 1024),
        ));
    }
    let content_type =
        sniff(&u.bytes).ok_or_else(|| AppError::invalid("file", "file_type", "只能上传 JPG、PNG 图片或 PDF 文件。"))?;
    // Only the last path segment, no control characters, at most 100 characters.
    let base = u.file_name.rsplit(['/', '\\']).next().unwrap_or("");
    let mut name: String = base.chars().filter(|c| !c.is_control()).take(100).collect();
    if name.trim().is_empty() {
        name = "附件".into();
    }
    Ok(NewAttachment {
        file_name: name,
        content_type,
        sm3: hcp_crypto::hex(&hcp_crypto::sm3(&u.bytes)),
        data: u.bytes.clone(),
        uploaded_by: by.to_string(),
        at,
    })
}

impl App {
    /// Attaches a file to a case: anyone who may take a step on it (unit, center, county office).
    pub async fn attach_to_case(&self, who: &Principal, case_id: i64, upload: &Upload) -> AppResult<i64> {
        let row = self.case_for(who, case_id).await?;
        if !self.may_work_on(who, &row) {
            return Err(AppError::Forbidden);
        }
        let now = self.now();
        let a = check_upload(upload, &who.username, now)?;
        let audit = self.audit(
            &Actor::user(&who.username),
            "case.attach",
            format!("case:{case_id}"),
            json!({ "file_name": a.file_name, "content_type": a.content_type, "size": a.data.len(), "sm3": a.sm3 }),
        );
        let w = hcp_store::CaseWrite { attachments: vec![(case_id, a)], audit: vec![audit], ..Default::default() };
        self.store.write_case(&w, now).await?;
        let list = self.store.case_attachments(case_id).await?;
        Ok(list.last().map(|a| a.id).unwrap_or_default())
    }

    /// An attachment's name, type and bytes, for someone who may see the case.
    pub async fn case_attachment(
        &self,
        who: &Principal,
        case_id: i64,
        attachment_id: i64,
    ) -> AppResult<(String, String, Vec<u8>)> {
        self.case_for(who, case_id).await?;
        self.store
            .case_attachment_data(case_id, attachment_id)
            .await?
            .ok_or_else(|| AppError::not_found("attachment_not_found", "附件不存在。"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_sniffed_and_names_cleaned() {
        let at = chrono::Utc::now();
        let png = Upload { file_name: "C:\\照片\\现场.png".into(), bytes: b"\x89PNG\r\n\x1a\nrest".to_vec() };
        let a = check_upload(&png, "u", at).unwrap();
        assert_eq!((a.file_name.as_str(), a.content_type), ("现场.png", "image/png"));
        let html = Upload { file_name: "x.jpg".into(), bytes: b"<script>".to_vec() };
        assert_eq!(check_upload(&html, "u", at).unwrap_err().code(), "file_type");
        let big = Upload { file_name: "x.pdf".into(), bytes: [b"%PDF-".as_slice(), &vec![0; MAX_BYTES]].concat() };
        assert_eq!(check_upload(&big, "u", at).unwrap_err().code(), "file_too_large");
    }
}
