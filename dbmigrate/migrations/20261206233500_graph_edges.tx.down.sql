DROP INDEX login_logs_device_time_idx;
DROP INDEX transactions_device_time_idx;
CREATE INDEX transactions_device_time_idx ON transactions (device_id, occurred_at DESC) INCLUDE (user_id) WHERE device_id IS NOT NULL;
DROP INDEX risk_events_score_idx;
DROP INDEX transactions_amount_idx;
DROP INDEX detections_score_idx;
ALTER TABLE rules DROP COLUMN created_by, DROP COLUMN code;
