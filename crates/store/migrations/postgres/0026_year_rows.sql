-- Every dimension by calendar year too (grain 'y', period = the year), kept beside the month rows by the same
-- writes (issue 17 §5): a year's cut read twelve month rows per organization, member and measure — 39,000 for
-- the staff of one county at one million evaluations — where one row each does. Filled here from the months
-- (a year's row is their sum, for the whole-database rows of 0023 too).
INSERT INTO cut_rollup (grain, dim, period, org_id, member, measure, is_default, invalidated, n)
SELECT 'y', dim, period / 12, org_id, member, measure, is_default, invalidated, SUM(n)
FROM cut_rollup
WHERE grain = 'm'
GROUP BY dim, period / 12, org_id, member, measure, is_default, invalidated;

-- Organization paths (digits and slashes) compare byte by byte, as on SQLite: with the database's language
-- collation PostgreSQL could not tell how many organizations a subtree's `LIKE '/1/%'` matches (it guessed 2
-- of 307) and planned every cut and case list for a handful of rows.
ALTER TABLE org ALTER COLUMN path TYPE TEXT COLLATE "C";

-- Changing a column's type drops its statistics, and the year rows are new to the planner: without these it
-- planned a year's staff cut for one row and took half a second.
ANALYZE org;
ANALYZE cut_rollup;
