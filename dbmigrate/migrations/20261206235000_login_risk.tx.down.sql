DELETE FROM risk_events WHERE kind = 'LOGIN';
ALTER TABLE alerts ALTER COLUMN transaction_id SET NOT NULL;
DROP INDEX IF EXISTS risk_events_login_log_key;
ALTER TABLE risk_events DROP CONSTRAINT risk_events_subject_check,
    ALTER COLUMN transaction_id SET NOT NULL, DROP COLUMN login_log_id, DROP COLUMN kind;
ALTER TABLE login_logs DROP COLUMN matched_rules, DROP COLUMN risk_level, DROP COLUMN risk_score;
ALTER TABLE rule_versions DROP COLUMN scope;
ALTER TABLE rules DROP COLUMN scope;
