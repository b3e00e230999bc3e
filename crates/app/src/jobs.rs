//! Background jobs, run every minute inside `hcp serve` and once by `hcp jobs run --now T`.

use chrono::{DateTime, Utc};
use hcp_domain::{Channel, Level};
use serde::Serialize;

use crate::{App, AppResult};

#[derive(Debug, Default, Serialize)]
pub struct JobsReport {
    /// Default evaluations recorded by this run (R7.3).
    pub default_evaluations: u64,
    /// Sessions ended for idleness or age.
    pub sessions_ended: u64,
    /// Reminders, missed limits and automatic assignments of bad-review cases.
    pub clock: crate::case_clock::ClockReport,
    /// Notifications delivered or put back for a retry.
    pub delivery: crate::outbox::DeliveryReport,
    /// Last month's reports drafted (on the first working day of a month).
    pub reports_drafted: u64,
    /// Rectification orders past their deadline, escalated to the county office.
    pub orders_escalated: u64,
    /// Yesterday's integrity scan, when this run made it (once a day).
    pub integrity: Option<crate::integrity::ScanReport>,
}

impl App {
    /// Runs every job as of `now`. Idempotent: running it twice, or from two processes, records nothing twice.
    pub async fn run_jobs(&self, now: DateTime<Utc>) -> AppResult<JobsReport> {
        let default_evaluations =
            self.store.record_default_evaluations(now, Level::DEFAULT.as_str(), Channel::System.as_str()).await?;
        if default_evaluations > 0 {
            tracing::info!(default_evaluations, "default evaluations recorded");
        }
        let sessions_ended = self
            .store
            .purge_sessions(
                now - crate::accounts::IDLE_TIMEOUT,
                now - crate::accounts::ABSOLUTE_TIMEOUT,
                now - chrono::Duration::days(1),
            )
            .await?;
        self.store.purge_token_guesses(now - crate::limits::WINDOW).await?;
        let clock = self.run_case_clock(now).await?;
        let reports_drafted = self.draft_monthly_reports(now).await?;
        let orders_escalated = self.escalate_orders(now).await?;
        let delivery = self.deliver_messages(now).await?;
        let integrity = self.daily_integrity_scan(now).await?;
        Ok(JobsReport {
            default_evaluations,
            sessions_ended,
            clock,
            delivery,
            reports_drafted,
            orders_escalated,
            integrity,
        })
    }
}

impl App {
    /// Whether this instance may run the job `name` now: it takes (or renews) the job's lease for `period`.
    /// With several instances over one database, one runs the job and the others skip it until the lease
    /// lapses (its holder stopped).
    pub async fn take_job_lease(&self, name: &str, period: chrono::Duration) -> AppResult<bool> {
        let now = self.now();
        Ok(self.store.take_job_lease(name, &self.instance_id, now, now + period).await?)
    }
}
