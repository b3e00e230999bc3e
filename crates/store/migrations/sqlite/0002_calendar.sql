-- The holiday calendar beyond what ships with the program (issue 3): State Council notices imported later
-- (source 'national', replacing the bundled year) and the county's own closures and openings ('local').
CREATE TABLE calendar_day (
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    imported_at BIGINT NOT NULL,
    PRIMARY KEY (day, source)
);
