DROP INDEX IF EXISTS risk_events_assignee_idx, login_logs_ip_idx, transactions_ip_idx, transactions_source_time_idx;
ALTER TABLE transactions DROP COLUMN IF EXISTS source_id;
DROP TABLE IF EXISTS data_sources, handling_records;
