-- The merchant's hour (merchantStats.newDevices*, payerMedianAgeDays1h) read
-- a device row and a user row for each of its latest 50 payments: about 100
-- random index probes per payment at a busy merchant, a fifth of the feature
-- read's CPU there. Each payment now records both facts as it is written —
-- its device's first sighting (after this sighting) and its payer's account
-- creation — and the merchant's index carries them, so the hour is read
-- from the index alone. Rows written before stay NULL and are looked up as
-- before. On a large live table, build the new index CONCURRENTLY by hand
-- first (as in 20261122000008).
ALTER TABLE transactions ADD COLUMN device_first_seen_at timestamptz, ADD COLUMN user_created_at timestamptz;

DROP INDEX transactions_merchant_time_idx;
CREATE INDEX transactions_merchant_time_idx ON transactions (merchant_id, occurred_at DESC)
    INCLUDE (user_id, device_id, amount, device_first_seen_at, user_created_at) WHERE merchant_id IS NOT NULL;
