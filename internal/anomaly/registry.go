package anomaly

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/modelreg"
	"github.com/smartfinance/riskgraph/internal/store"
)

// kind is how anomaly models are stored, activated and audited.
var kind = &modelreg.Kind[domain.AnomalyModel, Scorer]{
	Prefix: "anomaly", Noun: "anomaly model",
	Resource: "anomaly_model", ActivatedAction: "anomalyModel.activated", DeactivatedAction: "anomalyModel.deactivated",
	Lock: store.LockAnomalyModels, ByID: store.AnomalyModelByID, Active: store.ActiveAnomalyModel, List: store.ListAnomalyModels,
	DeactivateAll: store.DeactivateAnomalyModels, UpdateActivation: store.UpdateAnomalyModelActivation,
	Fields: func(m *domain.AnomalyModel) modelreg.Fields {
		return modelreg.Fields{ID: &m.ID, Version: &m.Version, Active: &m.Active, ActivatedBy: &m.ActivatedBy, ActivatedAt: &m.ActivatedAt}
	},
	Load: Load,
}

// Registry holds this instance's active anomaly model. Reload it at start
// and whenever the models channel fires (activation changes ride
// pubsub.NotifyModelChanged, as the fraud model's do). With none active,
// Current is nil, whose Score is 0.
//
// The submit pipeline sets the score once the other features are known:
//
//	f.AnomalyScore = registry.Current().Score(f) // 0 when none is active
type Registry = modelreg.Registry[domain.AnomalyModel, Scorer]

// NewRegistry returns a registry with no active model; call Reload.
func NewRegistry(db *bun.DB) *Registry { return modelreg.NewRegistry(db, kind) }

// Service is the anomaly model use cases behind the API.
type Service struct {
	*modelreg.Service[domain.AnomalyModel, Scorer]
}

// NewService returns a service that keeps registry current; now is its clock.
func NewService(db *bun.DB, registry *Registry, now func() time.Time) *Service {
	return &Service{modelreg.NewService(db, kind, registry, now)}
}

// Train fits and stores a new inactive anomaly model version, in the
// training job's single place it shares with fraud model training.
func (s *Service) Train(ctx context.Context, p auth.Principal, opts TrainOptions) (*domain.AnomalyModel, error) {
	opts.TrainedBy = &p.UserID
	return s.Training(ctx, func(ctx context.Context, db *bun.DB, now time.Time) (*domain.AnomalyModel, error) {
		return Train(ctx, db, opts, now)
	})
}
