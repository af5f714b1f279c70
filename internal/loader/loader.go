// Package loader batches relation look-ups per GraphQL operation (no N+1),
// with a fresh cache for every operation so no data leaks between requests.
package loader

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/vikstrous/dataloadgen"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// LoginLogKey asks for a user's newest Limit login logs (LoginLogByUser's key).
type LoginLogKey = store.LoginLogKey

// Loaders are one operation's batching loaders.
type Loaders struct {
	UserByID        *dataloadgen.Loader[int64, *domain.User]
	DeviceByID      *dataloadgen.Loader[int64, *domain.Device]
	DevicesByUser   *dataloadgen.Loader[int64, []*domain.Device]
	UsersByDevice   *dataloadgen.Loader[int64, []*domain.User]
	LoginLogByUser  *dataloadgen.Loader[store.LoginLogKey, []*domain.LoginLog]
	LoginLogByID    *dataloadgen.Loader[int64, *domain.LoginLog]
	TransactionByID *dataloadgen.Loader[int64, *domain.Transaction]
	DetectionByTx   *dataloadgen.Loader[int64, *domain.Detection]
	EventByID       *dataloadgen.Loader[int64, *domain.RiskEvent]
	EventByTx       *dataloadgen.Loader[int64, *domain.RiskEvent]
	AlertByID       *dataloadgen.Loader[int64, *domain.Alert]
	AlertsByEvent   *dataloadgen.Loader[int64, []*domain.Alert]
	TimelineByEvent *dataloadgen.Loader[int64, []*domain.TimelineEntry]
	RuleVersions    *dataloadgen.Loader[int64, []*domain.RuleVersion]
	RuleByID        *dataloadgen.Loader[int64, *domain.Rule]
	HandlingByEvent *dataloadgen.Loader[int64, []*domain.HandlingRecord]
	LabelByTx       *dataloadgen.Loader[int64, *domain.TransactionLabel]
	DataSourceByID  *dataloadgen.Loader[int64, *domain.DataSource]
}

// Services are the loads that belong to a use-case package rather than to plain queries.
type Services struct {
	// RuleVersions reads rule versions (the rules service owns them).
	RuleVersions func(ctx context.Context, ruleIDs []int64) (map[int64][]*domain.RuleVersion, error)
	// Rules reads rules with their unflushed hits (the rules service).
	Rules func(ctx context.Context, ids []int64) ([]*domain.Rule, error)
	// DataSources reads sources with their derived fields (the datasource service).
	DataSources func(ctx context.Context, ids []int64) ([]*domain.DataSource, error)
}

// wait is how long a loader gathers keys before querying: long enough to
// batch one resolver level, short next to a query's round trip.
const wait = 200 * time.Microsecond

// New returns loaders reading from db and the services.
func New(db bun.IDB, svc Services) *Loaders {
	opt := dataloadgen.WithWait(wait)
	return &Loaders{
		UserByID: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]*domain.User, error) {
			users, err := store.UsersByIDs(ctx, db, ids)
			return byID(users, func(u *domain.User) int64 { return u.ID }), err
		}, opt),
		DeviceByID: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]*domain.Device, error) {
			devices, err := store.DevicesByIDs(ctx, db, ids)
			return byID(devices, func(d *domain.Device) int64 { return d.ID }), err
		}, opt),
		DevicesByUser: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64][]*domain.Device, error) {
			return store.DevicesByUserIDs(ctx, db, ids)
		}, opt),
		UsersByDevice: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64][]*domain.User, error) {
			return store.UsersByDeviceIDs(ctx, db, ids)
		}, opt),
		LoginLogByUser: dataloadgen.NewMappedLoader(func(ctx context.Context, keys []store.LoginLogKey) (map[store.LoginLogKey][]*domain.LoginLog, error) {
			return byLimit(ctx, keys, func(k store.LoginLogKey) (int64, int) { return k.UserID, k.Limit },
				func(ctx context.Context, ids []int64, limit int) (map[int64][]*domain.LoginLog, error) {
					return store.LoginLogsByUserIDs(ctx, db, ids, limit)
				},
				func(id int64, limit int) store.LoginLogKey { return store.LoginLogKey{UserID: id, Limit: limit} })
		}, opt),
		LoginLogByID: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]*domain.LoginLog, error) {
			ls, err := store.LoginLogsByIDs(ctx, db, ids)
			return byID(ls, func(l *domain.LoginLog) int64 { return l.ID }), err
		}, opt),
		TransactionByID: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]*domain.Transaction, error) {
			ts, err := store.TransactionsByIDs(ctx, db, ids)
			return byID(ts, func(t *domain.Transaction) int64 { return t.ID }), err
		}, opt),
		DetectionByTx: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]*domain.Detection, error) {
			ds, err := store.DetectionsByTransactionIDs(ctx, db, ids)
			return byID(ds, func(d *domain.Detection) int64 { return d.TransactionID }), err
		}, opt),
		EventByID: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]*domain.RiskEvent, error) {
			es, err := store.RiskEventsByIDs(ctx, db, ids)
			return byID(es, func(e *domain.RiskEvent) int64 { return e.ID }), err
		}, opt),
		EventByTx: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]*domain.RiskEvent, error) {
			es, err := store.RiskEventsByTransactionIDs(ctx, db, ids)
			return byID(es, func(e *domain.RiskEvent) int64 { return e.TransactionID }), err
		}, opt),
		AlertByID: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]*domain.Alert, error) {
			as, err := store.AlertsByIDs(ctx, db, ids)
			return byID(as, func(a *domain.Alert) int64 { return a.ID }), err
		}, opt),
		AlertsByEvent: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64][]*domain.Alert, error) {
			return store.AlertsByEventIDs(ctx, db, ids)
		}, opt),
		TimelineByEvent: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64][]*domain.TimelineEntry, error) {
			return store.TimelineByEventIDs(ctx, db, ids)
		}, opt),
		RuleVersions: dataloadgen.NewMappedLoader(svc.RuleVersions, opt),
		RuleByID: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]*domain.Rule, error) {
			rs, err := svc.Rules(ctx, ids)
			return byID(rs, func(r *domain.Rule) int64 { return r.ID }), err
		}, opt),
		HandlingByEvent: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64][]*domain.HandlingRecord, error) {
			return store.HandlingRecordsByEventIDs(ctx, db, ids)
		}, opt),
		LabelByTx: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]*domain.TransactionLabel, error) {
			ls, err := store.LabelsByTransactionIDs(ctx, db, ids)
			return byID(ls, func(l *domain.TransactionLabel) int64 { return l.TransactionID }), err
		}, opt),
		DataSourceByID: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]*domain.DataSource, error) {
			ds, err := svc.DataSources(ctx, ids)
			return byID(ds, func(d *domain.DataSource) int64 { return d.ID }), err
		}, opt),
	}
}

func byID[T any](rows []T, id func(T) int64) map[int64]T {
	m := make(map[int64]T, len(rows))
	for _, r := range rows {
		m[id(r)] = r
	}
	return m
}

// byLimit runs one query per distinct limit among keys of (parent ID, limit).
func byLimit[K comparable, V any](ctx context.Context, keys []K, split func(K) (int64, int),
	fetch func(ctx context.Context, ids []int64, limit int) (map[int64][]V, error), join func(int64, int) K,
) (map[K][]V, error) {
	idsByLimit := map[int][]int64{}
	for _, k := range keys {
		id, limit := split(k)
		idsByLimit[limit] = append(idsByLimit[limit], id)
	}
	out := make(map[K][]V, len(keys))
	for limit, ids := range idsByLimit {
		rows, err := fetch(ctx, ids, limit)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if r, ok := rows[id]; ok {
				out[join(id, limit)] = r
			}
		}
	}
	return out, nil
}

type ctxKey struct{}

// lazy builds an operation's loaders on first use: most operations (a
// submission, a login) resolve no relation and need none of them.
type lazy struct {
	once    sync.Once
	db      bun.IDB
	svc     Services
	loaders *Loaders
}

// With returns a context whose loaders are fresh, built when first asked for.
func With(ctx context.Context, db bun.IDB, svc Services) context.Context {
	return context.WithValue(ctx, ctxKey{}, &lazy{db: db, svc: svc})
}

// For returns the operation's loaders.
func For(ctx context.Context) *Loaders {
	l := ctx.Value(ctxKey{}).(*lazy)
	l.once.Do(func() { l.loaders = New(l.db, l.svc) })
	return l.loaders
}

// One loads a single related object; a missing one is apperr.ErrNotFound.
func One[K comparable, V any](ctx context.Context, l *dataloadgen.Loader[K, V], key K) (V, error) {
	v, err := l.Load(ctx, key)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return v, apperr.ErrNotFound
	}
	return v, err
}

// List loads a related list; a parent without rows yields an empty list.
func List[K comparable, V any](ctx context.Context, l *dataloadgen.Loader[K, []V], key K) ([]V, error) {
	v, err := l.Load(ctx, key)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return []V{}, nil
	}
	return v, err
}

// Maybe loads an optional related object: a missing one is nil, not an error.
func Maybe[K comparable, V any](ctx context.Context, l *dataloadgen.Loader[K, *V], key K) (*V, error) {
	v, err := l.Load(ctx, key)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, nil
	}
	return v, err
}
