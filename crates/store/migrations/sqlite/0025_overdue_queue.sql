-- The overdue list in its own order (issue 17 §5): every case a unit let run past a limit, by the next check
-- (or creation), then by id — the order `QUEUE_ORDER` gives them, since all of them come first there. The
-- list reads its first page from here and the unassigned cases past the center's dispatch limit from
-- `bad_review_case_queue`, instead of sorting every match.
CREATE INDEX bad_review_case_overdue ON bad_review_case ((COALESCE(next_check_at, created_at)), id)
    WHERE overdue_at IS NOT NULL;
