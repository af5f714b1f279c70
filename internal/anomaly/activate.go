package anomaly

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

// Activate makes anomaly model id the one that scores, deactivating any
// other, and signals every instance to reload; the change is audited.
// Activating the active model changes nothing; a model this build cannot
// load is refused (BAD_USER_INPUT). Reload the local Registry afterwards.
func Activate(ctx context.Context, db *bun.DB, id int64, actor *int64, now time.Time) (*domain.AnomalyModel, error) {
	var m *domain.AnomalyModel
	err := store.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		// Serialized, so concurrent activations take turns instead of one
		// failing on the one-active index.
		if err := store.LockAnomalyModels(ctx, tx); err != nil {
			return err
		}
		var err error
		if m, err = store.AnomalyModelByID(ctx, tx, id); err != nil {
			return err
		}
		if m.Active {
			return nil
		}
		if _, err := Load(m); err != nil {
			return apperr.Invalid("id", "this anomaly model cannot score: "+err.Error())
		}
		previous, err := store.DeactivateAnomalyModels(ctx, tx)
		if err != nil {
			return err
		}
		m.Active, m.ActivatedBy, m.ActivatedAt = true, actor, &now
		if err := store.UpdateAnomalyModelActivation(ctx, tx, m); err != nil {
			return err
		}
		return changed(ctx, tx, m, actor, "anomalyModel.activated", map[string]any{"version": m.Version, "deactivated": previous})
	})
	if err != nil {
		return nil, fmt.Errorf("anomaly: activate %d: %w", id, err)
	}
	return m, nil
}

// Deactivate stops anomaly model id from scoring (anomalyScore is 0 again);
// the change is audited and every instance reloads. Deactivating an inactive
// model changes nothing.
func Deactivate(ctx context.Context, db *bun.DB, id int64, actor *int64) (*domain.AnomalyModel, error) {
	var m *domain.AnomalyModel
	err := store.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if err := store.LockAnomalyModels(ctx, tx); err != nil {
			return err
		}
		var err error
		if m, err = store.AnomalyModelByID(ctx, tx, id); err != nil || !m.Active {
			return err
		}
		m.Active = false
		if err := store.UpdateAnomalyModelActivation(ctx, tx, m); err != nil {
			return err
		}
		return changed(ctx, tx, m, actor, "anomalyModel.deactivated", map[string]any{"version": m.Version})
	})
	if err != nil {
		return nil, fmt.Errorf("anomaly: deactivate %d: %w", id, err)
	}
	return m, nil
}

// changed audits an activation change and signals it on the models channel,
// inside its transaction, so both commit or roll back with it.
func changed(ctx context.Context, tx bun.IDB, m *domain.AnomalyModel, actor *int64, action string, details map[string]any) error {
	if err := store.Audit(ctx, tx, actor, action, "anomaly_model", strconv.FormatInt(m.ID, 10), details, auth.ClientIP(ctx)); err != nil {
		return err
	}
	return pubsub.NotifyModelChanged(ctx, tx, m.ID)
}
