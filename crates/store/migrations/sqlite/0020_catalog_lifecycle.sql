-- Issue 17 §2: catalog entries are retired, not deleted — a window that closes, a staff member who leaves, an
-- item no longer offered, a hall or an organization that closes keep their history (past records, figures
-- and reports refer to them) but leave the pickers, the forms and registration from then on.
ALTER TABLE org ADD COLUMN retired_at BIGINT;
ALTER TABLE hall ADD COLUMN retired_at BIGINT;
ALTER TABLE service_window ADD COLUMN retired_at BIGINT;
ALTER TABLE staff ADD COLUMN retired_at BIGINT;
ALTER TABLE service_item ADD COLUMN retired_at BIGINT;

-- Issue 17 §2: an account may hold several roles, each over its own subtree; the same one twice is one.
CREATE UNIQUE INDEX role_binding_unique ON role_binding (user_id, role, org_id);
