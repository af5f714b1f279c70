package fraudmodel

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

// Service is the model use cases behind the API; activation changes apply to
// this instance at once and reach the others through NOTIFY.
type Service struct {
	db       *bun.DB
	registry *Registry
	now      func() time.Time
}

// NewService returns a service that keeps registry current; now is its clock.
func NewService(db *bun.DB, registry *Registry, now func() time.Time) *Service {
	return &Service{db: db, registry: registry, now: now}
}

// Train fits and stores a new inactive model version; one training runs at a
// time across every instance (it reads up to MaxRows labelled detections).
func (s *Service) Train(ctx context.Context, p auth.Principal, opts TrainOptions) (*domain.Model, error) {
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

// Activate makes a model the one that scores.
func (s *Service) Activate(ctx context.Context, p auth.Principal, id int64) (*domain.Model, error) {
	m, err := Activate(ctx, s.db, id, &p.UserID, s.now())
	if err != nil {
		return nil, err
	}
	return m, s.registry.Reload(ctx)
}

// Deactivate stops a model scoring.
func (s *Service) Deactivate(ctx context.Context, p auth.Principal, id int64) (*domain.Model, error) {
	m, err := Deactivate(ctx, s.db, id, &p.UserID)
	if err != nil {
		return nil, err
	}
	return m, s.registry.Reload(ctx)
}

// Models lists model versions, newest first.
func (s *Service) Models(ctx context.Context, req page.Request) (page.Result[*domain.Model], error) {
	return store.ListModels(ctx, s.db, req)
}

// Model loads one model version.
func (s *Service) Model(ctx context.Context, id int64) (*domain.Model, error) {
	return store.ModelByID(ctx, s.db, id)
}
