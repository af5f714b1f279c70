-- Rule packs have versions: a deployment that seeded a pack gets the rules
-- each later version adds once, at its next start. Packs seeded before
-- versions were version 1.
ALTER TABLE rule_packs ADD COLUMN version integer NOT NULL DEFAULT 1;

-- A suppression rule offsets other rules' scores (e.g. a plausible journey
-- against impossible travel): a rule's score may be negative. The sum is
-- still capped to 0..100.
ALTER TABLE rules DROP CONSTRAINT rules_score_check;
ALTER TABLE rules ADD CONSTRAINT rules_score_check CHECK (score BETWEEN -100 AND 100);
