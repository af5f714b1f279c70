DROP INDEX transactions_merchant_time_idx;
CREATE INDEX transactions_merchant_time_idx ON transactions (merchant_id, occurred_at DESC)
    INCLUDE (user_id, device_id, amount) WHERE merchant_id IS NOT NULL;

ALTER TABLE transactions DROP COLUMN device_first_seen_at, DROP COLUMN user_created_at;
