-- Account lockout after repeated failed logins (PCI DSS 8.3.4).
ALTER TABLE users
    ADD COLUMN failed_logins integer NOT NULL DEFAULT 0,
    ADD COLUMN locked_until timestamptz;
