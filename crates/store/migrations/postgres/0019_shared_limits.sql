-- Issue 18 §5: the limit on guessed evaluation links is shared by every instance over the database (it was
-- counted in each instance's memory, so a guesser spread over a load balancer got N times the allowance).
-- One row per client address (blind-indexed, never in clear) and window of time.
CREATE TABLE token_guess (
    address_idx TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    failures BIGINT NOT NULL
);
CREATE INDEX token_guess_window ON token_guess (window_start);

-- Issue 18 §5: the background jobs run on one instance at a time, whichever holds the lease (taken for a
-- little less than the jobs' period, renewed by its holder, taken over by another once it lapses).
CREATE TABLE job_lease (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until_at BIGINT NOT NULL
);
