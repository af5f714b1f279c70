package store

import (
	"context"
	"time"

	"github.com/smartfinance/riskgraph/internal/domain"

	"github.com/uptrace/bun"
)

// InsertLoginLog records a login attempt.
func InsertLoginLog(ctx context.Context, db bun.IDB, l *domain.LoginLog) error {
	_, err := db.NewInsert().Model(l).Returning("id, created_at").Exec(ctx)
	return mapErr(err)
}

// LoginLogsByIDs loads login logs in any order.
func LoginLogsByIDs(ctx context.Context, db bun.IDB, ids []int64) ([]*domain.LoginLog, error) {
	var logs []*domain.LoginLog
	err := db.NewSelect().Model(&logs).Where("id IN (?)", bun.List(ids)).Scan(ctx)
	return logs, mapErr(err)
}

// LoginLogKey asks for a user's newest Limit login logs.
type LoginLogKey struct {
	UserID int64
	Limit  int
}

// LoginLogsByUserIDs loads the newest `limit` login logs of each user.
func LoginLogsByUserIDs(ctx context.Context, db bun.IDB, userIDs []int64, limit int) (map[int64][]*domain.LoginLog, error) {
	var logs []*domain.LoginLog
	err := db.NewRaw(`SELECT ll.* FROM unnest(?::bigint[]) AS k(user_id)
		CROSS JOIN LATERAL (
			SELECT * FROM login_logs l WHERE l.user_id = k.user_id ORDER BY l.id DESC LIMIT ?
		) ll`, pgArray(userIDs), limit).Scan(ctx, &logs)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make(map[int64][]*domain.LoginLog, len(userIDs))
	for _, l := range logs {
		out[*l.UserID] = append(out[*l.UserID], l)
	}
	return out, nil
}

// LoginFeatureRow is what the database contributes to a login's feature
// vector, as of one instant.
type LoginFeatureRow struct {
	DeviceStatus    *string
	DeviceFirst     *time.Time
	UserDeviceFirst *time.Time
	PrevLat         *float64
	PrevLon         *float64
	PrevCountry     *string
	PrevAt          *time.Time
}

// LoginFeatures reads, for a login of user at time at from device
// fingerprint (empty for none), the device's status and sightings and the
// user's previous location: the newest located transaction or successful
// login at or before at, within 30 days — as a payment's feature read does.
// Each part is a single index probe. It runs before the login is stored.
func LoginFeatures(ctx context.Context, db bun.IDB, userID int64, at time.Time, fingerprint string) (*LoginFeatureRow, error) {
	f := new(LoginFeatureRow)
	err := db.NewRaw(`WITH dev AS (
		SELECT id, status, first_seen_at FROM devices WHERE fingerprint = ? AND ? <> ''
	), prev AS (
		SELECT lat, lon, country, at FROM (
			(SELECT latitude AS lat, longitude AS lon, country, occurred_at AS at FROM transactions
			 WHERE user_id = ? AND occurred_at <= ? AND occurred_at > ?::timestamptz - interval '30 days' AND latitude IS NOT NULL
			 ORDER BY occurred_at DESC LIMIT 1)
			UNION ALL
			(SELECT latitude, longitude, country, created_at FROM login_logs
			 WHERE user_id = ? AND success AND created_at <= ? AND created_at > ?::timestamptz - interval '30 days' AND latitude IS NOT NULL
			 ORDER BY created_at DESC LIMIT 1)
		) p ORDER BY at DESC LIMIT 1
	)
	SELECT dev.status, dev.first_seen_at,
		(SELECT ud.first_seen_at FROM user_devices ud WHERE ud.user_id = ? AND ud.device_id = dev.id AND ud.first_seen_at <= ?),
		prev.lat, prev.lon, prev.country, prev.at
	FROM (SELECT 1) one LEFT JOIN dev ON true LEFT JOIN prev ON true`,
		fingerprint, fingerprint, userID, at, at, userID, at, at, userID, at).
		Scan(ctx, &f.DeviceStatus, &f.DeviceFirst, &f.UserDeviceFirst, &f.PrevLat, &f.PrevLon, &f.PrevCountry, &f.PrevAt)
	return f, mapErr(err)
}

// InsertAlert stores an alert (a login's: a payment's is written by Submission.Record).
func InsertAlert(ctx context.Context, db bun.IDB, a *domain.Alert) error {
	_, err := db.NewInsert().Model(a).Returning("*").Exec(ctx)
	return mapErr(err)
}
