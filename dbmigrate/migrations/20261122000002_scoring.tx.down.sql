DROP TABLE IF EXISTS idempotency_keys, alerts, event_timeline, risk_events, detections, transactions, rule_versions, rules;
DROP INDEX IF EXISTS login_logs_user_time_idx;
