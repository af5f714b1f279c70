DROP INDEX transactions_user_time_idx;
CREATE INDEX transactions_user_time_idx ON transactions (user_id, occurred_at DESC)
    INCLUDE (amount, merchant_id, device_id, country, latitude, longitude);
DROP INDEX transactions_merchant_time_idx;
CREATE INDEX transactions_merchant_time_idx ON transactions (merchant_id, occurred_at DESC) INCLUDE (user_id) WHERE merchant_id IS NOT NULL;
DROP INDEX transactions_ip_prefix_time_idx;
DROP INDEX transactions_ip_time_idx;
ALTER TABLE transactions DROP COLUMN ip_prefix;
DROP FUNCTION ip_prefix(text);
