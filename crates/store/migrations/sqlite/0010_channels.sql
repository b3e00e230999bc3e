-- The channels of issue 6: hall devices (评价器) bound to a window, and the one-time codes of a window's fixed
-- QR code (the applicant gives a mobile number, receives a code by SMS, then sees that number's records at the
-- window waiting for a rating).

CREATE TABLE hall_device (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    window_id BIGINT NOT NULL REFERENCES service_window (id),
    -- SHA-256 of the device's secret: its page address carries the secret, the database only the hash.
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX hall_device_window ON hall_device (window_id);

CREATE TABLE window_login (
    id INTEGER PRIMARY KEY,
    -- SHA-256 of the random handle the page carries between asking for the code and checking it.
    handle_hash TEXT NOT NULL UNIQUE,
    window_id BIGINT NOT NULL REFERENCES service_window (id),
    mobile_idx TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    used_at BIGINT
);
CREATE INDEX window_login_mobile ON window_login (mobile_idx, created_at);

-- A hall device asks for the newest completed record at its window.
CREATE INDEX service_record_window_completed ON service_record (window_id, completed_at);
