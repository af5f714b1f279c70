// Package modelreg is what the fraud model and the anomaly model share: the
// activation of one version at a time (audited, signalled to every instance)
// and the registry holding this instance's active one. A Kind describes one
// sort of model: its store functions, names and messages.
package modelreg

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/page"
	"github.com/smartfinance/riskgraph/internal/pubsub"
	"github.com/smartfinance/riskgraph/internal/store"
)

// Kind describes models stored as T that score as S.
type Kind[T, S any] struct {
	// Prefix starts every error message, e.g. "model".
	Prefix string
	// Noun names a model in user-facing messages, e.g. "anomaly model".
	Noun string
	// Resource is the audit log's resource type; ActivatedAction and
	// DeactivatedAction are its actions.
	Resource, ActivatedAction, DeactivatedAction string

	// Lock serializes model writes until the transaction ends.
	Lock func(context.Context, bun.IDB) error
	ByID func(context.Context, bun.IDB, int64) (*T, error)
	// Active loads the active model, nil when none is.
	Active func(context.Context, bun.IDB) (*T, error)
	List   func(context.Context, bun.IDB, page.Request) (page.Result[*T], error)
	// DeactivateAll deactivates the active model and returns its ID.
	DeactivateAll    func(context.Context, bun.IDB) ([]int64, error)
	UpdateActivation func(context.Context, bun.IDB, *T) error
	// Fields points at the record's fields activation reads and writes.
	Fields func(*T) Fields
	// Load readies a record to score, failing when this build cannot.
	Load func(*T) (*S, error)
}

// Fields are pointers into a model record.
type Fields struct {
	ID          *int64
	Version     *int
	Active      *bool
	ActivatedBy **int64
	ActivatedAt **time.Time
}

// Activate makes model id the one that scores, deactivating any other, and
// signals every instance to reload; the change is audited. Activating the
// active model changes nothing. A model this build cannot load is refused
// (BAD_USER_INPUT), so activation never leaves instances without a model
// they were told to use. Reload the local Registry afterwards to use it here
// at once; the notification reaches it too.
func (k *Kind[T, S]) Activate(ctx context.Context, db *bun.DB, id int64, actor *int64, now time.Time) (*T, error) {
	m, err := k.change(ctx, db, id, true, func(ctx context.Context, tx bun.Tx, m *T, f Fields) error {
		if _, err := k.Load(m); err != nil {
			return apperr.Invalid("id", "this "+k.Noun+" cannot score: "+err.Error())
		}
		previous, err := k.DeactivateAll(ctx, tx)
		if err != nil {
			return err
		}
		*f.Active, *f.ActivatedBy, *f.ActivatedAt = true, actor, &now
		if err := k.UpdateActivation(ctx, tx, m); err != nil {
			return err
		}
		return k.changed(ctx, tx, f, actor, k.ActivatedAction, map[string]any{"version": *f.Version, "deactivated": previous})
	})
	if err != nil {
		return nil, fmt.Errorf("%s: activate %d: %w", k.Prefix, id, err)
	}
	return m, nil
}

// Deactivate stops model id from scoring; the change is audited and every
// instance reloads. Deactivating an inactive model changes nothing.
func (k *Kind[T, S]) Deactivate(ctx context.Context, db *bun.DB, id int64, actor *int64) (*T, error) {
	m, err := k.change(ctx, db, id, false, func(ctx context.Context, tx bun.Tx, m *T, f Fields) error {
		*f.Active = false
		if err := k.UpdateActivation(ctx, tx, m); err != nil {
			return err
		}
		return k.changed(ctx, tx, f, actor, k.DeactivatedAction, map[string]any{"version": *f.Version})
	})
	if err != nil {
		return nil, fmt.Errorf("%s: deactivate %d: %w", k.Prefix, id, err)
	}
	return m, nil
}

// change loads model id under the models' lock and, unless it is already
// as active as wanted, lets apply change it in the same transaction.
func (k *Kind[T, S]) change(ctx context.Context, db *bun.DB, id int64, active bool, apply func(context.Context, bun.Tx, *T, Fields) error) (*T, error) {
	var m *T
	err := store.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		// Serialized, so concurrent activations take turns instead of one
		// failing on the one-active index.
		if err := k.Lock(ctx, tx); err != nil {
			return err
		}
		var err error
		if m, err = k.ByID(ctx, tx, id); err != nil {
			return err
		}
		if f := k.Fields(m); *f.Active != active {
			return apply(ctx, tx, m, f)
		}
		return nil
	})
	return m, err
}

// changed audits an activation change and signals it on the models channel,
// inside its transaction, so both commit or roll back with it.
func (k *Kind[T, S]) changed(ctx context.Context, tx bun.IDB, f Fields, actor *int64, action string, details map[string]any) error {
	if err := store.Audit(ctx, tx, actor, action, k.Resource, strconv.FormatInt(*f.ID, 10), details, auth.ClientIP(ctx)); err != nil {
		return err
	}
	return pubsub.NotifyModelChanged(ctx, tx, *f.ID)
}

// Registry holds this instance's active model of one Kind. Reload it at
// start and whenever the models channel fires (pubsub.NotifyModelChanged).
type Registry[T, S any] struct {
	db      *bun.DB
	kind    *Kind[T, S]
	current atomic.Pointer[S]
	// mu serializes reloads so an older read never replaces a newer one.
	mu sync.Mutex
}

// NewRegistry returns a registry with no active model; call Reload.
func NewRegistry[T, S any](db *bun.DB, kind *Kind[T, S]) *Registry[T, S] {
	return &Registry[T, S]{db: db, kind: kind}
}

// Reload reads the active model from the database and swaps it in. When the
// database cannot be read, the current model stays. When the active model
// cannot be loaded (a build that lacks one of its features), the registry
// holds none, and Reload says why.
func (r *Registry[T, S]) Reload(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, err := r.kind.Active(ctx, r.db)
	if err != nil {
		return fmt.Errorf("%s: load active model: %w", r.kind.Prefix, err)
	}
	if rec == nil {
		r.current.Store(nil)
		return nil
	}
	s, err := r.kind.Load(rec)
	if err != nil {
		r.current.Store(nil)
		return fmt.Errorf("%s: active model left out of scoring: %w", r.kind.Prefix, err)
	}
	r.current.Store(s)
	return nil
}

// Current returns the active model, nil when none is active.
func (r *Registry[T, S]) Current() *S { return r.current.Load() }

// Service is the model use cases behind the API; activation changes apply
// to this instance at once and reach the others through NOTIFY.
type Service[T, S any] struct {
	db       *bun.DB
	kind     *Kind[T, S]
	registry *Registry[T, S]
	now      func() time.Time
}

// NewService returns a service that keeps registry current; now is its clock.
func NewService[T, S any](db *bun.DB, kind *Kind[T, S], registry *Registry[T, S], now func() time.Time) *Service[T, S] {
	return &Service[T, S]{db: db, kind: kind, registry: registry, now: now}
}

// Training runs train in the training job's single place, across every
// instance (both kinds of training read many snapshots), refusing with
// RATE_LIMITED while another training holds it. train gets the clock's now.
func (s *Service[T, S]) Training(ctx context.Context, train func(ctx context.Context, db *bun.DB, now time.Time) (*T, error)) (*T, error) {
	release, ok, err := store.TryJobSlot(ctx, s.db, store.JobTraining, 1)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &apperr.Error{Code: apperr.RateLimited, Message: "a model is being trained; retry when it is done", RetryAfter: 10 * time.Second}
	}
	defer release()
	return train(ctx, s.db, s.now())
}

// Activate makes a model the one that scores.
func (s *Service[T, S]) Activate(ctx context.Context, p auth.Principal, id int64) (*T, error) {
	m, err := s.kind.Activate(ctx, s.db, id, &p.UserID, s.now())
	if err != nil {
		return nil, err
	}
	return m, s.registry.Reload(ctx)
}

// Deactivate stops a model scoring.
func (s *Service[T, S]) Deactivate(ctx context.Context, p auth.Principal, id int64) (*T, error) {
	m, err := s.kind.Deactivate(ctx, s.db, id, &p.UserID)
	if err != nil {
		return nil, err
	}
	return m, s.registry.Reload(ctx)
}

// Models lists model versions, newest first.
func (s *Service[T, S]) Models(ctx context.Context, req page.Request) (page.Result[*T], error) {
	return s.kind.List(ctx, s.db, req)
}

// Model loads one model version.
func (s *Service[T, S]) Model(ctx context.Context, id int64) (*T, error) {
	return s.kind.ByID(ctx, s.db, id)
}
