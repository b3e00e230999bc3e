-- Accounts can be disabled by an administrator (someone who left): login refused, sessions ended, the account and
-- everything it did stay for the record.
ALTER TABLE app_user ADD COLUMN disabled_at BIGINT;
