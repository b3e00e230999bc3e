-- The center always decides (issue 30 §8, plan §八): when the unit lets its verification limit pass, the appeal
-- moves to the center by itself, and the filing register gets a unit-stage entry marked lapsed ("单位逾期未核实",
-- no opinion: `upheld` is stored 0 and read as none).
ALTER TABLE appeal_decision ADD COLUMN lapsed BIGINT NOT NULL DEFAULT 0;
