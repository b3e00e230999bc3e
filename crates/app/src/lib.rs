//! Use cases of 好差评: one function per thing a user or an integrating system does. Each takes its rules
//! from `hcp-domain` and its rows from `hcp-store`, and answers with a view or an [`AppError`].
#![forbid(unsafe_code)]

pub mod catalog;
pub mod clients;
pub mod demo;
pub mod error;
pub mod evaluations;
pub mod jobs;
pub mod records;
pub mod secrets;
pub mod views;

use std::sync::Arc;

use chrono::{DateTime, Utc};
pub use error::{AppError, AppResult};
use hcp_domain::calendar::Calendar;
use hcp_store::{EvaluationWriter, Store};

/// Everything a use case needs; cheap to clone into every request.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    writer: EvaluationWriter,
    /// Base of the links given to evaluators (`https://hcp.county.gov.cn`), without a trailing slash.
    public_url: Arc<str>,
    calendar: Arc<Calendar>,
}

impl App {
    /// Wires the use cases; starts the evaluation writer, so call it inside the runtime.
    pub fn new(store: Store, public_url: &str) -> App {
        let writer = EvaluationWriter::spawn(store.clone());
        App {
            store,
            writer,
            public_url: public_url.trim_end_matches('/').into(),
            calendar: Arc::new(Calendar::bundled()),
        }
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// The time of the system, to the millisecond (what the database keeps, so that an answer given now and
    /// the same row read back later agree); one place, so every use case reads the same clock.
    pub fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
    }

    /// The evaluation link for a token.
    pub fn evaluation_url(&self, token: &str) -> String {
        format!("{}/e/{}", self.public_url, token)
    }
}
