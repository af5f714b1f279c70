-- Entity features (issue 17): per IP address and subnet, per merchant, and
-- the user's longer baselines, each a bounded range scan of one key's latest
-- payments (see featuresSQL). On a large live table, build the indexes
-- CONCURRENTLY by hand first; adding the stored column rewrites the table.

-- ip_prefix is the /24 of an IPv4 address (an IPv4-mapped IPv6 address
-- counts as its IPv4 one) or the /48 of an IPv6 address, as text; NULL for
-- none or for text that is no address (the service only stores canonical
-- addresses, but the table may hold older rows).
CREATE FUNCTION ip_prefix(ip text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    a inet;
BEGIN
    a := ip::inet;
    IF family(a) = 6 AND a << '::ffff:0:0/96'::inet THEN
        a := split_part(host(a), ':', 4)::inet;
    END IF;
    RETURN network(set_masklen(a, CASE family(a) WHEN 4 THEN 24 ELSE 48 END))::text;
EXCEPTION WHEN invalid_text_representation THEN
    RETURN NULL;
END $$;

-- Generated, so every writer (the submission, bulk loads) fills it unasked.
ALTER TABLE transactions ADD COLUMN ip_prefix text GENERATED ALWAYS AS (ip_prefix(ip_address)) STORED;

CREATE INDEX transactions_ip_time_idx ON transactions (ip_address, occurred_at DESC)
    INCLUDE (user_id, device_id) WHERE ip_address IS NOT NULL;
CREATE INDEX transactions_ip_prefix_time_idx ON transactions (ip_prefix, occurred_at DESC)
    INCLUDE (user_id, device_id) WHERE ip_prefix IS NOT NULL;

-- The merchant's window reads its payers' devices and amounts from the index too.
DROP INDEX transactions_merchant_time_idx;
CREATE INDEX transactions_merchant_time_idx ON transactions (merchant_id, occurred_at DESC)
    INCLUDE (user_id, device_id, amount) WHERE merchant_id IS NOT NULL;

-- The user's windows read merchant categories (travel booked, category
-- novelty) from the index as well.
DROP INDEX transactions_user_time_idx;
CREATE INDEX transactions_user_time_idx ON transactions (user_id, occurred_at DESC)
    INCLUDE (amount, merchant_id, device_id, country, latitude, longitude, merchant_category);
