-- SHADOW rules: evaluated and recorded on every detection, never counted, so
-- a draft can be watched on live traffic before it goes live.
ALTER TABLE rules ADD COLUMN shadow boolean NOT NULL DEFAULT false;
ALTER TABLE rule_versions ADD COLUMN shadow boolean NOT NULL DEFAULT false;
ALTER TABLE detections ADD COLUMN shadow_rules jsonb NOT NULL DEFAULT '[]';
