-- Issue 15 §3: a unit's finding that a problem cannot be fixed quickly counts (15-day reply, a plan instead of
-- a rectification) only once the 12345 center approves it.
ALTER TABLE bad_review_case ADD COLUMN plan_approved BIGINT NOT NULL DEFAULT 0;
-- Cases worked before the approval existed keep what they had: their long-term findings stand as approved.
UPDATE bad_review_case SET plan_approved = 1 WHERE long_term = 1;
