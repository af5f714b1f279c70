-- Scoring: rules with versions, transactions with their detections, risk
-- events with timelines, alerts, and idempotency keys. Hot tables carry
-- user_id in their primary key so they can be sharded by user (docs/SCALING.md).

CREATE INDEX login_logs_user_time_idx ON login_logs (user_id, created_at DESC) WHERE success;

CREATE TABLE rules (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text        NOT NULL,
    description  text        NOT NULL DEFAULT '',
    condition    text        NOT NULL,
    expression   text        NOT NULL,
    score        integer     NOT NULL CHECK (score BETWEEN 0 AND 100),
    priority     integer     NOT NULL DEFAULT 0,
    type         text        NOT NULL DEFAULT 'CUSTOM',
    action       text        NOT NULL DEFAULT 'SCORE' CHECK (action IN ('SCORE', 'REJECT')),
    enabled      boolean     NOT NULL DEFAULT true,
    version      integer     NOT NULL DEFAULT 1,
    builtin      boolean     NOT NULL DEFAULT false,
    hit_count    bigint      NOT NULL DEFAULT 0,
    last_hit_at  timestamptz,
    updated_by   bigint      REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX rules_name_key ON rules (lower(name));

-- Every version a rule has had, the current one included.
CREATE TABLE rule_versions (
    rule_id      bigint      NOT NULL REFERENCES rules (id) ON DELETE CASCADE,
    version      integer     NOT NULL,
    name         text        NOT NULL,
    description  text        NOT NULL,
    condition    text        NOT NULL,
    expression   text        NOT NULL,
    score        integer     NOT NULL,
    priority     integer     NOT NULL,
    type         text        NOT NULL,
    action       text        NOT NULL,
    enabled      boolean     NOT NULL,
    created_by   bigint      REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (rule_id, version)
);

CREATE TABLE transactions (
    id                  bigint GENERATED ALWAYS AS IDENTITY,
    user_id             bigint        NOT NULL REFERENCES users (id),
    amount              numeric(16,2) NOT NULL CHECK (amount > 0),
    currency            char(3)       NOT NULL,
    merchant_id         text,
    merchant_category   text,
    channel             text,
    device_id           bigint        REFERENCES devices (id),
    device_fingerprint  text,
    ip_address          text,
    latitude            double precision,
    longitude           double precision,
    country             text,
    city                text,
    status              text          NOT NULL CHECK (status IN ('APPROVED', 'PENDING_REVIEW', 'DECLINED')),
    submitted_by        bigint        NOT NULL REFERENCES users (id),
    occurred_at         timestamptz   NOT NULL,
    created_at          timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, id)
);
CREATE UNIQUE INDEX transactions_id_key ON transactions (id);
-- Feature windows are bounded range scans on this index.
CREATE INDEX transactions_user_time_idx ON transactions (user_id, occurred_at DESC) INCLUDE (amount, merchant_id, device_id);
CREATE INDEX transactions_time_idx ON transactions (occurred_at DESC);

CREATE TABLE detections (
    transaction_id  bigint       NOT NULL,
    user_id         bigint       NOT NULL,
    risk_score      numeric(5,2) NOT NULL,
    risk_level      text         NOT NULL CHECK (risk_level IN ('LOW', 'MEDIUM', 'HIGH')),
    decision        text         NOT NULL CHECK (decision IN ('PASS', 'REVIEW', 'REJECT')),
    rule_score      integer      NOT NULL,
    ml_score        numeric(5,2),
    model_version   text,
    reason          text         NOT NULL,
    matched_rules   jsonb        NOT NULL DEFAULT '[]',
    features        jsonb        NOT NULL,
    latency_us      integer      NOT NULL,
    created_at      timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, transaction_id),
    FOREIGN KEY (user_id, transaction_id) REFERENCES transactions (user_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX detections_transaction_key ON detections (transaction_id);
CREATE INDEX detections_created_idx ON detections (created_at DESC);

CREATE TABLE risk_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         bigint       NOT NULL REFERENCES users (id),
    transaction_id  bigint       NOT NULL,
    type            text         NOT NULL,
    level           text         NOT NULL CHECK (level IN ('LOW', 'MEDIUM', 'HIGH')),
    status          text         NOT NULL DEFAULT 'OPEN' CHECK (status IN
                    ('OPEN', 'INVESTIGATING', 'CONFIRMED_FRAUD', 'FALSE_POSITIVE', 'ESCALATED', 'CLOSED')),
    risk_score      numeric(5,2) NOT NULL,
    title           text         NOT NULL,
    description     text         NOT NULL DEFAULT '',
    assignee_id     bigint       REFERENCES users (id) ON DELETE SET NULL,
    version         integer      NOT NULL DEFAULT 1,
    created_at      timestamptz  NOT NULL DEFAULT now(),
    updated_at      timestamptz  NOT NULL DEFAULT now(),
    handled_at      timestamptz,
    closed_at       timestamptz,
    FOREIGN KEY (user_id, transaction_id) REFERENCES transactions (user_id, id)
);
CREATE UNIQUE INDEX risk_events_transaction_key ON risk_events (transaction_id);
CREATE INDEX risk_events_status_idx ON risk_events (status, id DESC);
CREATE INDEX risk_events_user_idx ON risk_events (user_id, id DESC);
CREATE INDEX risk_events_created_idx ON risk_events (created_at DESC);

CREATE TABLE event_timeline (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     bigint      NOT NULL REFERENCES risk_events (id) ON DELETE CASCADE,
    kind         text        NOT NULL,
    action       text        NOT NULL,
    actor_id     bigint      REFERENCES users (id) ON DELETE SET NULL,
    from_status  text,
    to_status    text,
    note         text        NOT NULL DEFAULT '',
    details      jsonb       NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_timeline_event_idx ON event_timeline (event_id, id);

CREATE TABLE alerts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        bigint      NOT NULL REFERENCES risk_events (id) ON DELETE CASCADE,
    user_id         bigint      NOT NULL REFERENCES users (id),
    transaction_id  bigint      NOT NULL,
    level           text        NOT NULL CHECK (level IN ('LOW', 'MEDIUM', 'HIGH')),
    status          text        NOT NULL DEFAULT 'NEW' CHECK (status IN ('NEW', 'ACKNOWLEDGED', 'RESOLVED', 'DISMISSED')),
    title           text        NOT NULL,
    message         text        NOT NULL,
    handled_by      bigint      REFERENCES users (id) ON DELETE SET NULL,
    handled_at      timestamptz,
    handle_note     text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_event_idx ON alerts (event_id);
CREATE INDEX alerts_status_idx ON alerts (status, id DESC);
CREATE INDEX alerts_user_idx ON alerts (user_id, id DESC);
CREATE INDEX alerts_created_idx ON alerts (created_at DESC);

-- An idempotency key is unique per caller and commits with its effect.
CREATE TABLE idempotency_keys (
    caller_id       bigint      NOT NULL,
    key             text        NOT NULL,
    request_hash    bytea       NOT NULL,
    user_id         bigint      NOT NULL,
    transaction_id  bigint      NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller_id, key)
);
