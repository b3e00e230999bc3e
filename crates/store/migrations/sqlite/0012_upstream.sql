-- The exchange with the upper-level 好差评 system (issue 13): the catalog codes it needs, and the queue of
-- what must reach it.

-- 统一社会信用代码 (GB 32100) and the 12-digit 行政区划代码 of an organization; NULL until entered.
ALTER TABLE org ADD COLUMN credit_code TEXT;
ALTER TABLE org ADD COLUMN area_code TEXT;
-- projectNo is the record number: from now on unique county-wide (checked at registration, under a lock). Not
-- a UNIQUE index, so that a county whose systems reused numbers before can still upgrade.
CREATE INDEX service_record_number ON service_record (record_number);

-- 实施编码 (31) and 业务办理项编码 (33) of a service item.
ALTER TABLE service_item ADD COLUMN implementation_code TEXT;
ALTER TABLE service_item ADD COLUMN handle_item_code TEXT;

-- A staff member's mobile and ID number, for the integrity checks that follow (does someone rate services of
-- their own?): sealed with SM4-GCM like evaluators' data, each under its own key id, with blind indexes in the
-- evaluators' namespace so that the two can be matched without either in clear.
ALTER TABLE staff ADD COLUMN mobile_key_id TEXT;
ALTER TABLE staff ADD COLUMN mobile_enc TEXT;
ALTER TABLE staff ADD COLUMN mobile_idx TEXT;
ALTER TABLE staff ADD COLUMN id_number_key_id TEXT;
ALTER TABLE staff ADD COLUMN id_number_enc TEXT;
ALTER TABLE staff ADD COLUMN id_number_idx TEXT;
CREATE INDEX staff_mobile_idx ON staff (mobile_idx);
CREATE INDEX staff_id_number_idx ON staff (id_number_idx);

-- One row per item the upper level must receive, written in the transaction that creates its cause (a
-- completed record, an evaluation, an upheld appeal, a closed case). The row holds references, not the
-- payload: the item is built when it is sent, so a correction made after a rejection goes with the resend.
-- kind: 'service' (I1, round 0), 'evaluation' (I2, round = assessNumber), 'update' (I8, round and
-- update_number 1, 2, …). state: 'waiting' → 'sent' (claimed until lease_until) → 'accepted' | 'rejected';
-- a failed send goes back to 'waiting' with next_attempt_at later.
CREATE TABLE upstream_item (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    service_record_id BIGINT NOT NULL REFERENCES service_record (id),
    round BIGINT NOT NULL,
    update_number BIGINT NOT NULL,
    -- Updates only: effectivEvalua and the rectification text, fixed when the change happened.
    effective BIGINT,
    rectification TEXT,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    -- The upper level's reason for a rejection, or the last transport failure.
    reason TEXT,
    -- 1 when the upper level said it already had the item.
    duplicate BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    accepted_at BIGINT,
    UNIQUE (kind, service_record_id, round, update_number)
);
-- The worker's scan: only what is still to send.
CREATE INDEX upstream_item_pending ON upstream_item (kind, state, next_attempt_at) WHERE state IN ('waiting', 'sent');
CREATE INDEX upstream_item_rejected ON upstream_item (state) WHERE state = 'rejected';

-- Evaluations made on the province's channels for our records (回流), one row per (projectNo, assessNumber):
-- 'stored' (evaluation_id is ours, channel 'provincial'), 'conflict' (the record was already rated here: the
-- first rating stands), 'unmatched' (no such record yet: matched again later), 'invalid' (codes we cannot
-- map). The item is kept as received (it holds no personal data) so nothing pulled is ever lost.
CREATE TABLE upstream_pulled (
    id INTEGER PRIMARY KEY,
    project_no TEXT NOT NULL,
    assess_number BIGINT NOT NULL,
    state TEXT NOT NULL,
    item TEXT NOT NULL,
    reason TEXT,
    evaluation_id BIGINT REFERENCES evaluation (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (project_no, assess_number)
);
CREATE INDEX upstream_pulled_state ON upstream_pulled (state);

-- Durable cursors of the exchange (the pull's `next`).
CREATE TABLE upstream_cursor (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- What happened before this version is queued too: a county joining the province sends its history.
INSERT INTO upstream_item (kind, service_record_id, round, update_number, state, next_attempt_at, created_at)
SELECT 'service', id, 0, 0, 'waiting', completed_at, completed_at FROM service_record WHERE completed_at IS NOT NULL;
INSERT INTO upstream_item (kind, service_record_id, round, update_number, state, next_attempt_at, created_at)
SELECT 'evaluation', service_record_id, round, 0, 'waiting', created_at, created_at
FROM evaluation WHERE channel <> 'provincial';
INSERT INTO upstream_item (kind, service_record_id, round, update_number, effective, rectification, state,
    next_attempt_at, created_at)
SELECT 'update', e.service_record_id, e.round, 1, 0, '', 'waiting', i.at, i.at
FROM evaluation_invalidation i JOIN evaluation e ON e.id = i.evaluation_id WHERE e.channel <> 'provincial';
INSERT INTO upstream_item (kind, service_record_id, round, update_number, effective, rectification, state,
    next_attempt_at, created_at)
SELECT 'update', e.service_record_id, e.round, 1, 1,
    COALESCE((SELECT s.text FROM case_step s WHERE s.case_id = c.id
        AND s.kind IN ('rectified', 'solve_on_spot', 'plan_replied') ORDER BY s.at DESC, s.id DESC LIMIT 1), ''),
    'waiting', c.created_at, c.created_at
FROM bad_review_case c JOIN evaluation e ON e.id = c.evaluation_id
WHERE c.state = 'closed' AND e.channel <> 'provincial';

-- Login attempts are reserved before the password is checked (issue 14 §5): a successful login takes its own
-- reservation back by this token.
ALTER TABLE login_failure ADD COLUMN attempt TEXT;
