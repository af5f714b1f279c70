package store

import "time"

// FeatureRow is what the database contributes to a feature vector, as of one instant.
type FeatureRow struct {
	TxCount10m   int
	TxCount1h    int
	TxCount24h   int
	TxCount7d    int
	TxCount30d   int
	Amount10m    float64
	Amount1h     float64
	Amount24h    float64
	Amount7d     float64
	AvgAmount30d float64
	MaxAmount30d float64
	// SmallCount10m and OtherMerchants10m leave out the transaction being
	// scored, which isn't stored yet; OtherMerchants10m also leaves out its merchant.
	SmallCount10m     int
	OtherMerchants10m int
	TopMerchants      []string
	PrevTxAt          *time.Time
	// Located30d counts the user's transactions with a country in 30 days, CountrySeen30d whether one was in this country.
	Located30d      int
	CountrySeen30d  bool
	DeviceID        *int64
	DeviceStatus    *string
	DeviceFirst     *time.Time
	DeviceUsers     int
	DeviceSeen      bool
	UserDeviceFirst *time.Time
	// DeviceUsers, DeviceOthers24h and DeviceOthers7d count other users seen,
	// and transacting, on the device — only those who came to it by a day
	// after this user did (see featuresSQL).
	DeviceOthers24h int
	DeviceOthers7d  int
	// DeviceTx24h and DeviceAmount24h are every user's stored payments on the
	// device in 24 hours; DeviceLastSeen its latest sighting (transaction or
	// successful login, anyone's) at or before the instant.
	DeviceTx24h     int
	DeviceAmount24h float64
	DeviceLastSeen  *time.Time
	// MerchantOthers24h counts other users paying the merchant.
	MerchantOthers24h int
	MerchantFirst     *time.Time
	PrevLat           *float64
	PrevLon           *float64
	PrevCountry       *string
	PrevAt            *time.Time
	// The issue 17 features, this transaction included where it qualifies
	// (FeatureQuery gives its amount, address, place and category); see the
	// engine's features of the same names. DeviceDaysUsed30d,
	// Spend30dBefore7d and the History* counts are the raw inputs of derived ones.
	DeviceAccounts1h      int
	DeviceDaysUsed30d     int
	NearLineCount7d       int
	Spend30dBefore7d      float64
	NewMerchants24h       int
	NewMerchants72h       int
	History90d            int
	HistoryBelow          int
	HistoryNearHour       int
	CategorySeen90d       bool
	TravelBooked          bool
	LoginNearDestination  bool
	MerchantPayers10m     int
	MerchantPayers1h      int
	MerchantNewDevices10m int
	MerchantNewDevices1h  int
	MerchantTinyShare1h   float64
	// MerchantPayerMedianAge1h is in days; -1 without a merchant.
	MerchantPayerMedianAge1h float64
	IPUsers10m               int
	IPUsers24h               int
	IPDevices10m             int
	IPDevices24h             int
	SubnetUsers10m           int
	SubnetUsers24h           int
	SubnetDevices10m         int
	SubnetDevices24h         int
}

// dest lists the row's fields in featuresSQL's column order, for Scan.
// scanner scans a feature read's row into f.
func (f *FeatureRow) scanner() plannedScan { return plannedScan{stmtFeatures, f.dest()} }

func (f *FeatureRow) dest() []any {
	return []any{&f.TxCount10m, &f.TxCount1h, &f.TxCount24h, &f.TxCount7d, &f.TxCount30d,
		&f.Amount10m, &f.Amount1h, &f.Amount24h, &f.Amount7d, &f.AvgAmount30d, &f.MaxAmount30d,
		&f.SmallCount10m, &f.OtherMerchants10m, &f.TopMerchants, &f.PrevTxAt, &f.Located30d, &f.CountrySeen30d,
		&f.DeviceID, &f.DeviceStatus, &f.DeviceFirst, &f.DeviceUsers, &f.DeviceSeen, &f.UserDeviceFirst,
		&f.DeviceOthers24h, &f.DeviceOthers7d, &f.DeviceTx24h, &f.DeviceAmount24h, &f.DeviceLastSeen,
		&f.MerchantOthers24h, &f.MerchantFirst,
		&f.PrevLat, &f.PrevLon, &f.PrevCountry, &f.PrevAt,
		&f.DeviceAccounts1h, &f.DeviceDaysUsed30d, &f.NearLineCount7d, &f.Spend30dBefore7d, &f.NewMerchants24h, &f.NewMerchants72h,
		&f.History90d, &f.HistoryBelow, &f.HistoryNearHour, &f.CategorySeen90d, &f.TravelBooked, &f.LoginNearDestination,
		&f.MerchantPayers10m, &f.MerchantPayers1h, &f.MerchantNewDevices10m, &f.MerchantNewDevices1h,
		&f.MerchantTinyShare1h, &f.MerchantPayerMedianAge1h,
		&f.IPUsers10m, &f.IPUsers24h, &f.IPDevices10m, &f.IPDevices24h,
		&f.SubnetUsers10m, &f.SubnetUsers24h, &f.SubnetDevices10m, &f.SubnetDevices24h}
}

// FeatureQuery names what a feature read is about; empty strings mean none.
type FeatureQuery struct {
	UserID      int64
	At          time.Time
	Fingerprint string
	Merchant    string
	Country     string
	// SmallAmount is the bound under which an amount counts as small.
	SmallAmount float64
	// IPAddress is the client's canonical address; NearLine the line
	// user.nearLineCount7d counts amounts just under.
	IPAddress string
	NearLine  float64
	// MerchantCategory, Amount and the place (Latitude and Longitude, nil
	// for none) are this transaction's.
	MerchantCategory    string
	Amount              float64
	Latitude, Longitude *float64
}

// featureArgs are featuresSQL's parameters for qs, one array per field.
func featureArgs(qs []FeatureQuery) []any {
	n := len(qs)
	users, ats := make([]int64, n), make([]time.Time, n)
	fingerprints, merchants, countries, ips, categories := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	small, nearLines, amounts := make([]float64, n), make([]float64, n), make([]float64, n)
	lats, lons := make([]*float64, n), make([]*float64, n)
	for i, q := range qs {
		users[i], ats[i], fingerprints[i], small[i], merchants[i], countries[i] = q.UserID, q.At, q.Fingerprint, q.SmallAmount, q.Merchant, q.Country
		ips[i], nearLines[i], categories[i], amounts[i], lats[i], lons[i] = q.IPAddress, q.NearLine, q.MerchantCategory, q.Amount, q.Latitude, q.Longitude
	}
	return []any{users, ats, fingerprints, small, merchants, countries, ips, nearLines, categories, amounts, lats, lons}
}

// featuresSQL reads everything the database contributes to a feature vector,
// for each of several queries (q, one element of each array parameter per
// query: FeatureQuery's fields in featureArgs' order), one row per query in
// their order, in the order of FeatureRow's fields (FeatureRow.dest): for
// user q.user_id at time q.at, device fingerprint q.fingerprint (empty for
// none), small amounts under q.small_amount, merchant q.merchant, country
// q.country and IP address q.ip (empty for none), the near line q.near_line,
// merchant category q.category (empty for none), amount q.amount and place
// q.lat, q.lon (NULL for none). A group commit reads all its members in one
// execution: starting and ending the executor for this plan cost more than
// a member's reads, and now they are paid once per group (a member cost 40%
// less in groups of three, 54% less in groups of eight). Each member's read
// is the same as alone: members are distinct users, read before any write.
// Only what occurred at or before q.at counts (event
// time), and every part is a bounded index range scan — the user's last 37
// days and latest 200 in 90, the device's, the merchant's, the IP address's
// and its subnet's latest 200 payments in their window (the device's latest
// 1,000 for its 24-hour totals), the user's logins in 24 hours — or a single
// index probe, so its cost doesn't grow with history. The user's
// window is read from the index alone (its INCLUDE columns) where the table's
// pages are settled.
//
// It runs as a prepared statement with a generic plan (planning it anew took
// five times as long as running it), and a generic plan can't see how much of
// the table a time window holds: it assumes a sliver, so on a young table it
// would read the window of every user through transactions_time_idx, or a
// user's whole history through the primary key. Hence the two nudges that
// leave the user, device and merchant indexes the only good paths: the upper
// time bound is written "(occurred_at <= q.at) IS TRUE", which no index can use,
// so a time-only scan looks like a third of the table; and the scans ask for
// occurred_at DESC order, which the primary key can't give.
// TestFeaturesPlan checks the plan.
const featuresSQL = `
SELECT f.* FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::numeric[], $5::text[], $6::text[], $7::text[], $8::numeric[],
		$9::text[], $10::numeric[], $11::float8[], $12::float8[])
	WITH ORDINALITY AS q(user_id, at, fingerprint, small_amount, merchant, country, ip, near_line, category, amount, lat, lon, ord)
CROSS JOIN LATERAL (
	WITH dev AS (
		SELECT id, status, first_seen_at FROM devices WHERE fingerprint = q.fingerprint
	), arrival AS (
		-- When this user came to the device (now, if this is the first time), and
		-- never before their account existed. Other users count toward the device's
		-- user counts only if they came no later than a day after: a ring's
		-- accounts arrive together, while newcomers (throwaway accounts borrowing
		-- an established customer's fingerprint) can't make that customer look
		-- like one of a ring. Backdated payments can't pass for an earlier arrival.
		SELECT greatest(coalesce(
			(SELECT ud.first_seen_at FROM user_devices ud WHERE ud.user_id = q.user_id AND ud.device_id = (SELECT id FROM dev) AND ud.first_seen_at <= q.at),
			q.at), (SELECT created_at FROM users WHERE id = q.user_id)) + interval '1 day' AS latest_peer
	), peers AS (
		SELECT ud.user_id FROM user_devices ud JOIN users u ON u.id = ud.user_id
		WHERE ud.device_id = (SELECT id FROM dev) AND ud.user_id <> q.user_id AND ud.first_seen_at <= q.at
			AND greatest(ud.first_seen_at, u.created_at) <= (SELECT latest_peer FROM arrival)
	), w AS (
		SELECT amount, merchant_id, device_id, country, latitude, longitude, merchant_category, occurred_at FROM transactions
		WHERE user_id = q.user_id AND occurred_at > q.at - interval '30 days' AND (occurred_at <= q.at) IS TRUE
		ORDER BY occurred_at DESC
	), wx AS (
		-- The 7 days before w: with w, the 30 days before the last 7 and before the last 72 hours.
		SELECT amount, merchant_id, occurred_at FROM transactions
		WHERE user_id = q.user_id AND occurred_at > q.at - interval '37 days' AND (occurred_at <= q.at - interval '30 days') IS TRUE
		ORDER BY occurred_at DESC
	), agg AS (
		SELECT
			count(*) FILTER (WHERE occurred_at > q.at - interval '10 minutes') AS tx_count_10m,
			count(*) FILTER (WHERE occurred_at > q.at - interval '1 hour') AS tx_count_1h,
			count(*) FILTER (WHERE occurred_at > q.at - interval '24 hours') AS tx_count_24h,
			count(*) FILTER (WHERE occurred_at > q.at - interval '7 days') AS tx_count_7d,
			count(*) AS tx_count_30d,
			coalesce(sum(amount) FILTER (WHERE occurred_at > q.at - interval '10 minutes'), 0) AS amount_10m,
			coalesce(sum(amount) FILTER (WHERE occurred_at > q.at - interval '1 hour'), 0) AS amount_1h,
			coalesce(sum(amount) FILTER (WHERE occurred_at > q.at - interval '24 hours'), 0) AS amount_24h,
			coalesce(sum(amount) FILTER (WHERE occurred_at > q.at - interval '7 days'), 0) AS amount_7d,
			coalesce(avg(amount), 0) AS avg_amount_30d,
			coalesce(max(amount), 0) AS max_amount_30d,
			count(*) FILTER (WHERE occurred_at > q.at - interval '10 minutes' AND amount < q.small_amount) AS small_count_10m,
			count(DISTINCT merchant_id) FILTER (WHERE occurred_at > q.at - interval '10 minutes' AND merchant_id <> q.merchant) AS other_merchants_10m,
			max(occurred_at) AS prev_tx_at,
			count(country) AS located_30d,
			coalesce(bool_or(upper(country) = upper(q.country)), false) AS country_seen_30d,
			bool_or(device_id = (SELECT id FROM dev) AND occurred_at < q.at AND occurred_at > q.at - interval '7 days') AS device_in_tx,
			count(DISTINCT (occurred_at AT TIME ZONE 'UTC')::date) FILTER (WHERE device_id = (SELECT id FROM dev) AND occurred_at < q.at) AS device_days_30d,
			count(*) FILTER (WHERE occurred_at > q.at - interval '7 days' AND amount >= 0.9 * q.near_line AND amount < q.near_line)
				+ CASE WHEN q.amount >= 0.9 * q.near_line AND q.amount < q.near_line THEN 1 ELSE 0 END AS near_line_7d,
			coalesce(sum(amount) FILTER (WHERE occurred_at <= q.at - interval '7 days'), 0) AS amount_23d_before_7d,
			coalesce(bool_or(occurred_at > q.at - interval '14 days'
				AND lower(merchant_category) IN ('travel', 'airline', 'airfare', 'hotel', 'lodging', 'car_rental')), false) AS travel_booked
		FROM w
	), new_merchants AS (
		-- A merchant is new in a window if the user paid it there (this payment
		-- included) but not in the 30 days before the window started.
		SELECT count(*) FILTER (WHERE in_24h AND NOT before_24h) AS new_24h, count(*) FILTER (WHERE in_72h AND NOT before_72h) AS new_72h
		FROM (
			SELECT bool_or(occurred_at > q.at - interval '24 hours') AS in_24h,
				bool_or(occurred_at > q.at - interval '72 hours') AS in_72h,
				bool_or(occurred_at <= q.at - interval '24 hours' AND occurred_at > q.at - interval '31 days') AS before_24h,
				bool_or(occurred_at <= q.at - interval '72 hours' AND occurred_at > q.at - interval '33 days') AS before_72h
			FROM (SELECT merchant_id, occurred_at FROM w UNION ALL SELECT merchant_id, occurred_at FROM wx
				UNION ALL SELECT q.merchant, q.at WHERE q.merchant <> '') m
			WHERE merchant_id IS NOT NULL
			GROUP BY merchant_id
		) g
	), hist AS (
		-- The user's personal baselines: the latest 200 previous payments in 90 days.
		SELECT count(*) AS n,
			count(*) FILTER (WHERE amount < q.amount) AS below,
			count(*) FILTER (WHERE least(abs(h - extract(hour FROM q.at AT TIME ZONE 'UTC')),
				24 - abs(h - extract(hour FROM q.at AT TIME ZONE 'UTC'))) <= 1) AS near_hour,
			coalesce(bool_or(lower(merchant_category) = lower(q.category)), false) AS category_seen
		FROM (SELECT amount, merchant_category, extract(hour FROM occurred_at AT TIME ZONE 'UTC') AS h FROM transactions
			WHERE user_id = q.user_id AND occurred_at > q.at - interval '90 days' AND (occurred_at <= q.at) IS TRUE
			ORDER BY occurred_at DESC LIMIT 200) x
	), dev_users AS (
		SELECT count(DISTINCT user_id) FILTER (WHERE occurred_at > q.at - interval '24 hours') AS others_24h,
			count(DISTINCT user_id) AS others_7d
		FROM (SELECT user_id, occurred_at FROM transactions
			WHERE device_id = (SELECT id FROM dev) AND occurred_at > q.at - interval '7 days' AND (occurred_at <= q.at) IS TRUE
			ORDER BY occurred_at DESC LIMIT 200) x
		WHERE user_id <> q.user_id AND user_id IN (SELECT user_id FROM peers)
	), dev_day AS (
		SELECT count(*) AS tx_count, coalesce(sum(amount), 0) AS amount,
			count(DISTINCT user_id) FILTER (WHERE occurred_at > q.at - interval '1 hour' AND user_id <> q.user_id)
				+ CASE WHEN q.fingerprint <> '' THEN 1 ELSE 0 END AS accounts_1h
		FROM (SELECT amount, user_id, occurred_at FROM transactions
			WHERE device_id = (SELECT id FROM dev) AND occurred_at > q.at - interval '24 hours' AND (occurred_at <= q.at) IS TRUE
			ORDER BY occurred_at DESC LIMIT 1000) x
	), pay AS (
		SELECT user_id, device_id, amount, occurred_at, device_first_seen_at, user_created_at FROM transactions
		WHERE merchant_id = q.merchant AND occurred_at > q.at - interval '24 hours' AND (occurred_at <= q.at) IS TRUE
		ORDER BY occurred_at DESC LIMIT 200
	), payee AS (
		SELECT count(DISTINCT user_id) AS others_24h FROM pay WHERE user_id <> q.user_id
	), pay_1h AS (
		-- The merchant's latest 50 payments in the last hour, this one included
		-- (the payers are counted over all 200); a device is new if first seen
		-- (by anyone) under 24 hours before the payment. Each payment carries its
		-- device's first sighting and its payer's creation as recorded when it
		-- was written, in the index, so the hour costs no look-ups; rows written
		-- before those were recorded look them up. This payment's device may not
		-- be stored yet: its key is then ''.
		SELECT p.user_id, p.amount, p.occurred_at, p.device_id::text AS device_key,
			coalesce(p.device_first_seen_at, (SELECT first_seen_at FROM devices WHERE id = p.device_id)) > p.occurred_at - interval '24 hours' AS new_device,
			coalesce(p.user_created_at, (SELECT created_at FROM users WHERE id = p.user_id)) AS user_created_at
		FROM (SELECT * FROM pay WHERE occurred_at > q.at - interval '1 hour' ORDER BY occurred_at DESC LIMIT 50) p
		UNION ALL
		SELECT q.user_id, q.amount, q.at, CASE WHEN q.fingerprint <> '' THEN coalesce((SELECT id FROM dev)::text, '') END,
			q.fingerprint <> '' AND coalesce((SELECT first_seen_at FROM dev) > q.at - interval '24 hours', true),
			(SELECT created_at FROM users WHERE id = q.user_id)
		WHERE q.merchant <> ''
	), merchant AS (
		SELECT (SELECT count(DISTINCT user_id) FILTER (WHERE occurred_at > q.at - interval '10 minutes' AND user_id <> q.user_id) FROM pay)
				+ CASE WHEN q.merchant <> '' THEN 1 ELSE 0 END AS payers_10m,
			(SELECT count(DISTINCT user_id) FILTER (WHERE occurred_at > q.at - interval '1 hour' AND user_id <> q.user_id) FROM pay)
				+ CASE WHEN q.merchant <> '' THEN 1 ELSE 0 END AS payers_1h,
			count(DISTINCT device_key) FILTER (WHERE new_device AND occurred_at > q.at - interval '10 minutes') AS new_devices_10m,
			count(DISTINCT device_key) FILTER (WHERE new_device) AS new_devices_1h,
			coalesce(count(*) FILTER (WHERE amount < q.small_amount)::float8 / nullif(count(*), 0), 0) AS tiny_share_1h,
			coalesce((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY greatest(extract(epoch FROM q.at - u.created_at), 0) / 86400)
				FROM (SELECT min(user_created_at) AS created_at FROM pay_1h GROUP BY user_id) u), -1) AS payer_median_age_1h
		FROM pay_1h
	), ip AS (
		-- The address's and its subnet's users and devices, this payment's included.
		SELECT count(DISTINCT user_id) FILTER (WHERE exact AND occurred_at > q.at - interval '10 minutes') AS users_10m,
			count(DISTINCT user_id) FILTER (WHERE exact) AS users_24h,
			count(DISTINCT device_key) FILTER (WHERE exact AND occurred_at > q.at - interval '10 minutes') AS devices_10m,
			count(DISTINCT device_key) FILTER (WHERE exact) AS devices_24h,
			count(DISTINCT user_id) FILTER (WHERE subnet AND occurred_at > q.at - interval '10 minutes') AS subnet_users_10m,
			count(DISTINCT user_id) FILTER (WHERE subnet) AS subnet_users_24h,
			count(DISTINCT device_key) FILTER (WHERE subnet AND occurred_at > q.at - interval '10 minutes') AS subnet_devices_10m,
			count(DISTINCT device_key) FILTER (WHERE subnet) AS subnet_devices_24h
		FROM (
			(SELECT true AS exact, false AS subnet, user_id, device_id::text AS device_key, occurred_at FROM transactions
			 WHERE ip_address = q.ip AND occurred_at > q.at - interval '24 hours' AND (occurred_at <= q.at) IS TRUE
			 ORDER BY occurred_at DESC LIMIT 200)
			UNION ALL
			(SELECT false, true, user_id, device_id::text, occurred_at FROM transactions
			 WHERE ip_prefix = ip_prefix(q.ip) AND occurred_at > q.at - interval '24 hours' AND (occurred_at <= q.at) IS TRUE
			 ORDER BY occurred_at DESC LIMIT 200)
			UNION ALL
			SELECT true, ip_prefix(q.ip) IS NOT NULL, q.user_id, CASE WHEN q.fingerprint <> '' THEN coalesce((SELECT id FROM dev)::text, '') END, q.at
			WHERE q.ip <> ''
		) x
	), prev AS (
		SELECT lat, lon, country, at FROM (
			(SELECT latitude AS lat, longitude AS lon, country, occurred_at AS at FROM w
			 WHERE latitude IS NOT NULL ORDER BY occurred_at DESC LIMIT 1)
			UNION ALL
			(SELECT latitude, longitude, country, created_at FROM login_logs
			 WHERE user_id = q.user_id AND success AND created_at <= q.at AND created_at > q.at - interval '30 days' AND latitude IS NOT NULL
			 ORDER BY created_at DESC LIMIT 1)
		) p ORDER BY at DESC LIMIT 1
	)
	SELECT agg.tx_count_10m, agg.tx_count_1h, agg.tx_count_24h, agg.tx_count_7d, agg.tx_count_30d,
		agg.amount_10m, agg.amount_1h, agg.amount_24h, agg.amount_7d, agg.avg_amount_30d, agg.max_amount_30d,
		agg.small_count_10m, agg.other_merchants_10m,
		ARRAY(SELECT merchant_id FROM w WHERE merchant_id IS NOT NULL AND occurred_at > q.at - interval '7 days'
		      GROUP BY merchant_id ORDER BY count(*) DESC, merchant_id LIMIT 5) AS top_merchants,
		-- The previous transaction beyond the window is looked up only when the window is empty.
		coalesce(agg.prev_tx_at, (SELECT occurred_at FROM transactions
			WHERE user_id = q.user_id AND (occurred_at <= q.at - interval '30 days') IS TRUE
			ORDER BY occurred_at DESC LIMIT 1)) AS prev_tx_at,
		agg.located_30d, agg.country_seen_30d,
		dev.id AS device_id, dev.status AS device_status, dev.first_seen_at AS device_first_seen,
		(SELECT count(*) FROM peers) AS device_users,
		coalesce(agg.device_in_tx, false) OR EXISTS (
			SELECT 1 FROM login_logs l WHERE l.user_id = q.user_id AND l.success AND l.device_fingerprint = q.fingerprint
			AND l.created_at > q.at - interval '7 days' AND l.created_at < q.at
		) AS device_seen,
		(SELECT ud.first_seen_at FROM user_devices ud WHERE ud.user_id = q.user_id AND ud.device_id = dev.id AND ud.first_seen_at <= q.at) AS user_device_first,
		dev_users.others_24h, dev_users.others_7d, dev_day.tx_count, dev_day.amount,
		-- The device's previous sighting by anyone: two single index probes.
		greatest(
			(SELECT occurred_at FROM transactions WHERE device_id = dev.id AND occurred_at <= q.at
			 ORDER BY occurred_at DESC LIMIT 1),
			(SELECT created_at FROM login_logs WHERE device_fingerprint = q.fingerprint AND q.fingerprint <> '' AND success AND created_at <= q.at
			 ORDER BY created_at DESC LIMIT 1)) AS device_last_seen,
		payee.others_24h,
		(SELECT occurred_at FROM transactions WHERE merchant_id = q.merchant AND occurred_at <= q.at
			ORDER BY occurred_at LIMIT 1) AS merchant_first,
		prev.lat AS prev_lat, prev.lon AS prev_lon, prev.country AS prev_country, prev.at AS prev_at,
		dev_day.accounts_1h, agg.device_days_30d, agg.near_line_7d,
		agg.amount_23d_before_7d + (SELECT coalesce(sum(amount), 0) FROM wx) AS spend_30d_before_7d,
		new_merchants.new_24h, new_merchants.new_72h, hist.n, hist.below, hist.near_hour, hist.category_seen, agg.travel_booked,
		-- A successful login in the 24 hours before, within 100 km of this place or in its country.
		EXISTS (SELECT 1 FROM (SELECT latitude, longitude, country FROM login_logs
				WHERE user_id = q.user_id AND success AND created_at <= q.at AND created_at > q.at - interval '24 hours'
				ORDER BY created_at DESC LIMIT 50) l
			WHERE (q.country <> '' AND upper(l.country) = upper(q.country))
				OR 2 * 6371.0088 * asin(least(1, sqrt(sin(radians(l.latitude - q.lat) / 2) ^ 2
					+ cos(radians(q.lat)) * cos(radians(l.latitude)) * sin(radians(l.longitude - q.lon) / 2) ^ 2))) <= 100
		) AS login_near_destination,
		merchant.payers_10m, merchant.payers_1h, merchant.new_devices_10m, merchant.new_devices_1h, merchant.tiny_share_1h, merchant.payer_median_age_1h,
		ip.users_10m, ip.users_24h, ip.devices_10m, ip.devices_24h, ip.subnet_users_10m, ip.subnet_users_24h, ip.subnet_devices_10m, ip.subnet_devices_24h
	FROM agg, dev_users, dev_day, payee, new_merchants, hist, merchant, ip LEFT JOIN dev ON true LEFT JOIN prev ON true
) f
ORDER BY q.ord`
