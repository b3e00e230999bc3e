-- Issue 15 §4 (plan §三): platforms (政务服务网, 移动端应用, 自助终端系统 …) are evaluated objects: a record may name
-- the platform through which the service was delivered.
ALTER TABLE service_record ADD COLUMN platform_id BIGINT REFERENCES platform (id);
CREATE INDEX service_record_platform ON service_record (platform_id);
