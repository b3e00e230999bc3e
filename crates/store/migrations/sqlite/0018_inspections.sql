-- no-transaction
-- (The whole file is one transaction, begun here: see the case table's rebuild below.)
PRAGMA foreign_keys = OFF;
BEGIN;

-- Issue 16 §5, plan §一 "组织开展调查暗访评价": mystery-shopper visits (调查暗访). The county office plans a visit
-- to a window for some business dates (YYYY-MM-DD, UTC+8) and names the inspector's account; the inspector
-- records one evaluation of the visit. It is never an `evaluation` row: applicants' figures, rollups and the
-- exchange with the province cannot count it by construction.
CREATE TABLE inspection (
    id INTEGER PRIMARY KEY,
    window_id BIGINT NOT NULL REFERENCES service_window (id),
    -- The window's organization, for scopes and the case a bad finding opens.
    org_id BIGINT NOT NULL REFERENCES org (id),
    from_day TEXT NOT NULL,
    to_day TEXT NOT NULL,
    inspector TEXT NOT NULL,
    planned_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX inspection_inspector ON inspection (inspector, from_day);
CREATE INDEX inspection_org ON inspection (org_id, from_day);

-- One per visit (the primary key is the rule "recorded once").
CREATE TABLE inspection_evaluation (
    inspection_id BIGINT PRIMARY KEY REFERENCES inspection (id),
    staff_id BIGINT REFERENCES staff (id),
    level TEXT NOT NULL,
    indicator_ids TEXT NOT NULL,
    staff_indicator_ids TEXT NOT NULL,
    comment TEXT,
    findings TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX inspection_evaluation_at ON inspection_evaluation (created_at);

-- Photos the inspector took (type and size checked as case attachments are).
CREATE TABLE inspection_photo (
    id INTEGER PRIMARY KEY,
    inspection_id BIGINT NOT NULL REFERENCES inspection (id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sm3 TEXT NOT NULL,
    data BLOB NOT NULL,
    uploaded_by TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX inspection_photo_inspection ON inspection_photo (inspection_id);

-- A bad finding opens a case like a bad review, worked to the same 1-5-15 limits: the case names either an
-- applicant's evaluation (with its record) or a visit, never both. SQLite cannot drop a NOT NULL, so the table
-- is rebuilt with the same ids, as SQLite's documentation says: with foreign keys off (which only works outside
-- a transaction, hence `no-transaction` and the explicit BEGIN/COMMIT), so the steps, attachments and appeals
-- that refer to the cases stay as they are.
CREATE TABLE bad_review_case_new (
    id INTEGER PRIMARY KEY,
    evaluation_id BIGINT UNIQUE REFERENCES evaluation (id),
    service_record_id BIGINT REFERENCES service_record (id),
    org_id BIGINT NOT NULL REFERENCES org (id),
    state TEXT NOT NULL,
    unit_id BIGINT REFERENCES org (id),
    round BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    round_assigned_at BIGINT,
    contact_due_at BIGINT,
    rectify_due_at BIGINT,
    reply_due_at BIGINT,
    deadlines_provisional BIGINT NOT NULL DEFAULT 0,
    long_term BIGINT NOT NULL DEFAULT 0,
    next_check_at BIGINT,
    contact_reminded BIGINT NOT NULL DEFAULT 0,
    handling_reminded BIGINT NOT NULL DEFAULT 0,
    contact_missed BIGINT NOT NULL DEFAULT 0,
    handling_missed BIGINT NOT NULL DEFAULT 0,
    overdue_at BIGINT,
    version BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT,
    plan_approved BIGINT NOT NULL DEFAULT 0,
    dispatch_missed BIGINT NOT NULL DEFAULT 0,
    clock_from BIGINT,
    inspection_id BIGINT UNIQUE REFERENCES inspection (id),
    CHECK ((evaluation_id IS NULL) <> (inspection_id IS NULL)
        AND (evaluation_id IS NULL) = (service_record_id IS NULL))
);
INSERT INTO bad_review_case_new (id, evaluation_id, service_record_id, org_id, state, unit_id, round, created_at,
    round_assigned_at, contact_due_at, rectify_due_at, reply_due_at, deadlines_provisional, long_term,
    next_check_at, contact_reminded, handling_reminded, contact_missed, handling_missed, overdue_at, version,
    updated_at, plan_approved, dispatch_missed, clock_from)
SELECT id, evaluation_id, service_record_id, org_id, state, unit_id, round, created_at,
    round_assigned_at, contact_due_at, rectify_due_at, reply_due_at, deadlines_provisional, long_term,
    next_check_at, contact_reminded, handling_reminded, contact_missed, handling_missed, overdue_at, version,
    updated_at, plan_approved, dispatch_missed, clock_from
FROM bad_review_case;
DROP TABLE bad_review_case;
ALTER TABLE bad_review_case_new RENAME TO bad_review_case;
CREATE INDEX bad_review_case_state ON bad_review_case (state, created_at);
CREATE INDEX bad_review_case_unit ON bad_review_case (unit_id, state);
CREATE INDEX bad_review_case_next_check ON bad_review_case (next_check_at) WHERE next_check_at IS NOT NULL;
CREATE INDEX bad_review_case_undispatched ON bad_review_case (state, dispatch_missed, created_at);
COMMIT;
PRAGMA foreign_keys = ON;
