-- Issue 15 §4: statistics cut by platform. `cut_rollup` gains the platform dimension, which rows counted before
-- this release lack; a migration cannot fold the facts (months are computed in Rust), so it asks for a
-- recomputation that `Store::migrate` runs once, in the same way as `hcp stats rebuild`.
CREATE TABLE rollup_rebuild_request (reason TEXT PRIMARY KEY);
INSERT INTO rollup_rebuild_request (reason)
SELECT '0016 platform cuts' WHERE EXISTS (SELECT 1 FROM service_record WHERE platform_id IS NOT NULL);
