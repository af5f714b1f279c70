DROP TABLE rule_packs;
DROP INDEX transactions_merchant_time_idx;
DROP INDEX transactions_device_time_idx;
