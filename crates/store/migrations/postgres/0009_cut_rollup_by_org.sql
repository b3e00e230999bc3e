-- cut_rollup keyed by organization before period: a ranking reads, for each organization of the scope, its
-- rows of the period — one short index range each. With the period first, PostgreSQL's plan (organizations
-- of the subtree, then the rollup per organization) walked the whole period's range once per organization.
CREATE TABLE cut_rollup_by_org (
    grain TEXT NOT NULL,
    dim TEXT NOT NULL,
    period BIGINT NOT NULL,
    org_id BIGINT NOT NULL,
    member TEXT NOT NULL,
    measure TEXT NOT NULL,
    is_default BIGINT NOT NULL,
    invalidated BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (grain, dim, org_id, period, member, measure, is_default, invalidated)
);
INSERT INTO cut_rollup_by_org (grain, dim, period, org_id, member, measure, is_default, invalidated, n)
SELECT grain, dim, period, org_id, member, measure, is_default, invalidated, n FROM cut_rollup;
DROP TABLE cut_rollup;
ALTER TABLE cut_rollup_by_org RENAME TO cut_rollup;
