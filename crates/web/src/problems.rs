//! The problem codes the API may answer with, listed once so the OpenAPI document can name them (issue 18 §1).
//! An integrating system switches on `code`; a code missing here is a contract change nobody reviewed, so
//! debug builds refuse to send one (`ApiError::into_response`) and a test finds every code in the sources.

/// Every `code` of a problem+json answer (and of `errors[].code`), in alphabetical order.
pub const PROBLEM_CODES: &[&str] = &[
    "account_disabled",
    "account_locked",
    "already_answered",
    "already_appealed",
    "already_completed",
    "already_evaluated",
    "already_initialized",
    "answer_required",
    "appeal_changed",
    "appeal_conflict_of_interest",
    "appeal_decided",
    "appeal_not_found",
    "appeal_too_late",
    "attachment_not_found",
    "auditor_alone",
    "bad_credentials",
    "bad_range",
    "bad_review_needs_reason",
    "body_too_large",
    "calendar_next_year_missing",
    "case_changed",
    "case_closed",
    "case_not_found",
    "catalog_changed",
    "channel_not_allowed",
    "client_locked",
    "code_expired",
    "code_format",
    "code_taken",
    "code_wrong",
    "completed_before_received",
    "conclusion_proposed",
    "confirmation_expired",
    "conflict_of_interest",
    "criterion_level_mismatch",
    "database_unavailable",
    "date_in_future",
    "dates_out_of_order",
    "decision_required",
    "device_code",
    "device_code_taken",
    "device_not_found",
    "duplicate_record_number",
    "empty_calendar",
    "evaluation_not_found",
    "evaluation_window_closed",
    "exchange_failing",
    "exchange_stalled",
    "export_failed",
    "file_empty",
    "file_too_large",
    "file_type",
    "finding_required",
    "flag_changed",
    "flag_concluded",
    "flag_not_found",
    "flag_not_open",
    "follow_up_first",
    "forbidden",
    "hall_not_found",
    "hotline_needs_staff",
    "hotline_pending",
    "hotline_texted_today",
    "inspection_not_appealable",
    "inspection_not_found",
    "inspection_recorded",
    "inspector_not_allowed",
    "internal_error",
    "into_own_subtree",
    "invalid",
    "invalid_action",
    "invalid_applicant_kind",
    "invalid_area_code",
    "invalid_calendar",
    "invalid_category",
    "invalid_channel",
    "invalid_characters",
    "invalid_choice",
    "invalid_code",
    "invalid_conclusion",
    "invalid_credit_code",
    "invalid_date",
    "invalid_days",
    "invalid_dimension",
    "invalid_format",
    "invalid_id_number",
    "invalid_kind",
    "invalid_level",
    "invalid_line",
    "invalid_metric",
    "invalid_mobile",
    "invalid_number",
    "invalid_org_kind",
    "invalid_page",
    "invalid_pattern",
    "invalid_period",
    "invalid_query",
    "invalid_report_period",
    "invalid_role",
    "invalid_row",
    "invalid_state",
    "invalid_subject",
    "invalid_ticket_number",
    "invalid_time",
    "invalid_type",
    "invalid_username",
    "investigation_required",
    "item_not_found",
    "level_required",
    "login_busy",
    "login_required",
    "malformed_json",
    "method_not_allowed",
    "missing_field",
    "no_file",
    "no_plan_to_approve",
    "no_proposal",
    "not_a_bad_review",
    "not_found",
    "not_multipart",
    "not_of_flag",
    "not_retirable",
    "not_the_inspector",
    "not_your_appeal",
    "not_your_review",
    "nothing_to_change",
    "order_changed",
    "order_not_found",
    "order_not_open",
    "order_not_submitted",
    "org_code_taken",
    "org_not_found",
    "org_out_of_scope",
    "outcome_recorded",
    "outside_visit_dates",
    "overseer_account",
    "own_account",
    "period_in_future",
    "period_required",
    "photo_not_found",
    "plan_needs_long_term_finding",
    "platform_code_taken",
    "public_url_loopback",
    "range_too_long",
    "reason_too_short",
    "record_not_found",
    "record_number_taken",
    "referral_not_found",
    "report_not_found",
    "report_not_published",
    "report_published",
    "request_timeout",
    "required",
    "retired",
    "reveal_no_purpose",
    "reveal_quota_exceeded",
    "role_held",
    "role_not_allowed",
    "role_not_held",
    "root_org",
    "self_grant",
    "server_busy",
    "sheet_too_large",
    "sms_unconfigured",
    "staff_already_linked",
    "staff_needs_link",
    "staff_not_found",
    "staff_not_of_org",
    "step_not_allowed",
    "still_in_use",
    "subject_not_found",
    "text_required",
    "ticket_other_record",
    "ticket_required",
    "ticket_used",
    "time_in_future",
    "too_late_for_long_term",
    "too_long",
    "too_many_attempts",
    "too_many_codes",
    "too_many_files",
    "too_many_unknown_tokens",
    "unauthorized",
    "unchanged",
    "unknown_criterion",
    "unknown_field",
    "unknown_inspector",
    "unknown_item",
    "unknown_org",
    "unknown_platform",
    "unknown_staff",
    "unknown_step",
    "unknown_ticket",
    "unknown_token",
    "unknown_unit",
    "unknown_user",
    "unknown_window",
    "unreadable_body",
    "unreadable_file",
    "unsupported_media_type",
    "username_taken",
    "visit_in_past",
    "visit_too_long",
    "weak_password",
    "window_not_found",
    "window_not_of_org",
];

/// Whether `code` is one of the documented codes.
pub fn is_documented(code: &str) -> bool {
    PROBLEM_CODES.binary_search(&code).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_and_unique() {
        assert!(PROBLEM_CODES.windows(2).all(|w| w[0] < w[1]), "keep PROBLEM_CODES sorted, each once");
    }

    /// Finds the codes the sources pass to the error constructors and checks each is documented, so a new
    /// code fails here before a client meets it.
    #[test]
    fn every_code_in_the_sources_is_documented() {
        let pattern = regex::Regex::new(
            r#"(?:code:\s*|code @ |refuse\(\s*|Some\(\(\s*|Err\(\(\s*|not_found\(\s*|denied\(\s*|conflict\(\s*|invalid\(\s*[^,()]+(?:\([^()]*\))?,\s*|Violation::new\(\s*[^,()]+(?:\([^()]*\))?,\s*|ApiError::new\(\s*[^,]+,\s*|ApiError::field\(\s*[^,]+,\s*[^,]+,\s*|unavailable\(\s*[^,]+,\s*)"([a-z][a-z0-9_]+)""#,
        )
        .unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut missing = Vec::new();
        let mut found = 0;
        for krate in ["domain", "app", "web", "hcp"] {
            for file in rust_files(&root.join(krate).join("src")) {
                let text = std::fs::read_to_string(&file).unwrap();
                for m in pattern.captures_iter(&text) {
                    found += 1;
                    if !is_documented(&m[1]) {
                        missing.push(format!("{} in {}", &m[1], file.display()));
                    }
                }
            }
        }
        assert!(found > 250, "the scan found only {found} codes: is the pattern still right?");
        assert!(missing.is_empty(), "add to PROBLEM_CODES: {missing:#?}");
    }

    fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(rust_files(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
        out
    }
}
