-- The reveal quota counts per person, not per account (issue 29 §3): `person` is `staff:<id>` for an account
-- linked to a staff member (工号, a real person in the catalog), `user:<id>` otherwise. Several accounts of one
-- person share one quota. The old per-account table stays for the record but is no longer written.
CREATE TABLE reveal_person_count (
    person TEXT NOT NULL,
    day TEXT NOT NULL,
    used BIGINT NOT NULL,
    PRIMARY KEY (person, day)
);
