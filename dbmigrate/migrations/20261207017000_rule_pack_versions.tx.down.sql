-- Suppression rules cannot be stored without negative scores: they score 0.
UPDATE rules SET score = 0 WHERE score < 0;
ALTER TABLE rules DROP CONSTRAINT rules_score_check;
ALTER TABLE rules ADD CONSTRAINT rules_score_check CHECK (score BETWEEN 0 AND 100);

ALTER TABLE rule_packs DROP COLUMN version;
