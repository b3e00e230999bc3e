-- A lock-out that cannot be used against administrators (issue 29 §6). Failures are counted per account *and*
-- client: five wrong passwords from one address lock the account for that address only. Beyond five failures of
-- the account from anywhere, only addresses the account logged in from before (login_client) may still try, so
-- a guesser gets at most five checked attempts while the owner, at their usual computer, is not locked out by a
-- stranger. An attempt is written before its password is checked (pending, settled = 0) and settled as a failure
-- after a wrong one; a correct one removes it — parallel correct logins wait for pending ones, never lock.
ALTER TABLE login_failure ADD COLUMN settled BIGINT NOT NULL DEFAULT 1;
CREATE INDEX login_failure_attempt ON login_failure (attempt);

CREATE TABLE login_client (
    user_id BIGINT NOT NULL REFERENCES app_user (id),
    client TEXT NOT NULL,
    last_success_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client)
);
