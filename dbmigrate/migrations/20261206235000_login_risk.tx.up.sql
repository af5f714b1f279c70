-- Login risk (issue 14). Rules have a scope: the payments they score or the
-- logins. A login's detection lives on its log row (a login has no
-- transaction), and a LOGIN risk event and its alert point at that log
-- instead of a transaction: exactly one of the two.
ALTER TABLE rules ADD COLUMN scope text NOT NULL DEFAULT 'TRANSACTION' CHECK (scope IN ('TRANSACTION', 'LOGIN'));
ALTER TABLE rule_versions ADD COLUMN scope text NOT NULL DEFAULT 'TRANSACTION' CHECK (scope IN ('TRANSACTION', 'LOGIN'));

ALTER TABLE login_logs
    ADD COLUMN risk_score numeric(5,2),
    ADD COLUMN risk_level text CHECK (risk_level IN ('LOW', 'MEDIUM', 'HIGH')),
    ADD COLUMN matched_rules jsonb;

ALTER TABLE risk_events
    ADD COLUMN kind text NOT NULL DEFAULT 'TRANSACTION' CHECK (kind IN ('TRANSACTION', 'LOGIN')),
    ADD COLUMN login_log_id bigint REFERENCES login_logs (id) ON DELETE CASCADE,
    ALTER COLUMN transaction_id DROP NOT NULL,
    ADD CONSTRAINT risk_events_subject_check CHECK (
        (kind = 'TRANSACTION' AND transaction_id IS NOT NULL AND login_log_id IS NULL) OR
        (kind = 'LOGIN' AND transaction_id IS NULL AND login_log_id IS NOT NULL));
CREATE UNIQUE INDEX risk_events_login_log_key ON risk_events (login_log_id);

ALTER TABLE alerts ALTER COLUMN transaction_id DROP NOT NULL;
