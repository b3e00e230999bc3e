-- People's accounts (issue 4 §1): a role bound to an organization subtree, sessions, failed logins.
CREATE TABLE app_user (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    -- The staff member this account is, if any: staff see their own service and cannot rate it.
    staff_id BIGINT REFERENCES staff (id),
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE role_binding (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES app_user (id),
    role TEXT NOT NULL,
    org_id BIGINT NOT NULL REFERENCES org (id)
);
CREATE INDEX role_binding_user ON role_binding (user_id);

-- Only a hash of the session id is stored; the cookie carries the id.
CREATE TABLE user_session (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES app_user (id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX user_session_user ON user_session (user_id);

-- Failed logins by client address, for the per-address lockout shared by every instance.
CREATE TABLE login_failure (
    client TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failure_client ON login_failure (client, at);

-- Who recorded an evaluation on the evaluator's behalf (a hotline agent, R5.1); NULL when the evaluator did.
ALTER TABLE evaluation ADD COLUMN recorded_by TEXT;
