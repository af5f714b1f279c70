-- Investigation: handling records for events and alerts, data sources, and
-- the indexes the dashboards and link analysis read.

-- One row per analyst action on an event or alert (the seed's 处理记录).
CREATE TABLE handling_records (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     bigint      REFERENCES risk_events (id) ON DELETE CASCADE,
    alert_id     bigint      REFERENCES alerts (id) ON DELETE CASCADE,
    actor_id     bigint      REFERENCES users (id) ON DELETE SET NULL,
    action       text        NOT NULL,
    from_status  text,
    to_status    text,
    note         text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (event_id IS NOT NULL OR alert_id IS NOT NULL)
);
CREATE INDEX handling_records_event_idx ON handling_records (event_id, id);
CREATE INDEX handling_records_alert_idx ON handling_records (alert_id, id);

CREATE TABLE data_sources (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text        NOT NULL,
    kind          text        NOT NULL CHECK (kind IN ('API', 'DATABASE', 'FILE', 'STREAM')),
    description   text        NOT NULL DEFAULT '',
    config        jsonb       NOT NULL DEFAULT '{}',
    status        text        NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'PAUSED', 'ERROR')),
    last_seen_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX data_sources_name_key ON data_sources (lower(name));

ALTER TABLE transactions ADD COLUMN source_id bigint REFERENCES data_sources (id) ON DELETE SET NULL;
CREATE INDEX transactions_source_time_idx ON transactions (source_id, occurred_at DESC);

-- Link analysis walks users ↔ devices and users ↔ IP addresses.
CREATE INDEX transactions_ip_idx ON transactions (ip_address, user_id) WHERE ip_address IS NOT NULL;
CREATE INDEX login_logs_ip_idx ON login_logs (ip_address, user_id) WHERE success AND ip_address <> '';
CREATE INDEX risk_events_assignee_idx ON risk_events (assignee_id, id DESC);
