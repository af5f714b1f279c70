-- Password-check attempts per (account, client address) and per account
-- (client '*'), replacing the account-wide hard lock that anyone could keep
-- closed (docs/SECURITY.md, "Lockout design"). The account key is the
-- lower-cased username as typed, so unknown usernames behave like known ones.
CREATE TABLE login_attempts (
    account          text        NOT NULL,
    client           text        NOT NULL,
    -- Charged attempts since the last success (charged before the hash check).
    failures         integer     NOT NULL DEFAULT 0,
    blocked_until    timestamptz,
    last_attempt_at  timestamptz NOT NULL,
    last_success_at  timestamptz,
    PRIMARY KEY (account, client)
);
CREATE INDEX login_attempts_last_attempt_idx ON login_attempts (last_attempt_at);

ALTER TABLE users DROP COLUMN IF EXISTS locked_until, DROP COLUMN IF EXISTS failed_logins;
