-- Issue 18 §5: the limit on guessed evaluation links is shared by every instance over the database (it was
-- counted in each instance's memory, so a guesser spread over a load balancer got N times the allowance).
-- One row per client address (blind-indexed, never in clear) and window of time.
CREATE TABLE token_guess (
    address_idx TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    failures BIGINT NOT NULL
);
CREATE INDEX token_guess_window ON token_guess (window_start);
