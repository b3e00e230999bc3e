//! The 12345 system's register of calls (issue 29 §3): which ticket was opened about which service record.
//! A hotline agent's reason to see a record's contact, or to record an evaluation of it, is a ticket found here.

use chrono::{DateTime, Utc};

use crate::audit::append;
use crate::time::to_ms;
use crate::{NewAudit, Store, StoreError};

/// What registering a ticket did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketRegistration {
    /// Newly registered.
    Registered,
    /// Registered already for the same record (a retry).
    Repeated,
    /// Registered already for another record (its id): a call is about one record.
    OtherRecord(i64),
}

impl Store {
    /// Registers `ticket_number` (upper-cased already) for the record, with its audit entry, unless it is
    /// registered already.
    pub async fn register_call_ticket(
        &self,
        ticket_number: &str,
        service_record_id: i64,
        registered_by: &str,
        at: DateTime<Utc>,
        audit: &NewAudit,
    ) -> Result<TicketRegistration, StoreError> {
        let mut tx = self.begin_write().await?;
        let inserted: Option<String> = sqlx::query_scalar(
            "INSERT INTO call_ticket (ticket_number, service_record_id, registered_by, registered_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (ticket_number) DO NOTHING RETURNING ticket_number",
        )
        .bind(ticket_number)
        .bind(service_record_id)
        .bind(registered_by)
        .bind(to_ms(at))
        .fetch_optional(&mut *tx)
        .await?;
        if inserted.is_some() {
            append(&mut tx, &self.chain(), std::slice::from_ref(audit)).await?;
            tx.commit().await?;
            return Ok(TicketRegistration::Registered);
        }
        let owner: i64 = sqlx::query_scalar("SELECT service_record_id FROM call_ticket WHERE ticket_number = $1")
            .bind(ticket_number)
            .fetch_one(&mut *tx)
            .await?;
        tx.rollback().await?;
        Ok(if owner == service_record_id {
            TicketRegistration::Repeated
        } else {
            TicketRegistration::OtherRecord(owner)
        })
    }

    /// Whether the 12345 system registered `ticket_number` for this record.
    pub async fn call_ticket_registered(
        &self,
        ticket_number: &str,
        service_record_id: i64,
    ) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT service_record_id FROM call_ticket WHERE ticket_number = $1 AND service_record_id = $2",
        )
        .bind(ticket_number)
        .bind(service_record_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }
}
