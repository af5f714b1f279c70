package store

import "time"

// FeatureRow is what the database contributes to a feature vector, as of one instant.
type FeatureRow struct {
	TxCount10m   int
	TxCount1h    int
	TxCount24h   int
	TxCount7d    int
	Amount10m    float64
	Amount1h     float64
	Amount24h    float64
	Amount7d     float64
	TopMerchants []string
	DeviceID     *int64
	DeviceStatus *string
	DeviceFirst  *time.Time
	DeviceUsers  int
	DeviceSeen   bool
	PrevLat      *float64
	PrevLon      *float64
	PrevCountry  *string
	PrevAt       *time.Time
}

// featuresSQL reads everything the database contributes to a feature vector
// for user $1 at time $2 and device fingerprint $3 (empty for none), in the
// order of FeatureRow's fields. Only what occurred at or before $2 counts
// (event time), and every part is a bounded index range scan over the last 7
// days (30 for the previous location), so its cost doesn't grow with a
// user's history.
//
// It runs as a prepared statement with a generic plan (planning it anew took
// five times as long as running it), and a generic plan can't see how much of
// the table a time window holds: it assumes a sliver, so on a young table it
// would read the window of every user through transactions_time_idx, or a
// user's whole history through the primary key. Hence the two nudges that
// leave transactions_user_time_idx the only good path: the upper time bound
// is written "(occurred_at <= $2) IS TRUE", which no index can use, so a
// time-only scan looks like a third of the table; and the scans ask for
// occurred_at DESC order, which the primary key can't give.
// TestFeaturesPlan checks the plan.
const featuresSQL = `
WITH w AS (
	SELECT amount, merchant_id, device_fingerprint, occurred_at FROM transactions
	WHERE user_id = $1 AND occurred_at > $2::timestamptz - interval '7 days' AND (occurred_at <= $2) IS TRUE
	ORDER BY occurred_at DESC
), agg AS (
	SELECT
		count(*) FILTER (WHERE occurred_at > $2::timestamptz - interval '10 minutes') AS tx_count_10m,
		count(*) FILTER (WHERE occurred_at > $2::timestamptz - interval '1 hour') AS tx_count_1h,
		count(*) FILTER (WHERE occurred_at > $2::timestamptz - interval '24 hours') AS tx_count_24h,
		count(*) AS tx_count_7d,
		coalesce(sum(amount) FILTER (WHERE occurred_at > $2::timestamptz - interval '10 minutes'), 0) AS amount_10m,
		coalesce(sum(amount) FILTER (WHERE occurred_at > $2::timestamptz - interval '1 hour'), 0) AS amount_1h,
		coalesce(sum(amount) FILTER (WHERE occurred_at > $2::timestamptz - interval '24 hours'), 0) AS amount_24h,
		coalesce(sum(amount), 0) AS amount_7d,
		bool_or(device_fingerprint = $3 AND occurred_at < $2) AS device_in_tx
	FROM w
), dev AS (
	SELECT id, status, first_seen_at FROM devices WHERE fingerprint = $3
), prev AS (
	SELECT lat, lon, country, at FROM (
		(SELECT latitude AS lat, longitude AS lon, country, occurred_at AS at FROM transactions
		 WHERE user_id = $1 AND occurred_at > $2::timestamptz - interval '30 days' AND (occurred_at <= $2) IS TRUE AND latitude IS NOT NULL
		 ORDER BY occurred_at DESC LIMIT 1)
		UNION ALL
		(SELECT latitude, longitude, country, created_at FROM login_logs
		 WHERE user_id = $1 AND success AND created_at <= $2 AND created_at > $2::timestamptz - interval '30 days' AND latitude IS NOT NULL
		 ORDER BY created_at DESC LIMIT 1)
	) p ORDER BY at DESC LIMIT 1
)
SELECT agg.tx_count_10m, agg.tx_count_1h, agg.tx_count_24h, agg.tx_count_7d,
	agg.amount_10m, agg.amount_1h, agg.amount_24h, agg.amount_7d,
	ARRAY(SELECT merchant_id FROM w WHERE merchant_id IS NOT NULL
	      GROUP BY merchant_id ORDER BY count(*) DESC, merchant_id LIMIT 5) AS top_merchants,
	dev.id AS device_id, dev.status AS device_status, dev.first_seen_at AS device_first_seen,
	(SELECT count(*) FROM user_devices ud WHERE ud.device_id = dev.id AND ud.user_id <> $1 AND ud.first_seen_at <= $2) AS device_users,
	coalesce(agg.device_in_tx, false) OR EXISTS (
		SELECT 1 FROM login_logs l WHERE l.user_id = $1 AND l.success AND l.device_fingerprint = $3
		AND l.created_at > $2::timestamptz - interval '7 days' AND l.created_at < $2
	) AS device_seen,
	prev.lat AS prev_lat, prev.lon AS prev_lon, prev.country AS prev_country, prev.at AS prev_at
FROM agg LEFT JOIN dev ON true LEFT JOIN prev ON true`
