-- The public list of closed bad reviews in its own order (issue 17 §5): closed cases by id, newest first,
-- read from here up to the page's end. The state index ends in `created_at`, so the page sorted every closed
-- case by id first: 106 ms on SQLite with 237,000 of them, 0.1 ms from this index.
CREATE INDEX bad_review_case_state_id ON bad_review_case (state, id);

-- Every appeal in scope, newest filed first (the appeals page without a state): read in order from here.
CREATE INDEX appeal_filed ON appeal (filed_at, id);

-- One appeal's decisions in order (its page, and the check that the center's reviewer did not decide the unit's
-- stage): they were read through the index by time, past every decision ever made.
CREATE INDEX appeal_decision_appeal ON appeal_decision (appeal_id, at);

-- The outbox page's waiting messages, oldest first: read from here rather than by walking every message sent
-- (27 ms at ten million on SQLite, with 217,000 delivered before the 10,000 waiting).
CREATE INDEX outbox_waiting ON outbox (id) WHERE delivered_at IS NULL;
