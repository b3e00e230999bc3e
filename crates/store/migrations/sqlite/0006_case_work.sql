-- Working the bad-review cases (issue 5): the current round's deadlines on the case, every step with when it
-- was due and done, attachments, appeals with their filing register, invalidations, and the outbox.

-- The current round: when it was assigned, its "1, 5, 15" deadlines (epoch ms), whether the finding said the
-- problem cannot be fixed quickly, and when each limit was missed or reminded (each once per round).
ALTER TABLE bad_review_case ADD COLUMN round_assigned_at BIGINT;
ALTER TABLE bad_review_case ADD COLUMN contact_due_at BIGINT;
ALTER TABLE bad_review_case ADD COLUMN rectify_due_at BIGINT;
ALTER TABLE bad_review_case ADD COLUMN reply_due_at BIGINT;
ALTER TABLE bad_review_case ADD COLUMN deadlines_provisional BIGINT NOT NULL DEFAULT 0;
ALTER TABLE bad_review_case ADD COLUMN long_term BIGINT NOT NULL DEFAULT 0;
-- The next instant the clock job must look at this case (a reminder or a deadline); NULL when none runs.
ALTER TABLE bad_review_case ADD COLUMN next_check_at BIGINT;
ALTER TABLE bad_review_case ADD COLUMN contact_reminded BIGINT NOT NULL DEFAULT 0;
ALTER TABLE bad_review_case ADD COLUMN handling_reminded BIGINT NOT NULL DEFAULT 0;
ALTER TABLE bad_review_case ADD COLUMN contact_missed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE bad_review_case ADD COLUMN handling_missed BIGINT NOT NULL DEFAULT 0;
-- Set once any limit was missed (逾期): the case stays marked even after the step is done late.
ALTER TABLE bad_review_case ADD COLUMN overdue_at BIGINT;
-- Bumped by every change: a step applied to a stale read is refused instead of overwriting.
ALTER TABLE bad_review_case ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE bad_review_case ADD COLUMN updated_at BIGINT;
CREATE INDEX bad_review_case_unit ON bad_review_case (unit_id, state);
CREATE INDEX bad_review_case_next_check ON bad_review_case (next_check_at) WHERE next_check_at IS NOT NULL;

-- Every step, in order. `due_at` is the limit the step met or missed (NULL for untimed steps), so
-- statistics count on-time and late steps without recomputing deadlines.
CREATE TABLE case_step (
    id INTEGER PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES bad_review_case (id),
    round BIGINT NOT NULL,
    kind TEXT NOT NULL,
    -- hotline_center, unit, county_office, system
    role TEXT NOT NULL,
    actor TEXT NOT NULL,
    text TEXT NOT NULL,
    -- Step details as JSON: unit_id, solved, real_problem, long_term, deadline kind.
    detail TEXT NOT NULL,
    due_at BIGINT,
    at BIGINT NOT NULL
);
CREATE INDEX case_step_case ON case_step (case_id, id);

-- Photos and scans attached to a case (type and size checked before they get here).
CREATE TABLE case_attachment (
    id INTEGER PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES bad_review_case (id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sm3 TEXT NOT NULL,
    data BLOB NOT NULL,
    uploaded_by TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX case_attachment_case ON case_attachment (case_id);

-- One appeal per evaluation, ever (R8): the UNIQUE constraint is the rule "cannot appeal twice".
CREATE TABLE appeal (
    id INTEGER PRIMARY KEY,
    evaluation_id BIGINT NOT NULL UNIQUE REFERENCES evaluation (id),
    case_id BIGINT REFERENCES bad_review_case (id),
    staff_id BIGINT NOT NULL REFERENCES staff (id),
    -- The record's organization: the unit that checks the appeal.
    org_id BIGINT NOT NULL REFERENCES org (id),
    filed_by TEXT NOT NULL,
    reasons TEXT NOT NULL,
    state TEXT NOT NULL,
    filed_at BIGINT NOT NULL,
    -- When the current stage must decide, and whether its lateness was already reported (once a stage).
    stage_due_at BIGINT,
    stage_overdue BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX appeal_stage_due ON appeal (stage_due_at) WHERE stage_overdue = 0;
CREATE INDEX appeal_state ON appeal (state, filed_at);

CREATE TABLE appeal_evidence (
    id INTEGER PRIMARY KEY,
    appeal_id BIGINT NOT NULL REFERENCES appeal (id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sm3 TEXT NOT NULL,
    data BLOB NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX appeal_evidence_appeal ON appeal_evidence (appeal_id);

-- The filing register (备案): every decision on every appeal, for the management body. Append-only.
CREATE TABLE appeal_decision (
    id INTEGER PRIMARY KEY,
    appeal_id BIGINT NOT NULL REFERENCES appeal (id),
    -- unit or center
    stage TEXT NOT NULL,
    upheld BIGINT NOT NULL,
    reasons TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    due_at BIGINT,
    at BIGINT NOT NULL
);
CREATE INDEX appeal_decision_at ON appeal_decision (at);

-- An evaluation invalidated by an upheld appeal: the evaluation row stays as it was, and statistics leave it out.
CREATE TABLE evaluation_invalidation (
    evaluation_id BIGINT PRIMARY KEY REFERENCES evaluation (id),
    appeal_id BIGINT NOT NULL REFERENCES appeal (id),
    at BIGINT NOT NULL
);

-- The link for the evaluator's second rating after rectification (二次评价), one per case.
CREATE TABLE second_invite (
    case_id BIGINT PRIMARY KEY REFERENCES bad_review_case (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
ALTER TABLE evaluation ADD COLUMN first_evaluation_id BIGINT REFERENCES evaluation (id);

-- Notifications, written in the transaction of the step that causes them and delivered by a worker with
-- retries (issue 5 §7). The evaluator's mobile is sealed like the record's (key id per row).
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    -- unit, staff, evaluator
    recipient_kind TEXT NOT NULL,
    -- org code, staff number, or the sealed mobile
    recipient TEXT NOT NULL,
    recipient_key_id TEXT,
    template TEXT NOT NULL,
    body TEXT NOT NULL,
    case_id BIGINT REFERENCES bad_review_case (id),
    created_at BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    claimed_until BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    delivered_at BIGINT
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL;
CREATE INDEX outbox_case ON outbox (case_id);
