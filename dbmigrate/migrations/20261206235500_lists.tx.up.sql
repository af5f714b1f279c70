-- Block and allow lists (issue 14): rules read them with inList(name, value).
-- Each instance holds every list in memory; a change is signalled on the
-- riskgraph_lists channel with the list's id and reloads that list alone.
CREATE TABLE lists (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    kind        text NOT NULL CHECK (kind IN ('IP', 'CIDR', 'DEVICE', 'EMAIL', 'MERCHANT', 'COUNTRY', 'CARD_BIN', 'ACCOUNT')),
    mode        text NOT NULL CHECK (mode IN ('BLOCK', 'ALLOW')),
    description text NOT NULL DEFAULT '',
    created_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    updated_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Values are stored normalised (engine.NormalizeListValue), so the key
-- (list_id, value) makes a re-added value an update of its expiry and note.
-- id orders List.entries pages.
CREATE TABLE list_entries (
    id         bigserial PRIMARY KEY,
    list_id    bigint NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    value      text NOT NULL,
    expires_at timestamptz,
    note       text NOT NULL DEFAULT '',
    created_by bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (list_id, value)
);
CREATE INDEX list_entries_list_id_idx ON list_entries (list_id, id);
