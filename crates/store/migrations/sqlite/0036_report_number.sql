-- Published reports carry a number (文号) the county's pattern sets (issue 30 §4): `{prefix}〔{year}〕{n}号`, n
-- counting the organization's reports published that year, assigned when a report is published.
ALTER TABLE report ADD COLUMN number TEXT;
