package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// Subject is the user a transaction is for, locked for the rest of the transaction.
type Subject struct {
	ID        int64             `bun:"id"`
	Username  string            `bun:"username"`
	Role      domain.Role       `bun:"role"`
	Status    domain.UserStatus `bun:"status"`
	CreatedAt time.Time         `bun:"created_at"`
}

// LockSubject row-locks the user so concurrent submissions for them run one
// after another and each sees the ones before it (velocity rules can't be
// slipped under by a burst). FOR NO KEY UPDATE doesn't block inserts that
// reference the user.
func LockSubject(ctx context.Context, tx bun.IDB, userID int64) (*Subject, error) {
	s := new(Subject)
	err := tx.NewRaw("SELECT id, username, role, status, created_at FROM users WHERE id = ? FOR NO KEY UPDATE", userID).Scan(ctx, s)
	return s, mapErr(err)
}

// FeatureRow is what the database contributes to a feature vector, as of one instant.
type FeatureRow struct {
	TxCount10m   int        `bun:"tx_count_10m"`
	TxCount1h    int        `bun:"tx_count_1h"`
	TxCount24h   int        `bun:"tx_count_24h"`
	TxCount7d    int        `bun:"tx_count_7d"`
	Amount10m    float64    `bun:"amount_10m"`
	Amount1h     float64    `bun:"amount_1h"`
	Amount24h    float64    `bun:"amount_24h"`
	Amount7d     float64    `bun:"amount_7d"`
	TopMerchants []string   `bun:"top_merchants,array"`
	DeviceID     *int64     `bun:"device_id"`
	DeviceStatus *string    `bun:"device_status"`
	DeviceFirst  *time.Time `bun:"device_first_seen"`
	DeviceUsers  int        `bun:"device_users"`
	DeviceSeen   bool       `bun:"device_seen"`
	PrevLat      *float64   `bun:"prev_lat"`
	PrevLon      *float64   `bun:"prev_lon"`
	PrevCountry  *string    `bun:"prev_country"`
	PrevAt       *time.Time `bun:"prev_at"`
}

// LoadFeatures reads every stored feature of a transaction for user at time at, in one round trip.
// Only what occurred at or before `at` counts (event time), and every part is a
// bounded index range scan over the last 7 days, so cost doesn't grow with history.
func LoadFeatures(ctx context.Context, tx bun.IDB, userID int64, at time.Time, fingerprint string) (*FeatureRow, error) {
	row := new(FeatureRow)
	err := tx.NewRaw(`
WITH w AS (
	SELECT amount, merchant_id, device_fingerprint, occurred_at FROM transactions
	WHERE user_id = ?0 AND occurred_at > ?1::timestamptz - interval '7 days' AND occurred_at <= ?1
), agg AS (
	SELECT
		count(*) FILTER (WHERE occurred_at > ?1::timestamptz - interval '10 minutes') AS tx_count_10m,
		count(*) FILTER (WHERE occurred_at > ?1::timestamptz - interval '1 hour') AS tx_count_1h,
		count(*) FILTER (WHERE occurred_at > ?1::timestamptz - interval '24 hours') AS tx_count_24h,
		count(*) AS tx_count_7d,
		coalesce(sum(amount) FILTER (WHERE occurred_at > ?1::timestamptz - interval '10 minutes'), 0) AS amount_10m,
		coalesce(sum(amount) FILTER (WHERE occurred_at > ?1::timestamptz - interval '1 hour'), 0) AS amount_1h,
		coalesce(sum(amount) FILTER (WHERE occurred_at > ?1::timestamptz - interval '24 hours'), 0) AS amount_24h,
		coalesce(sum(amount), 0) AS amount_7d,
		bool_or(device_fingerprint = ?2 AND occurred_at < ?1) AS device_in_tx
	FROM w
), dev AS (
	SELECT id, status, first_seen_at FROM devices WHERE fingerprint = ?2
), prev AS (
	SELECT lat, lon, country, at FROM (
		(SELECT latitude AS lat, longitude AS lon, country, occurred_at AS at FROM transactions
		 WHERE user_id = ?0 AND occurred_at <= ?1 AND occurred_at > ?1::timestamptz - interval '30 days' AND latitude IS NOT NULL
		 ORDER BY occurred_at DESC LIMIT 1)
		UNION ALL
		(SELECT latitude, longitude, country, created_at FROM login_logs
		 WHERE user_id = ?0 AND success AND created_at <= ?1 AND created_at > ?1::timestamptz - interval '30 days' AND latitude IS NOT NULL
		 ORDER BY created_at DESC LIMIT 1)
	) p ORDER BY at DESC LIMIT 1
)
SELECT agg.tx_count_10m, agg.tx_count_1h, agg.tx_count_24h, agg.tx_count_7d,
	agg.amount_10m, agg.amount_1h, agg.amount_24h, agg.amount_7d,
	ARRAY(SELECT merchant_id FROM w WHERE merchant_id IS NOT NULL
	      GROUP BY merchant_id ORDER BY count(*) DESC, merchant_id LIMIT 5) AS top_merchants,
	dev.id AS device_id, dev.status AS device_status, dev.first_seen_at AS device_first_seen,
	(SELECT count(*) FROM user_devices ud WHERE ud.device_id = dev.id AND ud.user_id <> ?0 AND ud.first_seen_at <= ?1) AS device_users,
	coalesce(agg.device_in_tx, false) OR EXISTS (
		SELECT 1 FROM login_logs l WHERE l.user_id = ?0 AND l.success AND l.device_fingerprint = ?2
		AND l.created_at > ?1::timestamptz - interval '7 days' AND l.created_at < ?1
	) AS device_seen,
	prev.lat AS prev_lat, prev.lon AS prev_lon, prev.country AS prev_country, prev.at AS prev_at
FROM agg LEFT JOIN dev ON true LEFT JOIN prev ON true`, userID, at, fingerprint).Scan(ctx, row)
	return row, mapErr(err)
}
