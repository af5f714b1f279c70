package store

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/page"
)

// InsertRiskEvent opens a risk event.
func InsertRiskEvent(ctx context.Context, db bun.IDB, e *domain.RiskEvent) error {
	_, err := db.NewInsert().Model(e).Returning("id, version, created_at, updated_at").Exec(ctx)
	return mapErr(err)
}

// InsertTimeline appends timeline entries.
func InsertTimeline(ctx context.Context, db bun.IDB, entries ...*domain.TimelineEntry) error {
	if len(entries) == 0 {
		return nil
	}
	_, err := db.NewInsert().Model(&entries).Returning("id, created_at").Exec(ctx)
	return mapErr(err)
}

// RiskEventByID loads one risk event.
func RiskEventByID(ctx context.Context, db bun.IDB, id int64) (*domain.RiskEvent, error) {
	e := new(domain.RiskEvent)
	err := db.NewSelect().Model(e).Where("id = ?", id).Scan(ctx)
	return e, mapErr(err)
}

// RiskEventsByIDs loads events in any order.
func RiskEventsByIDs(ctx context.Context, db bun.IDB, ids []int64) ([]*domain.RiskEvent, error) {
	var es []*domain.RiskEvent
	err := db.NewSelect().Model(&es).Where("id IN (?)", bun.List(ids)).Scan(ctx)
	return es, mapErr(err)
}

// RiskEventsByTransactionIDs loads the events opened by transactions.
func RiskEventsByTransactionIDs(ctx context.Context, db bun.IDB, ids []int64) ([]*domain.RiskEvent, error) {
	var es []*domain.RiskEvent
	err := db.NewSelect().Model(&es).Where("transaction_id IN (?)", bun.List(ids)).Scan(ctx)
	return es, mapErr(err)
}

// AlertByID loads one alert.
func AlertByID(ctx context.Context, db bun.IDB, id int64) (*domain.Alert, error) {
	a := new(domain.Alert)
	err := db.NewSelect().Model(a).Where("id = ?", id).Scan(ctx)
	return a, mapErr(err)
}

// AlertsByIDs loads alerts in any order.
func AlertsByIDs(ctx context.Context, db bun.IDB, ids []int64) ([]*domain.Alert, error) {
	var as []*domain.Alert
	err := db.NewSelect().Model(&as).Where("id IN (?)", bun.List(ids)).Scan(ctx)
	return as, mapErr(err)
}

// AlertsByEventIDs loads each event's alerts, oldest first.
func AlertsByEventIDs(ctx context.Context, db bun.IDB, ids []int64) (map[int64][]*domain.Alert, error) {
	var as []*domain.Alert
	if err := db.NewSelect().Model(&as).Where("event_id IN (?)", bun.List(ids)).Order("id").Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	out := make(map[int64][]*domain.Alert, len(ids))
	for _, a := range as {
		out[a.EventID] = append(out[a.EventID], a)
	}
	return out, nil
}

// TimelineByEventIDs loads each event's timeline in order.
func TimelineByEventIDs(ctx context.Context, db bun.IDB, ids []int64) (map[int64][]*domain.TimelineEntry, error) {
	var es []*domain.TimelineEntry
	if err := db.NewSelect().Model(&es).Where("event_id IN (?)", bun.List(ids)).Order("id").Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	out := make(map[int64][]*domain.TimelineEntry, len(ids))
	for _, e := range es {
		out[e.EventID] = append(out[e.EventID], e)
	}
	return out, nil
}

func applyRiskEventFilter(q *bun.SelectQuery, f domain.RiskEventFilter) *bun.SelectQuery {
	q = whereEq(q, "ev.status", f.Status)
	q = whereEq(q, "ev.level", f.Level)
	q = whereEq(q, "ev.type", f.Type)
	q = whereEq(q, "ev.assignee_id", f.AssigneeID)
	q = whereEq(q, "ev.user_id", f.UserID)
	if f.MinScore != nil {
		q = q.Where("ev.risk_score >= ?", *f.MinScore)
	}
	return whereSince(q, "ev.created_at", f.From, f.To)
}

// ListRiskEvents pages through events in order o (newest first by default).
func ListRiskEvents(ctx context.Context, db bun.IDB, f domain.RiskEventFilter, o domain.ListOrder, p page.Request) (page.Result[*domain.RiskEvent], error) {
	o = o.Normalized()
	filter := filtered(applyRiskEventFilter, f)
	keyed := filter
	var ks keyset
	switch o.Field {
	case domain.OrderScore:
		ks = keyset{key: "ev.risk_score", id: "ev.id"}
	case domain.OrderAmount:
		// An event's amount is its transaction's; a LOGIN event's is 0 (no payment), so it is listed too.
		ks = keyset{key: "coalesce(tx.amount, 0)", id: "ev.id"}
		keyed = func(q *bun.SelectQuery) *bun.SelectQuery {
			return applyRiskEventFilter(q, f).Join("LEFT JOIN transactions AS tx ON tx.user_id = ev.user_id AND tx.id = ev.transaction_id")
		}
	default:
		res, err := listPage[domain.RiskEvent](ctx, db, "ev.id", o.Direction == domain.Ascending, filter, p)
		res.Order = p.Order
		return res, err
	}
	ks.desc = o.Direction == domain.Descending
	return listOrdered(ctx, db, ks, keyed, p, RiskEventsByIDs, func(x *domain.RiskEvent) int64 { return x.ID })
}

func applyAlertFilter(q *bun.SelectQuery, f domain.AlertFilter) *bun.SelectQuery {
	q = whereEq(q, "level", f.Level)
	q = whereEq(q, "status", f.Status)
	q = whereEq(q, "user_id", f.UserID)
	return whereSince(q, "created_at", f.From, f.To)
}

// ListAlerts pages through alerts, newest first.
func ListAlerts(ctx context.Context, db bun.IDB, f domain.AlertFilter, p page.Request) (page.Result[*domain.Alert], error) {
	return listPage[domain.Alert](ctx, db, "id", false, filtered(applyAlertFilter, f), p)
}
