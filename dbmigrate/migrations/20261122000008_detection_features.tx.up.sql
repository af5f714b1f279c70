-- The user's 30-day window reads every column it needs from the index, so on
-- settled (all-visible) pages it touches no heap: the window is 4 times the
-- 7 days it replaced. (On a large live table, build the new index
-- CONCURRENTLY by hand first; this migration then only swaps names.)
DROP INDEX transactions_user_time_idx;
CREATE INDEX transactions_user_time_idx ON transactions (user_id, occurred_at DESC)
    INCLUDE (amount, merchant_id, device_id, country, latitude, longitude);

-- Device and payee features: distinct users on one device, distinct payers
-- of one merchant, each a bounded range scan of that key's latest payments.
CREATE INDEX transactions_device_time_idx ON transactions (device_id, occurred_at DESC) INCLUDE (user_id) WHERE device_id IS NOT NULL;
CREATE INDEX transactions_merchant_time_idx ON transactions (merchant_id, occurred_at DESC) INCLUDE (user_id) WHERE merchant_id IS NOT NULL;

-- Rule packs seeded once each: a pack's rules are then the operator's to
-- edit, and a restart never brings back one they renamed.
CREATE TABLE rule_packs (
    name       text        PRIMARY KEY,
    seeded_at  timestamptz NOT NULL DEFAULT now()
);
-- Installations from before packs had the seed rules already.
INSERT INTO rule_packs (name) SELECT 'seed' WHERE EXISTS (SELECT 1 FROM rules WHERE builtin);
