-- Four eyes on voiding (issue 29 §8): a conclusion that sets evaluations aside (fake praise, malicious review) is
-- first proposed by one county-office account — the flag's state is then 'proposed' — and takes effect only when
-- another person (another county-office account or the auditor) confirms it; a rejection returns the flag to
-- 'investigating'. Until confirmed, nothing is set aside.
ALTER TABLE integrity_flag ADD COLUMN proposed_conclusion TEXT;
ALTER TABLE integrity_flag ADD COLUMN proposed_findings TEXT;
-- Comma-separated evaluation ids the proposal would set aside.
ALTER TABLE integrity_flag ADD COLUMN proposed_evaluation_ids TEXT;
ALTER TABLE integrity_flag ADD COLUMN proposed_by TEXT;
ALTER TABLE integrity_flag ADD COLUMN proposed_at BIGINT;
-- Who confirmed a concluded flag's proposal (NULL for conclusions that set nothing aside).
ALTER TABLE integrity_flag ADD COLUMN confirmed_by TEXT;
