-- Issue 16 §1: what an evaluation came with, for the integrity checks, beside the evaluation row (which never
-- changes). The client address is kept only as blind indexes (HMAC under the data keys' index key: equal
-- addresses and networks compare equal) and masked for people (10.1.2.*); devices by their catalog code.
CREATE TABLE evaluation_context (
    evaluation_id BIGINT PRIMARY KEY REFERENCES evaluation (id),
    client_address_idx TEXT,
    client_network_idx TEXT,
    client_address_masked TEXT,
    device_code TEXT,
    user_agent_family TEXT
);
CREATE INDEX evaluation_context_address ON evaluation_context (client_address_idx);
CREATE INDEX evaluation_context_device ON evaluation_context (device_code);

-- Issue 16 §2: a case opened by a history import runs the center's dispatch clock from the import, not from
-- the bad review of months ago (NULL: from the bad review, as live).
ALTER TABLE bad_review_case ADD COLUMN clock_from BIGINT;

-- A link a hall device fetched names the device, so the evaluation made with it says which device it came
-- through (the page itself cannot be trusted to say).
ALTER TABLE evaluation_invite ADD COLUMN device_code TEXT;

-- Issue 16 §3: what the integrity scan found, for the county office to investigate. A flag is one suspicion
-- about one subject (an evaluation, a device's burst, an evaluator and a staff member): a rescan of the same
-- window finds the same subject and leaves a flag under investigation as it is. Lists are comma-separated
-- codes and ids; the score in thousandths (0–1000).
CREATE TABLE integrity_flag (
    id INTEGER PRIMARY KEY,
    pattern TEXT NOT NULL,
    subject TEXT NOT NULL,
    evaluation_ids TEXT NOT NULL,
    staff_numbers TEXT NOT NULL,
    window_codes TEXT NOT NULL,
    device_codes TEXT NOT NULL,
    score_permille BIGINT NOT NULL,
    explanation TEXT NOT NULL,
    state TEXT NOT NULL,
    first_at BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    found_at BIGINT NOT NULL,
    -- The organization the flag is about (the deepest one all its evaluations lie under): who may see it.
    org_path TEXT NOT NULL,
    UNIQUE (pattern, subject)
);
CREATE INDEX integrity_flag_last ON integrity_flag (last_at);

-- The daily scan claims its day here (one instance scans it, once); `hcp integrity scan` rescans any window.
CREATE TABLE integrity_scan_day (
    day TEXT PRIMARY KEY,
    at BIGINT NOT NULL
);

-- Issue 16 §4: an evaluation is set aside by an upheld appeal or by the county office's conclusion on a
-- flag (fake good, malicious bad). SQLite cannot relax a NOT NULL in place: the table is rebuilt.
CREATE TABLE evaluation_invalidation_new (
    evaluation_id BIGINT PRIMARY KEY REFERENCES evaluation (id),
    appeal_id BIGINT REFERENCES appeal (id),
    flag_id BIGINT REFERENCES integrity_flag (id),
    at BIGINT NOT NULL,
    CHECK ((appeal_id IS NULL) <> (flag_id IS NULL))
);
INSERT INTO evaluation_invalidation_new (evaluation_id, appeal_id, at)
SELECT evaluation_id, appeal_id, at FROM evaluation_invalidation;
DROP TABLE evaluation_invalidation;
ALTER TABLE evaluation_invalidation_new RENAME TO evaluation_invalidation;

-- The office's investigation of a flag: opened with a note, concluded with findings (issue 16 §4).
ALTER TABLE integrity_flag ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE integrity_flag ADD COLUMN investigation_note TEXT;
ALTER TABLE integrity_flag ADD COLUMN investigated_by TEXT;
ALTER TABLE integrity_flag ADD COLUMN conclusion TEXT;
ALTER TABLE integrity_flag ADD COLUMN findings TEXT;
ALTER TABLE integrity_flag ADD COLUMN concluded_by TEXT;
ALTER TABLE integrity_flag ADD COLUMN concluded_at BIGINT;

-- Issue 16 §6 (plan §十二): clues of suspected misconduct referred to the bodies that handle them. Seen only by
-- the county office, auditors and whoever referred it — never by the staff member concerned.
CREATE TABLE referral (
    id INTEGER PRIMARY KEY,
    subject_kind TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    receiving_body TEXT NOT NULL,
    reference TEXT NOT NULL,
    referred_on TEXT NOT NULL,
    referred_by TEXT NOT NULL,
    -- The organization of the subject: the county office and auditors see referrals within their subtree.
    org_path TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    outcome TEXT,
    outcome_by TEXT,
    outcome_at BIGINT
);
CREATE INDEX referral_subject ON referral (subject_kind, subject_id);
