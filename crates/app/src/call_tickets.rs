//! The 12345 system registers its calls (issue 29 §3): a ticket names the service record the call is about, and
//! only a registered ticket is a hotline agent's reason to see that record's contact or to record an evaluation
//! of it. An agent who invents a ticket (`FAKE000001`) is refused and the refusal is in the audit log.

use hcp_domain::identity::TicketNumber;
pub use hcp_store::TicketRegistration;
use serde_json::json;

use crate::audit::Actor;
use crate::clients::ApiClient;
use crate::{App, AppError, AppResult};

impl App {
    /// Registers the ticket of a 12345 call about the record, for the integrating system that took the call.
    /// Repeating it is harmless; the same ticket for another record is 409 `ticket_other_record`.
    pub async fn register_call_ticket(
        &self,
        client: &ApiClient,
        record_id: i64,
        ticket_number: &str,
    ) -> AppResult<TicketRegistration> {
        let ticket = TicketNumber::parse("ticket_number", ticket_number)?;
        let rec = self.scoped_record(client, record_id).await?;
        let audit = self.audit(
            &Actor::client(client),
            "call_ticket.register",
            format!("service_record:{}", rec.id),
            json!({ "ticket_number": ticket.as_str() }),
        );
        let outcome =
            self.store.register_call_ticket(ticket.as_str(), rec.id, &client.source_system, self.now(), &audit).await?;
        if let TicketRegistration::OtherRecord(_) = outcome {
            return Err(AppError::conflict(
                "ticket_other_record",
                format!("12345工单 {} 已登记在另一个办件上,一次来电只对应一个办件。", ticket.as_str()),
            ));
        }
        Ok(outcome)
    }

    /// The ticket as the agent typed it, if the 12345 system registered it for this record; else 422
    /// `unknown_ticket`.
    pub(crate) async fn registered_ticket(&self, ticket: &TicketNumber, record_id: i64) -> AppResult<()> {
        if self.store.call_ticket_registered(ticket.as_str(), record_id).await? {
            return Ok(());
        }
        Err(AppError::invalid(
            "ticket_number",
            "unknown_ticket",
            format!(
                "12345工单 {} 没有登记在该办件上。请核对工单编号;来电须先在12345系统中关联到该办件。",
                ticket.as_str()
            ),
        ))
    }
}
