package anomaly

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/page"
	"github.com/smartfinance/riskgraph/internal/store"
)

// Service is the anomaly model use cases behind the API; activation changes
// apply to this instance at once and reach the others through NOTIFY.
type Service struct {
	db       *bun.DB
	registry *Registry
	now      func() time.Time
}

// NewService returns a service that keeps registry current; now is its clock.
func NewService(db *bun.DB, registry *Registry, now func() time.Time) *Service {
	return &Service{db: db, registry: registry, now: now}
}

// Train fits and stores a new inactive anomaly model version. It shares the
// training job's single place with fraud model training, across every
// instance: both read many snapshots.
func (s *Service) Train(ctx context.Context, p auth.Principal, opts TrainOptions) (*domain.AnomalyModel, error) {
	release, ok, err := store.TryJobSlot(ctx, s.db, store.JobTraining, 1)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &apperr.Error{Code: apperr.RateLimited, Message: "a model is being trained; retry when it is done", RetryAfter: 10 * time.Second}
	}
	defer release()
	opts.TrainedBy = &p.UserID
	return Train(ctx, s.db, opts, s.now())
}

// Activate makes an anomaly model the one that scores.
func (s *Service) Activate(ctx context.Context, p auth.Principal, id int64) (*domain.AnomalyModel, error) {
	m, err := Activate(ctx, s.db, id, &p.UserID, s.now())
	if err != nil {
		return nil, err
	}
	return m, s.registry.Reload(ctx)
}

// Deactivate stops an anomaly model scoring.
func (s *Service) Deactivate(ctx context.Context, p auth.Principal, id int64) (*domain.AnomalyModel, error) {
	m, err := Deactivate(ctx, s.db, id, &p.UserID)
	if err != nil {
		return nil, err
	}
	return m, s.registry.Reload(ctx)
}

// Models lists anomaly model versions, newest first, without their forests.
func (s *Service) Models(ctx context.Context, req page.Request) (page.Result[*domain.AnomalyModel], error) {
	return store.ListAnomalyModels(ctx, s.db, req)
}
