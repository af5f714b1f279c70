ALTER TABLE detections DROP COLUMN IF EXISTS model_contributions;
DROP TABLE IF EXISTS models;
