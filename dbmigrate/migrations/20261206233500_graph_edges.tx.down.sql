DROP INDEX login_logs_device_time_idx;
DROP INDEX risk_events_score_idx;
DROP INDEX transactions_amount_idx;
DROP INDEX detections_score_idx;
ALTER TABLE rules DROP COLUMN created_by, DROP COLUMN code;
