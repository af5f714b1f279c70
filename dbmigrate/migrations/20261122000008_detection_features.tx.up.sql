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
