package fraudmodel

import (
	"context"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/modelreg"
	"github.com/smartfinance/riskgraph/internal/store"
)

// ErrNoActiveModel is what a Registry answers when asked to score with no
// model active.
var ErrNoActiveModel = errors.New("model: no active model")

// Registry holds this instance's active model. Reload it at start and
// whenever the rules channel fires (pubsub.NotifyModelChanged rides it).
//
// The submit pipeline should take one snapshot per transaction, so the score
// and its explanation come from the same model even if a reload lands in
// between:
//
//	m := registry.Current() // nil when no model is active
//	result, err := engine.Score(ctx, rules, f, m.Engine(), cfg)
//	if result.MLScore != nil {
//		version, contributions := m.Explain(f)
//		// store version as detections.model_version and contributions
//		// (JSON) as detections.model_contributions
//	}
//
// With no active model m.Engine() is a nil interface, and engine.Score
// behaves exactly as it does without a model. Passing the Registry itself as
// the engine's model is possible but not equivalent: with no active model its
// Score fails, which engine.Score reports as an error beside the rules-only
// result.
type Registry struct {
	*modelreg.Registry[domain.Model, Scorer]
}

// NewRegistry returns a registry with no active model; call Reload. When the
// active model cannot be loaded (a build that lacks one of its features), the
// registry holds none, so scoring falls back to rules only.
func NewRegistry(db *bun.DB) *Registry { return &Registry{modelreg.NewRegistry(db, kind)} }

// Active reports whether a model is active.
func (r *Registry) Active() bool { return r.Current() != nil }

// Score scores f with the active model, failing with ErrNoActiveModel when
// there is none.
func (r *Registry) Score(ctx context.Context, f *engine.Features) (float64, error) {
	s := r.Current()
	if s == nil {
		return 0, ErrNoActiveModel
	}
	return s.Score(ctx, f)
}

// Explain explains f with the active model; with none it returns "" and no
// contributions.
func (r *Registry) Explain(f *engine.Features) (string, []domain.ModelContribution) {
	s := r.Current()
	if s == nil {
		return "", nil
	}
	return s.Explain(f)
}

// kind is how fraud models are stored, activated and audited.
var kind = &modelreg.Kind[domain.Model, Scorer]{
	Prefix: "model", Noun: "model",
	Resource: "model", ActivatedAction: "model.activated", DeactivatedAction: "model.deactivated",
	Lock: store.LockModels, ByID: store.ModelByID, Active: store.ActiveModel, List: store.ListModels,
	DeactivateAll: store.DeactivateModels, UpdateActivation: store.UpdateModelActivation,
	Fields: func(m *domain.Model) modelreg.Fields {
		return modelreg.Fields{ID: &m.ID, Version: &m.Version, Active: &m.Active, ActivatedBy: &m.ActivatedBy, ActivatedAt: &m.ActivatedAt}
	},
	Load: Load,
}

// Activate makes model id the one that scores (see modelreg.Kind.Activate);
// reload the local Registry afterwards to use it here at once.
func Activate(ctx context.Context, db *bun.DB, id int64, actor *int64, now time.Time) (*domain.Model, error) {
	return kind.Activate(ctx, db, id, actor, now)
}

// Deactivate stops model id from scoring, so detections are scored by the
// rules alone.
func Deactivate(ctx context.Context, db *bun.DB, id int64, actor *int64) (*domain.Model, error) {
	return kind.Deactivate(ctx, db, id, actor)
}

// Service is the model use cases behind the API.
type Service struct {
	*modelreg.Service[domain.Model, Scorer]
}

// NewService returns a service that keeps registry current; now is its clock.
func NewService(db *bun.DB, registry *Registry, now func() time.Time) *Service {
	return &Service{modelreg.NewService(db, kind, registry.Registry, now)}
}

// Train fits and stores a new inactive model version, in the training job's
// single place (it reads up to MaxRows labelled detections).
func (s *Service) Train(ctx context.Context, p auth.Principal, opts TrainOptions) (*domain.Model, error) {
	opts.TrainedBy = &p.UserID
	return s.Training(ctx, func(ctx context.Context, db *bun.DB, now time.Time) (*domain.Model, error) {
		return Train(ctx, db, opts, now)
	})
}
