//! What a validation reports: which field, a stable machine code and a Chinese message a clerk understands.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Violation {
    /// The field as the client named it, dotted for nested objects (`applicant.id_number`).
    pub field: String,
    /// Stable machine code (`invalid_id_number`); clients switch on it, so never rename one.
    pub code: &'static str,
    pub message: String,
}

impl Violation {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Violation { field: field.into(), code, message: message.into() }
    }
}

/// Collects violations so a client learns of every bad field at once, not one per round trip.
#[derive(Debug, Default)]
pub struct Violations(Vec<Violation>);

impl Violations {
    pub fn push(&mut self, v: Violation) {
        self.0.push(v);
    }

    /// Keeps the value of a successful parse, records the violation of a failed one.
    pub fn take<T>(&mut self, r: Result<T, Violation>) -> Option<T> {
        r.map_err(|v| self.0.push(v)).ok()
    }

    pub fn finish(self) -> Result<(), Vec<Violation>> {
        if self.0.is_empty() { Ok(()) } else { Err(self.0) }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
