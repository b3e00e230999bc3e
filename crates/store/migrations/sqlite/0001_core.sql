-- The evaluation core (issue 2). Portable column types only (BIGINT, TEXT): times are epoch milliseconds in
-- UTC, flags are 0/1, so one SQL text serves SQLite and PostgreSQL through sqlx's Any driver.

CREATE TABLE org (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent_id BIGINT REFERENCES org (id),
    -- '/1/4/23/': ancestors' ids, so "this org and everything under it" is a prefix match.
    path TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX org_parent ON org (parent_id);
CREATE INDEX org_path ON org (path);

CREATE TABLE hall (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    org_id BIGINT NOT NULL REFERENCES org (id)
);

CREATE TABLE service_window (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    hall_id BIGINT NOT NULL REFERENCES hall (id),
    org_id BIGINT NOT NULL REFERENCES org (id)
);

CREATE TABLE platform (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    org_id BIGINT NOT NULL REFERENCES org (id)
);

CREATE TABLE kiosk (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    hall_id BIGINT NOT NULL REFERENCES hall (id)
);

CREATE TABLE staff (
    id INTEGER PRIMARY KEY,
    staff_number TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    org_id BIGINT NOT NULL REFERENCES org (id),
    window_id BIGINT REFERENCES service_window (id)
);

CREATE TABLE service_item (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    org_id BIGINT NOT NULL REFERENCES org (id),
    legal_limit_days BIGINT,
    promised_limit_days BIGINT
);

CREATE TABLE api_key (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    org_id BIGINT REFERENCES org (id),
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE service_record (
    id INTEGER PRIMARY KEY,
    source_system TEXT NOT NULL,
    record_number TEXT NOT NULL,
    item_id BIGINT NOT NULL REFERENCES service_item (id),
    org_id BIGINT NOT NULL REFERENCES org (id),
    window_id BIGINT REFERENCES service_window (id),
    staff_id BIGINT REFERENCES staff (id),
    applicant_kind TEXT NOT NULL,
    -- Evaluator data (R11.2): SM4-GCM ciphertexts under the data key `applicant_key_id`, and HMAC-SM3 blind
    -- indexes that find a record by ID number or mobile without storing either in clear.
    applicant_key_id TEXT NOT NULL,
    applicant_name_enc TEXT NOT NULL,
    applicant_id_number_enc TEXT NOT NULL,
    applicant_mobile_enc TEXT NOT NULL,
    applicant_id_number_idx TEXT NOT NULL,
    applicant_mobile_idx TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    completed_at BIGINT,
    -- 24:00 (UTC+8) of the 7th natural day after completion (R7.3); NULL until completed.
    default_due_at BIGINT,
    -- 1 once the first evaluation exists: keeps the default job's index small.
    evaluated BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    UNIQUE (source_system, record_number)
);
CREATE INDEX service_record_pending_default ON service_record (default_due_at)
    WHERE evaluated = 0 AND default_due_at IS NOT NULL;
CREATE INDEX service_record_completed ON service_record (completed_at);
CREATE INDEX service_record_mobile_idx ON service_record (applicant_mobile_idx);
CREATE INDEX service_record_id_number_idx ON service_record (applicant_id_number_idx);
CREATE INDEX service_record_key ON service_record (applicant_key_id);

CREATE TABLE evaluation_invite (
    id INTEGER PRIMARY KEY,
    service_record_id BIGINT NOT NULL REFERENCES service_record (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE INDEX evaluation_invite_record ON evaluation_invite (service_record_id);

-- Evaluations are never updated or deleted (an invalidation is a row of its own, later).
CREATE TABLE evaluation (
    id INTEGER PRIMARY KEY,
    service_record_id BIGINT NOT NULL REFERENCES service_record (id),
    -- 1 = the evaluation of the record (R5.2); 2 = the second rating after rectification (二次评价).
    round BIGINT NOT NULL,
    level TEXT NOT NULL,
    channel TEXT NOT NULL,
    indicator_ids TEXT NOT NULL,
    staff_indicator_ids TEXT NOT NULL,
    comment TEXT,
    is_default BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (service_record_id, round)
);
CREATE INDEX evaluation_created ON evaluation (created_at);

CREATE TRIGGER evaluation_no_update BEFORE UPDATE ON evaluation
BEGIN
    SELECT RAISE(ABORT, 'evaluations are immutable');
END;
CREATE TRIGGER evaluation_no_delete BEFORE DELETE ON evaluation
BEGIN
    SELECT RAISE(ABORT, 'evaluations are immutable');
END;
