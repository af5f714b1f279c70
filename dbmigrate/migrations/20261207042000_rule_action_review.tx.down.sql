UPDATE rules SET action = 'SCORE' WHERE action = 'REVIEW';
ALTER TABLE rules DROP CONSTRAINT rules_action_check;
ALTER TABLE rules ADD CONSTRAINT rules_action_check CHECK (action IN ('SCORE', 'REJECT'));
