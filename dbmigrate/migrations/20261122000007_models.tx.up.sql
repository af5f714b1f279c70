-- Trained fraud models, versioned. A model is immutable once trained; only
-- its activation changes. At most one is active: it supplies mlScore to the
-- fusion on every instance, and each detection it scores records its version
-- and the features that pushed the score most.
CREATE TABLE models (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Allocated as max + 1 under an advisory lock, so versions have no gaps.
    version        integer            NOT NULL CHECK (version > 0),
    algorithm      text               NOT NULL CHECK (algorithm IN ('LOGISTIC_REGRESSION')),
    -- The model names its inputs, so a build that adds features still scores
    -- with models trained before.
    feature_names  text[]             NOT NULL,
    coefficients   double precision[] NOT NULL,
    intercept      double precision   NOT NULL,
    means          double precision[] NOT NULL,
    stds           double precision[] NOT NULL,
    metrics        jsonb              NOT NULL DEFAULT '{}',
    active         boolean            NOT NULL DEFAULT false,
    trained_by     bigint             REFERENCES users (id) ON DELETE SET NULL,
    activated_by   bigint             REFERENCES users (id) ON DELETE SET NULL,
    activated_at   timestamptz,
    created_at     timestamptz        NOT NULL DEFAULT now(),
    CHECK (cardinality(feature_names) > 0
       AND cardinality(coefficients) = cardinality(feature_names)
       AND cardinality(means) = cardinality(feature_names)
       AND cardinality(stds) = cardinality(feature_names))
);
CREATE UNIQUE INDEX models_version_key ON models (version);
-- Every active row has the same key, so the database itself refuses a second one.
CREATE UNIQUE INDEX models_active_key ON models (active) WHERE active;

-- The active model's top feature contributions for this detection; NULL when
-- no model scored it.
ALTER TABLE detections ADD COLUMN model_contributions jsonb;
