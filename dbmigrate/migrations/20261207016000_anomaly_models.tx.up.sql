-- Trained anomaly models (isolation forests per segment), versioned beside
-- the fraud models but apart from them: their parameters share nothing with
-- a logistic regression's, and one of each kind can be active at once.
CREATE TABLE anomaly_models (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Allocated as max + 1 under an advisory lock, so versions have no gaps.
    version        integer     NOT NULL CHECK (version > 0),
    segment_by     text        NOT NULL CHECK (segment_by IN ('NONE', 'CHANNEL', 'MERCHANT_CATEGORY')),
    -- The model names its inputs, so a build that adds features still scores
    -- with models trained before.
    feature_names  text[]      NOT NULL CHECK (cardinality(feature_names) > 0),
    -- The encoded forests (internal/anomaly): the global one, then one per segment.
    forests        bytea       NOT NULL,
    metrics        jsonb       NOT NULL DEFAULT '{}',
    active         boolean     NOT NULL DEFAULT false,
    trained_by     bigint      REFERENCES users (id) ON DELETE SET NULL,
    activated_by   bigint      REFERENCES users (id) ON DELETE SET NULL,
    activated_at   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX anomaly_models_version_key ON anomaly_models (version);
-- Every active row has the same key, so the database itself refuses a second one.
CREATE UNIQUE INDEX anomaly_models_active_key ON anomaly_models (active) WHERE active;
