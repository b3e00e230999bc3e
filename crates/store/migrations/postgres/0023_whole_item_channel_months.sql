-- Items and channels by month for the whole database (organization 0, dims 'all_item' and 'all_channel'), kept
-- beside the per-organization rows by the same writes (issue 17 §5): a county-wide item cut of a year read one row
-- per organization, item and measure — 700,000 at ten million evaluations — where these are a few thousand.
INSERT INTO cut_rollup (grain, dim, period, org_id, member, measure, is_default, invalidated, n)
SELECT grain, 'all_' || dim, period, 0, member, measure, is_default, invalidated, SUM(n)
FROM cut_rollup
WHERE grain = 'm' AND dim IN ('item', 'channel')
GROUP BY grain, dim, period, member, measure, is_default, invalidated;
