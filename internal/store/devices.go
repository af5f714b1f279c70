package store

import (
	"context"
	"github.com/smartfinance/riskgraph/internal/domain"
	"time"

	"github.com/uptrace/bun"
)

// UpsertDevice records a sighting of a device fingerprint and returns the device.
func UpsertDevice(ctx context.Context, db bun.IDB, fingerprint string, seenAt time.Time) (*domain.Device, error) {
	d := &domain.Device{Fingerprint: fingerprint, Status: domain.DeviceNormal, FirstSeenAt: seenAt, LastSeenAt: seenAt}
	_, err := db.NewInsert().Model(d).
		On("CONFLICT (fingerprint) DO UPDATE").
		Set("first_seen_at = LEAST(d.first_seen_at, EXCLUDED.first_seen_at)").
		Set("last_seen_at = GREATEST(d.last_seen_at, EXCLUDED.last_seen_at)").
		Returning("*").Exec(ctx)
	return d, mapErr(err)
}

// LinkUserDevice records that a user used a device at a time.
func LinkUserDevice(ctx context.Context, db bun.IDB, userID, deviceID int64, seenAt time.Time) error {
	_, err := db.NewRaw(`INSERT INTO user_devices (user_id, device_id, first_seen_at, last_seen_at)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (user_id, device_id) DO UPDATE SET
			first_seen_at = LEAST(user_devices.first_seen_at, EXCLUDED.first_seen_at),
			last_seen_at = GREATEST(user_devices.last_seen_at, EXCLUDED.last_seen_at)`,
		userID, deviceID, seenAt, seenAt).Exec(ctx)
	return mapErr(err)
}

// DeviceByID loads one device.
func DeviceByID(ctx context.Context, db bun.IDB, id int64) (*domain.Device, error) {
	d := new(domain.Device)
	err := db.NewSelect().Model(d).Where("id = ?", id).Scan(ctx)
	return d, mapErr(err)
}

// DevicesByIDs loads devices in any order.
func DevicesByIDs(ctx context.Context, db bun.IDB, ids []int64) ([]*domain.Device, error) {
	var ds []*domain.Device
	err := db.NewSelect().Model(&ds).Where("id IN (?)", bun.List(ids)).Scan(ctx)
	return ds, mapErr(err)
}

// UserUsesDevice reports whether a user has ever used a device.
func UserUsesDevice(ctx context.Context, db bun.IDB, userID, deviceID int64) (bool, error) {
	ok, err := db.NewSelect().TableExpr("user_devices").
		Where("user_id = ? AND device_id = ?", userID, deviceID).Exists(ctx)
	return ok, mapErr(err)
}

// SetDeviceStatus changes a device's status.
func SetDeviceStatus(ctx context.Context, db bun.IDB, id int64, status domain.DeviceStatus) (*domain.Device, error) {
	d := new(domain.Device)
	_, err := db.NewUpdate().Model(d).Set("status = ?", status).Set("updated_at = now()").
		Where("id = ?", id).Returning("*").Exec(ctx)
	return d, mapNoRows(err, d.ID)
}

// MaxRelated bounds relation lists loaded per parent (devices of a user, users of a device).
const MaxRelated = 100

type userDeviceRow struct {
	OwnerID int64 `bun:"owner_id"`
	domain.Device
}

// DevicesByUserIDs loads each user's most recently seen devices.
func DevicesByUserIDs(ctx context.Context, db bun.IDB, userIDs []int64) (map[int64][]*domain.Device, error) {
	var rows []userDeviceRow
	err := db.NewRaw(`SELECT owner_id, d.* FROM (
			SELECT ud.user_id AS owner_id, ud.device_id,
			       row_number() OVER (PARTITION BY ud.user_id ORDER BY ud.last_seen_at DESC, ud.device_id) AS rn
			FROM user_devices ud WHERE ud.user_id IN (?)
		) x JOIN devices d ON d.id = x.device_id
		WHERE x.rn <= ? ORDER BY owner_id, x.rn`, bun.List(userIDs), MaxRelated).Scan(ctx, &rows)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make(map[int64][]*domain.Device, len(userIDs))
	for i := range rows {
		out[rows[i].OwnerID] = append(out[rows[i].OwnerID], &rows[i].Device)
	}
	return out, nil
}

type deviceUserRow struct {
	OwnerID int64 `bun:"owner_id"`
	domain.User
}

// UsersByDeviceIDs loads each device's most recent users.
func UsersByDeviceIDs(ctx context.Context, db bun.IDB, deviceIDs []int64) (map[int64][]*domain.User, error) {
	var rows []deviceUserRow
	err := db.NewRaw(`SELECT owner_id, u.* FROM (
			SELECT ud.device_id AS owner_id, ud.user_id,
			       row_number() OVER (PARTITION BY ud.device_id ORDER BY ud.last_seen_at DESC, ud.user_id) AS rn
			FROM user_devices ud WHERE ud.device_id IN (?)
		) x JOIN users u ON u.id = x.user_id
		WHERE x.rn <= ? ORDER BY owner_id, x.rn`, bun.List(deviceIDs), MaxRelated).Scan(ctx, &rows)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make(map[int64][]*domain.User, len(deviceIDs))
	for i := range rows {
		out[rows[i].OwnerID] = append(out[rows[i].OwnerID], &rows[i].User)
	}
	return out, nil
}
