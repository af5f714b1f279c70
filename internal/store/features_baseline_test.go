package store_test

// featuresSQLBeforeIssue17 is the feature statement as it was before issue
// 17's entity, multi-day and baseline features (internal/store/features.go
// at 862fdc6, the parent of their commit f523627): the documented baseline BenchmarkFeatureReadEntityCost
// measures the current featuresSQL against. Parameters $1 to $6 as today's
// (user, time, fingerprint, small amount, merchant, country). It runs on
// today's schema: the migration that came with the features only added
// columns and widened indexes it reads.
const featuresSQLBeforeIssue17 = `
WITH dev AS (
	SELECT id, status, first_seen_at FROM devices WHERE fingerprint = $3
), arrival AS (
	-- When this user came to the device (now, if this is the first time), and
	-- never before their account existed. Other users count toward the device's
	-- user counts only if they came no later than a day after: a ring's
	-- accounts arrive together, while newcomers (throwaway accounts borrowing
	-- an established customer's fingerprint) can't make that customer look
	-- like one of a ring. Backdated payments can't pass for an earlier arrival.
	SELECT greatest(coalesce(
		(SELECT ud.first_seen_at FROM user_devices ud WHERE ud.user_id = $1 AND ud.device_id = (SELECT id FROM dev) AND ud.first_seen_at <= $2),
		$2::timestamptz), (SELECT created_at FROM users WHERE id = $1)) + interval '1 day' AS latest_peer
), peers AS (
	SELECT ud.user_id FROM user_devices ud JOIN users u ON u.id = ud.user_id
	WHERE ud.device_id = (SELECT id FROM dev) AND ud.user_id <> $1 AND ud.first_seen_at <= $2
		AND greatest(ud.first_seen_at, u.created_at) <= (SELECT latest_peer FROM arrival)
), w AS (
	SELECT amount, merchant_id, device_id, country, latitude, longitude, occurred_at FROM transactions
	WHERE user_id = $1 AND occurred_at > $2::timestamptz - interval '30 days' AND (occurred_at <= $2) IS TRUE
	ORDER BY occurred_at DESC
), agg AS (
	SELECT
		count(*) FILTER (WHERE occurred_at > $2::timestamptz - interval '10 minutes') AS tx_count_10m,
		count(*) FILTER (WHERE occurred_at > $2::timestamptz - interval '1 hour') AS tx_count_1h,
		count(*) FILTER (WHERE occurred_at > $2::timestamptz - interval '24 hours') AS tx_count_24h,
		count(*) FILTER (WHERE occurred_at > $2::timestamptz - interval '7 days') AS tx_count_7d,
		count(*) AS tx_count_30d,
		coalesce(sum(amount) FILTER (WHERE occurred_at > $2::timestamptz - interval '10 minutes'), 0) AS amount_10m,
		coalesce(sum(amount) FILTER (WHERE occurred_at > $2::timestamptz - interval '1 hour'), 0) AS amount_1h,
		coalesce(sum(amount) FILTER (WHERE occurred_at > $2::timestamptz - interval '24 hours'), 0) AS amount_24h,
		coalesce(sum(amount) FILTER (WHERE occurred_at > $2::timestamptz - interval '7 days'), 0) AS amount_7d,
		coalesce(avg(amount), 0) AS avg_amount_30d,
		coalesce(max(amount), 0) AS max_amount_30d,
		count(*) FILTER (WHERE occurred_at > $2::timestamptz - interval '10 minutes' AND amount < $4::numeric) AS small_count_10m,
		count(DISTINCT merchant_id) FILTER (WHERE occurred_at > $2::timestamptz - interval '10 minutes' AND merchant_id <> $5::text) AS other_merchants_10m,
		max(occurred_at) AS prev_tx_at,
		count(country) AS located_30d,
		coalesce(bool_or(upper(country) = upper($6::text)), false) AS country_seen_30d,
		bool_or(device_id = (SELECT id FROM dev) AND occurred_at < $2 AND occurred_at > $2::timestamptz - interval '7 days') AS device_in_tx
	FROM w
), dev_users AS (
	SELECT count(DISTINCT user_id) FILTER (WHERE occurred_at > $2::timestamptz - interval '24 hours') AS others_24h,
		count(DISTINCT user_id) AS others_7d
	FROM (SELECT user_id, occurred_at FROM transactions
		WHERE device_id = (SELECT id FROM dev) AND occurred_at > $2::timestamptz - interval '7 days' AND (occurred_at <= $2) IS TRUE
		ORDER BY occurred_at DESC LIMIT 200) x
	WHERE user_id <> $1 AND user_id IN (SELECT user_id FROM peers)
), dev_day AS (
	SELECT count(*) AS tx_count, coalesce(sum(amount), 0) AS amount
	FROM (SELECT amount FROM transactions
		WHERE device_id = (SELECT id FROM dev) AND occurred_at > $2::timestamptz - interval '24 hours' AND (occurred_at <= $2) IS TRUE
		ORDER BY occurred_at DESC LIMIT 1000) x
), payee AS (
	SELECT count(DISTINCT user_id) AS others_24h
	FROM (SELECT user_id FROM transactions
		WHERE merchant_id = $5 AND occurred_at > $2::timestamptz - interval '24 hours' AND (occurred_at <= $2) IS TRUE
		ORDER BY occurred_at DESC LIMIT 200) x
	WHERE user_id <> $1
), prev AS (
	SELECT lat, lon, country, at FROM (
		(SELECT latitude AS lat, longitude AS lon, country, occurred_at AS at FROM w
		 WHERE latitude IS NOT NULL ORDER BY occurred_at DESC LIMIT 1)
		UNION ALL
		(SELECT latitude, longitude, country, created_at FROM login_logs
		 WHERE user_id = $1 AND success AND created_at <= $2 AND created_at > $2::timestamptz - interval '30 days' AND latitude IS NOT NULL
		 ORDER BY created_at DESC LIMIT 1)
	) p ORDER BY at DESC LIMIT 1
)
SELECT agg.tx_count_10m, agg.tx_count_1h, agg.tx_count_24h, agg.tx_count_7d, agg.tx_count_30d,
	agg.amount_10m, agg.amount_1h, agg.amount_24h, agg.amount_7d, agg.avg_amount_30d, agg.max_amount_30d,
	agg.small_count_10m, agg.other_merchants_10m,
	ARRAY(SELECT merchant_id FROM w WHERE merchant_id IS NOT NULL AND occurred_at > $2::timestamptz - interval '7 days'
	      GROUP BY merchant_id ORDER BY count(*) DESC, merchant_id LIMIT 5) AS top_merchants,
	-- The previous transaction beyond the window is looked up only when the window is empty.
	coalesce(agg.prev_tx_at, (SELECT occurred_at FROM transactions
		WHERE user_id = $1 AND (occurred_at <= $2::timestamptz - interval '30 days') IS TRUE
		ORDER BY occurred_at DESC LIMIT 1)) AS prev_tx_at,
	agg.located_30d, agg.country_seen_30d,
	dev.id AS device_id, dev.status AS device_status, dev.first_seen_at AS device_first_seen,
	(SELECT count(*) FROM peers) AS device_users,
	coalesce(agg.device_in_tx, false) OR EXISTS (
		SELECT 1 FROM login_logs l WHERE l.user_id = $1 AND l.success AND l.device_fingerprint = $3
		AND l.created_at > $2::timestamptz - interval '7 days' AND l.created_at < $2
	) AS device_seen,
	(SELECT ud.first_seen_at FROM user_devices ud WHERE ud.user_id = $1 AND ud.device_id = dev.id AND ud.first_seen_at <= $2) AS user_device_first,
	dev_users.others_24h, dev_users.others_7d, dev_day.tx_count, dev_day.amount,
	-- The device's previous sighting by anyone: two single index probes.
	greatest(
		(SELECT occurred_at FROM transactions WHERE device_id = dev.id AND occurred_at <= $2
		 ORDER BY occurred_at DESC LIMIT 1),
		(SELECT created_at FROM login_logs WHERE device_fingerprint = $3 AND $3 <> '' AND success AND created_at <= $2
		 ORDER BY created_at DESC LIMIT 1)) AS device_last_seen,
	payee.others_24h,
	(SELECT occurred_at FROM transactions WHERE merchant_id = $5 AND occurred_at <= $2
		ORDER BY occurred_at LIMIT 1) AS merchant_first,
	prev.lat AS prev_lat, prev.lon AS prev_lon, prev.country AS prev_country, prev.at AS prev_at
FROM agg, dev_users, dev_day, payee LEFT JOIN dev ON true LEFT JOIN prev ON true`
