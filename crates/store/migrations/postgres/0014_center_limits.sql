-- Issue 15 §3: the limits of the 12345 center's own part in a case.

-- Issue 15 §3: a unit's finding that a problem cannot be fixed quickly counts (15-day reply, a plan instead of
-- a rectification) only once the 12345 center approves it.
ALTER TABLE bad_review_case ADD COLUMN plan_approved BIGINT NOT NULL DEFAULT 0;
-- Cases worked before the approval existed keep what they had: their long-term findings stand as approved.
UPDATE bad_review_case SET plan_approved = 1 WHERE long_term = 1;

-- Issue 15 §3: the 12345 center's own dispatch limit; set once an unassigned case has passed it.
ALTER TABLE bad_review_case ADD COLUMN dispatch_missed BIGINT NOT NULL DEFAULT 0;
CREATE INDEX bad_review_case_undispatched ON bad_review_case (state, dispatch_missed, created_at);
