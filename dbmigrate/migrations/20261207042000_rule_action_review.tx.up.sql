-- A REVIEW rule adds its score and holds the transaction for review whatever
-- the model says (engine.ActionReview).
ALTER TABLE rules DROP CONSTRAINT rules_action_check;
ALTER TABLE rules ADD CONSTRAINT rules_action_check CHECK (action IN ('SCORE', 'REVIEW', 'REJECT'));
