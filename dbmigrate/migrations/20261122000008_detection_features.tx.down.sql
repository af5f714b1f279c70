DROP TABLE rule_packs;
DROP INDEX transactions_merchant_time_idx;
DROP INDEX transactions_device_time_idx;
DROP INDEX transactions_user_time_idx;
CREATE INDEX transactions_user_time_idx ON transactions (user_id, occurred_at DESC) INCLUDE (amount, merchant_id, device_id);
