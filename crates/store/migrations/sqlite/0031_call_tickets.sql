-- A reason must be real (issue 29 §3): the 12345 system registers each call's ticket against the service record
-- the call is about, through its API key. A hotline agent's reveal of that record's contact, or a hotline
-- evaluation of it, is accepted only with a ticket registered here for that record. Ticket numbers are stored
-- as the hotline writes them, upper-cased.
CREATE TABLE call_ticket (
    ticket_number TEXT PRIMARY KEY,
    service_record_id BIGINT NOT NULL REFERENCES service_record (id),
    -- The integrating system (API key name) that registered it.
    registered_by TEXT NOT NULL,
    registered_at BIGINT NOT NULL
);
CREATE INDEX call_ticket_record ON call_ticket (service_record_id);
