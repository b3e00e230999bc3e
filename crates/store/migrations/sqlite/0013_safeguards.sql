-- Issue 14: least privilege and abuse resistance.

-- Reveals of an applicant's full contact per person and business day (China time), counted in one statement so
-- that a daily quota holds under parallel requests and across instances.
CREATE TABLE reveal_count (
    user_id INTEGER NOT NULL REFERENCES app_user (id),
    day TEXT NOT NULL,
    used INTEGER NOT NULL,
    PRIMARY KEY (user_id, day)
);

-- Who created an account: they, like anyone who reset its password, could act as it, so they may not decide an
-- appeal filed through it. NULL for accounts made before this column (and by the operator on the command line).
ALTER TABLE app_user ADD COLUMN created_by TEXT;

-- Password resets and other actions on an account are found by target.
CREATE INDEX audit_log_target ON audit_log (target, action);

-- A hotline evaluation carries the 12345 ticket of the call behind it; one evaluation per ticket.
CREATE TABLE hotline_ticket (
    ticket_number TEXT PRIMARY KEY,
    service_record_id INTEGER NOT NULL REFERENCES service_record (id),
    recorded_by TEXT NOT NULL,
    at INTEGER NOT NULL
);

-- The audit chain is keyed from here on (HMAC-SM3 under a key outside the database, issue 14 §6): entries from
-- `mac_from` on carry a MAC that a database writer cannot recompute. Earlier entries keep their plain SM3 chain.
ALTER TABLE audit_head ADD COLUMN mac_from BIGINT;
UPDATE audit_head SET mac_from = seq + 1;

-- Failures by the name tried, so that a name nobody holds locks like an account (the same answers for both).
ALTER TABLE login_failure ADD COLUMN username TEXT;
CREATE INDEX login_failure_username ON login_failure (username, at);

-- The fingerprint of the data keys this database is sealed with: every instance must start with the same key
-- file (issue 14 §8).
CREATE TABLE data_key_fingerprint (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- A message's secret (a window code, a second-rating link) sealed with the data keys; the body holds `{secret}`
-- where it goes, filled in only when the message is handed to the gateway (issue 14 §8).
ALTER TABLE outbox ADD COLUMN secret_key_id TEXT;
ALTER TABLE outbox ADD COLUMN secret_enc TEXT;

-- With `serve --hotline-confirm`, a hotline agent's evaluation waits here until the applicant confirms it by
-- the link in a text message; only then is it an evaluation (issue 14 §4).
CREATE TABLE hotline_pending (
    id INTEGER PRIMARY KEY,
    service_record_id INTEGER NOT NULL REFERENCES service_record (id),
    ticket_number TEXT NOT NULL REFERENCES hotline_ticket (ticket_number),
    token_hash TEXT NOT NULL UNIQUE,
    level TEXT NOT NULL,
    indicator_ids TEXT NOT NULL,
    staff_indicator_ids TEXT NOT NULL,
    comment TEXT,
    recorded_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    -- confirmed, declined
    outcome TEXT,
    decided_at INTEGER
);
CREATE INDEX hotline_pending_record ON hotline_pending (service_record_id);
