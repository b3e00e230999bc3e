-- The overdue list's second part in its own order (issue 17 §5): cases waiting unassigned past the center's
-- dispatch limit, by state, the mark, not past a unit's limit, then the inbox's order — `PAST_DISPATCH_LIMIT`
-- and `QUEUE_ORDER` in store/src/cases.rs, written the same way so the planner matches them. The list walked
-- `bad_review_case_queue` over every waiting case before, marked or not: 166 ms with 190,000 of them unmarked.
CREATE INDEX bad_review_case_dispatch_late ON bad_review_case
    (state, dispatch_missed, (CASE WHEN overdue_at IS NULL THEN 1 ELSE 0 END), (COALESCE(next_check_at, created_at)), id);
