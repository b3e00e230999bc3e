-- An inbox in its own order (issue 17 §5): by state, overdue first, then by the next check (or creation), then
-- by id — the expressions of `QUEUE_ORDER` in store/src/cases.rs, written the same way so the planner matches
-- them. An inbox reads each of its states' first page from here instead of sorting every open case.
CREATE INDEX bad_review_case_queue ON bad_review_case
    (state, (CASE WHEN overdue_at IS NULL THEN 1 ELSE 0 END), (COALESCE(next_check_at, created_at)), id);
