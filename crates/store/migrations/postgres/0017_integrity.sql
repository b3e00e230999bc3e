-- Issue 16 §1: what an evaluation came with, for the integrity checks, beside the evaluation row (which never
-- changes). The client address is kept only as blind indexes (HMAC under the data keys' index key: equal
-- addresses and networks compare equal) and masked for people (10.1.2.*); devices by their catalog code.
CREATE TABLE evaluation_context (
    evaluation_id BIGINT PRIMARY KEY REFERENCES evaluation (id),
    client_address_idx TEXT,
    client_network_idx TEXT,
    client_address_masked TEXT,
    device_code TEXT,
    user_agent_family TEXT
);
CREATE INDEX evaluation_context_address ON evaluation_context (client_address_idx);
CREATE INDEX evaluation_context_device ON evaluation_context (device_code);

-- Issue 16 §2: a case opened by a history import runs the center's dispatch clock from the import, not from
-- the bad review of months ago (NULL: from the bad review, as live).
ALTER TABLE bad_review_case ADD COLUMN clock_from BIGINT;

-- A link a hall device fetched names the device, so the evaluation made with it says which device it came
-- through (the page itself cannot be trusted to say).
ALTER TABLE evaluation_invite ADD COLUMN device_code TEXT;
