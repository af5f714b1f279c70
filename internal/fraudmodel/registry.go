package fraudmodel

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/domain"
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
	db      *bun.DB
	current atomic.Pointer[Scorer]
	// mu serializes reloads so an older read never replaces a newer one.
	mu sync.Mutex
}

// NewRegistry returns a registry with no active model; call Reload.
func NewRegistry(db *bun.DB) *Registry { return &Registry{db: db} }

// Reload reads the active model from the database and swaps it in. When the
// database cannot be read, the current model stays. When the active model
// cannot be loaded (a build that lacks one of its features), the registry
// holds none, so scoring falls back to rules only, and Reload says why.
func (r *Registry) Reload(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, err := store.ActiveModel(ctx, r.db)
	if err != nil {
		return fmt.Errorf("model: load active model: %w", err)
	}
	if rec == nil {
		r.current.Store(nil)
		return nil
	}
	s, err := Load(rec)
	if err != nil {
		r.current.Store(nil)
		return fmt.Errorf("model: active model left out of scoring: %w", err)
	}
	r.current.Store(s)
	return nil
}

// Current returns the active model, nil when none is active.
func (r *Registry) Current() *Scorer { return r.current.Load() }

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
