package fraudmodel

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/pubsub"
	"github.com/smartfinance/riskgraph/internal/store"
)

// Activate makes model id the one that scores, deactivating any other, and
// signals every instance to reload; the change is audited. Activating the
// active model changes nothing. A model this build cannot load is refused
// (BAD_USER_INPUT), so activation never leaves instances without a model
// they were told to use. Reload the local Registry afterwards to use it here
// at once; the notification reaches it too.
func Activate(ctx context.Context, db *bun.DB, id int64, actor *int64, now time.Time) (*domain.Model, error) {
	var m *domain.Model
	err := store.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		// Serialized, so concurrent activations take turns instead of one
		// failing on the one-active index.
		if err := store.LockModels(ctx, tx); err != nil {
			return err
		}
		var err error
		if m, err = store.ModelByID(ctx, tx, id); err != nil {
			return err
		}
		if m.Active {
			return nil
		}
		if _, err := Load(m); err != nil {
			return apperr.Invalid("id", "this model cannot score: "+err.Error())
		}
		previous, err := store.DeactivateModels(ctx, tx)
		if err != nil {
			return err
		}
		m.Active, m.ActivatedBy, m.ActivatedAt = true, actor, &now
		if err := store.UpdateModelActivation(ctx, tx, m); err != nil {
			return err
		}
		details := map[string]any{"version": m.Version, "deactivated": previous}
		return changed(ctx, tx, m, actor, "model.activated", details)
	})
	if err != nil {
		return nil, fmt.Errorf("model: activate %d: %w", id, err)
	}
	return m, nil
}

// Deactivate stops model id from scoring, so detections are scored by the
// rules alone; the change is audited and every instance reloads.
// Deactivating an inactive model changes nothing.
func Deactivate(ctx context.Context, db *bun.DB, id int64, actor *int64) (*domain.Model, error) {
	var m *domain.Model
	err := store.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if err := store.LockModels(ctx, tx); err != nil {
			return err
		}
		var err error
		if m, err = store.ModelByID(ctx, tx, id); err != nil || !m.Active {
			return err
		}
		m.Active = false
		if err := store.UpdateModelActivation(ctx, tx, m); err != nil {
			return err
		}
		return changed(ctx, tx, m, actor, "model.deactivated", map[string]any{"version": m.Version})
	})
	if err != nil {
		return nil, fmt.Errorf("model: deactivate %d: %w", id, err)
	}
	return m, nil
}

// changed audits an activation change and signals it, inside its
// transaction, so both commit or roll back with it.
func changed(ctx context.Context, tx bun.IDB, m *domain.Model, actor *int64, action string, details map[string]any) error {
	if err := store.Audit(ctx, tx, actor, action, "model", strconv.FormatInt(m.ID, 10), details, auth.ClientIP(ctx)); err != nil {
		return err
	}
	return pubsub.NotifyModelChanged(ctx, tx, m.ID)
}
