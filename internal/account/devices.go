package account

import (
	"context"

	"github.com/smartfinance/riskgraph/internal/access"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/domain"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/store"
)

// Device loads a device the caller may see: staff any, customers only their own.
func (s *Service) Device(ctx context.Context, p auth.Principal, id int64) (*domain.Device, error) {
	switch access.Devices(p) {
	case access.AllDevices:
	case access.OwnDevices:
		ok, err := store.UserUsesDevice(ctx, s.db, p.UserID, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, apperr.ErrNotFound
		}
	default:
		return nil, apperr.ErrNotFound
	}
	return store.DeviceByID(ctx, s.db, id)
}

// SetDeviceStatus records an analyst's verdict on a device.
func (s *Service) SetDeviceStatus(ctx context.Context, p auth.Principal, id int64, status domain.DeviceStatus, reason string) (*domain.Device, error) {
	var d *domain.Device
	err := store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var err error
		d, err = SetDeviceStatus(ctx, tx, actor(p), id, status, reason)
		return err
	})
	return d, err
}

// SetDeviceStatus changes a device's status inside the caller's transaction, audited.
func SetDeviceStatus(ctx context.Context, tx bun.IDB, actorID *int64, id int64, status domain.DeviceStatus, reason string) (*domain.Device, error) {
	d, err := store.SetDeviceStatus(ctx, tx, id, status)
	if err != nil {
		return nil, err
	}
	details := map[string]any{"status": status}
	if reason != "" {
		details["reason"] = reason
	}
	return d, store.Audit(ctx, tx, actorID, "device.status_changed", "device", idString(id), details, auth.ClientIP(ctx))
}
