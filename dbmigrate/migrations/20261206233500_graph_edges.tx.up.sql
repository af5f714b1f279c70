-- Graph edges and orders (issue 14). Rules get a caller-chosen code (seed
-- 004's R001) and their creator; rules from before stay without either.
ALTER TABLE rules ADD COLUMN code text, ADD COLUMN created_by bigint REFERENCES users (id) ON DELETE SET NULL;
CREATE UNIQUE INDEX rules_code_key ON rules (code);

-- Keyset orders by score and amount walk these instead of sorting the table;
-- the id breaks ties, as in the cursor.
CREATE INDEX detections_score_idx ON detections (risk_score, transaction_id);
CREATE INDEX transactions_amount_idx ON transactions (amount, id);
CREATE INDEX risk_events_score_idx ON risk_events (risk_score, id);

-- device.lastSeenMinutes and device.newToAll7d: the device's latest login by anyone.
CREATE INDEX login_logs_device_time_idx ON login_logs (device_fingerprint, created_at DESC) WHERE success;
