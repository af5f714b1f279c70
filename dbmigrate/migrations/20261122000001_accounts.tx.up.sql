-- Accounts, sessions, devices and the audit trail: the foundation every other table hangs off.
CREATE TABLE users (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username          text        NOT NULL,
    email             text        NOT NULL DEFAULT '',
    password_hash     text        NOT NULL,
    role              text        NOT NULL DEFAULT 'USER'
                      CHECK (role IN ('USER', 'VIP', 'ANALYST', 'ADMIN', 'SERVICE')),
    status            text        NOT NULL DEFAULT 'ACTIVE'
                      CHECK (status IN ('ACTIVE', 'FROZEN', 'DISABLED')),
    last_login_at     timestamptz,
    last_latitude     double precision,
    last_longitude    double precision,
    last_country      text,
    last_city         text,
    last_location_at  timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE INDEX users_role_idx ON users (role, id);
CREATE INDEX users_status_idx ON users (status, id);

-- A session is one login; its refresh tokens form a rotation family.
CREATE TABLE sessions (
    id          uuid        PRIMARY KEY,
    user_id     bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ip_address  text        NOT NULL DEFAULT '',
    user_agent  text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE refresh_tokens (
    token_hash  bytea       PRIMARY KEY,
    session_id  uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    rotated_at  timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

CREATE TABLE devices (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fingerprint    text        NOT NULL UNIQUE,
    status         text        NOT NULL DEFAULT 'NORMAL'
                   CHECK (status IN ('NORMAL', 'ABNORMAL', 'BLACKLISTED')),
    first_seen_at  timestamptz NOT NULL,
    last_seen_at   timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_devices (
    user_id        bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id      bigint      NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    first_seen_at  timestamptz NOT NULL,
    last_seen_at   timestamptz NOT NULL,
    PRIMARY KEY (user_id, device_id)
);
CREATE INDEX user_devices_device_idx ON user_devices (device_id, user_id);

CREATE TABLE login_logs (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id             bigint      REFERENCES users (id) ON DELETE CASCADE,
    username            text        NOT NULL,
    success             boolean     NOT NULL,
    failure_reason      text,
    ip_address          text        NOT NULL DEFAULT '',
    user_agent          text        NOT NULL DEFAULT '',
    device_fingerprint  text,
    device_id           bigint      REFERENCES devices (id) ON DELETE SET NULL,
    latitude            double precision,
    longitude           double precision,
    country             text,
    city                text,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_logs_user_idx ON login_logs (user_id, id DESC);

CREATE TABLE audit_logs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor_id     bigint,
    action       text        NOT NULL,
    target_type  text        NOT NULL DEFAULT '',
    target_id    text        NOT NULL DEFAULT '',
    details      jsonb       NOT NULL DEFAULT '{}',
    ip_address   text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_logs_created_idx ON audit_logs (created_at DESC, id DESC);
CREATE INDEX audit_logs_actor_idx ON audit_logs (actor_id, id DESC);
CREATE INDEX audit_logs_action_idx ON audit_logs (action, id DESC);
