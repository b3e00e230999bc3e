-- Statistics read rollups, never a scan of all evaluations (issue 7 §7). Both are kept in the transaction that
-- changes what they count: a first evaluation (writer, default job, hotline, bulk loads), an invalidation by an
-- upheld appeal, a record's completion. `hcp stats rebuild` recomputes them from the rows.
-- `day` is the business date in UTC+8 as days since 1970-01-01: (epoch ms + 8 h) / 1 day, integer arithmetic
-- that both databases compute the same way. 0 stands for "no window" / "no staff member".
CREATE TABLE evaluation_rollup (
    day BIGINT NOT NULL,
    org_id BIGINT NOT NULL,
    window_id BIGINT NOT NULL,
    staff_id BIGINT NOT NULL,
    item_id BIGINT NOT NULL,
    channel TEXT NOT NULL,
    level TEXT NOT NULL,
    is_default BIGINT NOT NULL,
    -- 1: evaluations invalidated by an upheld appeal, counted apart and in no rate.
    invalidated BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (day, org_id, window_id, staff_id, item_id, channel, level, is_default, invalidated)
);
CREATE INDEX evaluation_rollup_org ON evaluation_rollup (org_id, day);

-- Completed service records per completion day: the denominator of the active-evaluation rate.
CREATE TABLE record_rollup (
    day BIGINT NOT NULL,
    org_id BIGINT NOT NULL,
    window_id BIGINT NOT NULL,
    staff_id BIGINT NOT NULL,
    item_id BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (day, org_id, window_id, staff_id, item_id)
);
