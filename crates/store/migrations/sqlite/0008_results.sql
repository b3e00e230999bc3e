-- Results (issue 7): rollups by scope dimension for rankings and reports, the reports themselves (通报), and
-- rectification orders for those who rank low repeatedly (R12.1).

-- Counts per period and one scope dimension, kept in the transaction of each change they count (as
-- evaluation_rollup is), so that a ranking of all units over a month reads a few thousand rows.
-- grain: 'd' (period = business day, days since 1970-01-01 in UTC+8) or 'm' (period = year × 12 + month − 1).
-- dim: 'org' (member ''), 'window', 'staff', 'item' (member = the id), 'channel' (member = the code).
-- measure: a level code for evaluations, or one of hcp_domain::metrics::measure (completed records, case steps
-- on time or late, follow-ups, closures, appeals). Case and appeal measures are dated by their bad review.
CREATE TABLE cut_rollup (
    grain TEXT NOT NULL,
    dim TEXT NOT NULL,
    period BIGINT NOT NULL,
    org_id BIGINT NOT NULL,
    member TEXT NOT NULL,
    measure TEXT NOT NULL,
    is_default BIGINT NOT NULL,
    invalidated BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (grain, dim, period, org_id, member, measure, is_default, invalidated)
);

-- A report of an organization's units for a period. A published version is never changed: a correction is a
-- new version, and the old one stays readable.
CREATE TABLE report (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES org (id),
    period TEXT NOT NULL,
    kind TEXT NOT NULL,
    version BIGINT NOT NULL,
    -- draft | published
    state TEXT NOT NULL,
    -- The frozen figures (JSON): units with their metrics and ranks, the rule, the totals.
    body TEXT NOT NULL,
    -- Why this version corrects the one before.
    note TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    published_by TEXT,
    published_at BIGINT,
    UNIQUE (org_id, period, version)
);
CREATE INDEX report_state ON report (state, published_at);

-- 整改通知: a staff member or unit in the bottom group for K consecutive periods, tracked to closure.
CREATE TABLE rectification_order (
    id INTEGER PRIMARY KEY,
    -- staff | unit
    subject TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    subject_name TEXT NOT NULL,
    -- The unit that must rectify (the staff member's organization, or the unit itself).
    org_id BIGINT NOT NULL REFERENCES org (id),
    periods TEXT NOT NULL,
    last_period TEXT NOT NULL,
    reason TEXT NOT NULL,
    -- open | submitted | closed
    state TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    report TEXT,
    reported_by TEXT,
    reported_at BIGINT,
    review_note TEXT,
    closed_by TEXT,
    closed_at BIGINT,
    escalated_at BIGINT,
    created_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 0,
    UNIQUE (subject, subject_id, last_period)
);
CREATE INDEX rectification_order_org ON rectification_order (org_id, state);
CREATE INDEX rectification_order_due ON rectification_order (state, due_at);
