-- Telling the truth about connections (issue 28 §5).

-- How each message left: 'webhook' (the SMS gateway answered 2xx) or 'log' (no gateway configured: written
-- to the log only). Pages say "已发送" only for the first. Messages delivered before this column are NULL.
ALTER TABLE outbox ADD COLUMN delivered_via TEXT;

-- The exchange with the upper level as the last pushes found it, one row (id 1), shared by every instance and
-- read by `hcp exchange status`, `hcp doctor`, the console and /readyz: whether `serve` was started with an
-- upper level, the last push the upper level accepted, the last failure with its reason and the next retry.
CREATE TABLE exchange_health (
    id INTEGER PRIMARY KEY,
    configured_url TEXT,
    configured_at BIGINT,
    last_accepted_at BIGINT,
    last_failure_at BIGINT,
    last_error TEXT,
    next_retry_at BIGINT
);
