-- The whole database's total by month and year (dim 'all_org', organization 0), kept beside the organizations'
-- rows by the same writes (issue 17 §5): the dashboard's twelve-month trend of the county summed every
-- organization's month rows (65 ms at one million evaluations on SQLite) where a few hundred rows do.
INSERT INTO cut_rollup (grain, dim, period, org_id, member, measure, is_default, invalidated, n)
SELECT grain, 'all_org', period, 0, '', measure, is_default, invalidated, SUM(n)
FROM cut_rollup
WHERE grain IN ('m', 'y') AND dim = 'org'
GROUP BY grain, period, measure, is_default, invalidated;
