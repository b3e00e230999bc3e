-- The overdue list's second part in its own order (issue 17 §5): cases waiting unassigned past the center's
-- dispatch limit and not past a unit's limit (`PAST_DISPATCH_LIMIT` in store/src/cases.rs, the three
-- equalities written the same way so the planner matches them), then `OVERDUE_ORDER`. The list walked
-- `bad_review_case_queue` over every waiting case before, marked or not: 166 ms with 190,000 of them unmarked.
CREATE INDEX bad_review_case_dispatch_late ON bad_review_case
    (state, dispatch_missed, (CASE WHEN overdue_at IS NULL THEN 1 ELSE 0 END), (COALESCE(next_check_at, created_at)), id);

-- The center's clock reads the waiting cases not yet marked, oldest clock first (`undispatched_cases`): in
-- that order from here. The old index ended in `created_at`, not the clock's start, so each pass sorted the
-- whole backlog to mark 200 (2.7 s a pass on SQLite with 260,000 waiting).
DROP INDEX bad_review_case_undispatched;
CREATE INDEX bad_review_case_undispatched ON bad_review_case (state, dispatch_missed, (COALESCE(clock_from, created_at)));
