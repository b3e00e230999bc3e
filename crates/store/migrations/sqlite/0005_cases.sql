-- Bad-review cases (issue 5): one per bad review, opened in the same transaction as the evaluation.
-- The state machine is `hcp_domain::case`; steps and deadlines come with the rest of issue 5.
CREATE TABLE bad_review_case (
    id INTEGER PRIMARY KEY,
    evaluation_id BIGINT NOT NULL UNIQUE REFERENCES evaluation (id),
    service_record_id BIGINT NOT NULL REFERENCES service_record (id),
    -- The record's organization: proposed as the handling unit when the hotline center assigns.
    org_id BIGINT NOT NULL REFERENCES org (id),
    state TEXT NOT NULL,
    unit_id BIGINT REFERENCES org (id),
    round BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX bad_review_case_state ON bad_review_case (state, created_at);
