package anomaly

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/store"
)

// Registry holds this instance's active anomaly model. Reload it at start
// and whenever the models channel fires (activation changes ride
// pubsub.NotifyModelChanged, as the fraud model's do).
//
// The submit pipeline sets the score once the other features are known:
//
//	f.AnomalyScore = registry.Current().Score(f) // 0 when none is active
type Registry struct {
	db      *bun.DB
	current atomic.Pointer[Scorer]
	// mu serializes reloads so an older read never replaces a newer one.
	mu sync.Mutex
}

// NewRegistry returns a registry with no active model; call Reload.
func NewRegistry(db *bun.DB) *Registry { return &Registry{db: db} }

// Reload reads the active anomaly model and swaps it in. When the database
// cannot be read, the current model stays; when the active model cannot be
// loaded, the registry holds none (anomalyScore is 0), and Reload says why.
func (r *Registry) Reload(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, err := store.ActiveAnomalyModel(ctx, r.db)
	if err != nil {
		return fmt.Errorf("anomaly: load active model: %w", err)
	}
	if rec == nil {
		r.current.Store(nil)
		return nil
	}
	s, err := Load(rec)
	if err != nil {
		r.current.Store(nil)
		return fmt.Errorf("anomaly: active model left out of scoring: %w", err)
	}
	r.current.Store(s)
	return nil
}

// Current returns the active anomaly model, nil when none is active (whose
// Score is 0).
func (r *Registry) Current() *Scorer { return r.current.Load() }
