package outbox

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/page"
	"github.com/smartfinance/riskgraph/internal/store"
)

// deliveryColumns are a delivery row's columns as Delivery scans them.
const deliveryColumns = `od.id, od.event_seq, od.endpoint_id, od.event_type, od.aggregate_type, od.aggregate_id, od.status,
	od.attempts, od.next_attempt_at, od.last_attempt_at, od.response_status, od.last_error, od.delivered_at, od.replay_of, od.created_at`

// Configure stores the instance's settings for the triggers: which
// decision.made events to write, and whether this deployment publishes to
// NATS (natsTarget, the stream name, registers the NATS sink; empty leaves
// the registrations as they are, since other instances may publish).
func Configure(ctx context.Context, db bun.IDB, decisions Decisions, natsTarget string) error {
	if _, err := db.NewRaw("UPDATE outbox_settings SET decisions = ? WHERE decisions <> ?", decisions, decisions).Exec(ctx); err != nil {
		return store.Classify(err)
	}
	if natsTarget == "" {
		return nil
	}
	_, err := db.NewRaw(`INSERT INTO outbox_publishers (name, target) VALUES ('nats', ?)
		ON CONFLICT (name) DO UPDATE SET target = EXCLUDED.target WHERE outbox_publishers.target <> EXCLUDED.target`, natsTarget).Exec(ctx)
	return store.Classify(err)
}

// Filter narrows the delivery log.
type Filter struct {
	EndpointID *int64
	Sink       *Sink
	Status     *Status
	EventType  *string
}

// Service reads the delivery log and replays deliveries.
type Service struct {
	db  *bun.DB
	now func() time.Time
	// wake nudges this instance's dispatcher after a replay; may be nil.
	wake func()
}

// NewService returns the delivery log service; wake may be nil.
func NewService(db *bun.DB, now func() time.Time, wake func()) *Service {
	if wake == nil {
		wake = func() {}
	}
	return &Service{db: db, now: now, wake: wake}
}

// Deliveries lists deliveries newest first.
func (s *Service) Deliveries(ctx context.Context, f Filter, req page.Request) (page.Result[*Delivery], error) {
	var rows []*Delivery
	where := func(q *bun.SelectQuery) *bun.SelectQuery {
		if f.EndpointID != nil {
			q = q.Where("od.sink_key = ?", *f.EndpointID)
		}
		if f.Sink != nil {
			if *f.Sink == SinkNATS {
				q = q.Where("od.endpoint_id IS NULL")
			} else {
				q = q.Where("od.endpoint_id IS NOT NULL")
			}
		}
		if f.Status != nil {
			q = q.Where("od.status = ?", *f.Status)
		}
		if f.EventType != nil {
			q = q.Where("od.event_type = ?", *f.EventType)
		}
		return q
	}
	q := where(s.db.NewSelect().TableExpr("outbox_deliveries AS od").
		ColumnExpr(deliveryColumns).ColumnExpr("e.id AS event_id, e.schema_version, e.occurred_at, e.payload").
		Join("JOIN outbox_events AS e ON e.seq = od.event_seq"))
	if req.After > 0 {
		q = q.Where("od.id < ?", req.After)
	}
	if err := q.OrderExpr("od.id DESC").Limit(int64(req.Size+1)).Scan(ctx, &rows); err != nil {
		return page.Result[*Delivery]{}, store.Classify(err)
	}
	total, err := where(s.db.NewSelect().TableExpr("outbox_deliveries AS od")).Count(ctx)
	if err != nil {
		return page.Result[*Delivery]{}, store.Classify(err)
	}
	res := page.Result[*Delivery]{Rows: rows, TotalCount: int(total)}
	if len(rows) > req.Size {
		res.Rows, res.HasNextPage = rows[:req.Size], true
	}
	return res, nil
}

// Delivery loads one delivery.
func (s *Service) Delivery(ctx context.Context, id int64) (*Delivery, error) {
	res, err := s.byIDs(ctx, s.db, []int64{id})
	if err != nil {
		return nil, err
	}
	if len(res) == 0 {
		return nil, apperr.New(apperr.NotFound, "delivery not found")
	}
	return res[0], nil
}

func (s *Service) byIDs(ctx context.Context, db bun.IDB, ids []int64) ([]*Delivery, error) {
	var rows []*Delivery
	err := db.NewSelect().TableExpr("outbox_deliveries AS od").
		ColumnExpr(deliveryColumns).ColumnExpr("e.id AS event_id, e.schema_version, e.occurred_at, e.payload").
		Join("JOIN outbox_events AS e ON e.seq = od.event_seq").
		Where("od.id IN (?)", bun.List(ids)).OrderExpr("od.id").Scan(ctx, &rows)
	return rows, store.Classify(err)
}

// Replay sends a finished (DELIVERED or DEAD) delivery's event to its sink
// again as a new delivery (the log keeps the first); the message keeps its id,
// so a receiver that de-duplicates by webhook-id must forget it first.
func (s *Service) Replay(ctx context.Context, id int64) (*Delivery, error) {
	var newID int64
	err := s.db.NewRaw(`INSERT INTO outbox_deliveries (event_seq, endpoint_id, event_type, aggregate_type, aggregate_id, next_attempt_at, replay_of)
		SELECT event_seq, endpoint_id, event_type, aggregate_type, aggregate_id, ?, id FROM outbox_deliveries
		WHERE id = ? AND status IN ('DELIVERED', 'DEAD') RETURNING id`, s.now(), id).Scan(ctx, &newID)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			if _, gerr := s.Delivery(ctx, id); gerr != nil {
				return nil, gerr
			}
			return nil, apperr.New(apperr.Conflict, "the delivery is still open: only DELIVERED and DEAD deliveries are replayed")
		}
		return nil, store.Classify(err)
	}
	s.wake()
	return s.Delivery(ctx, newID)
}

// ReplayRange replays, as Replay does, every first delivery (not a replay)
// to endpointID whose event occurred in [from, to) and is finished; it
// returns how many it queued.
func (s *Service) ReplayRange(ctx context.Context, endpointID int64, from, to time.Time) (int, error) {
	if !to.After(from) {
		return 0, apperr.Invalid("to", "must be after from")
	}
	res, err := s.db.NewRaw(`INSERT INTO outbox_deliveries (event_seq, endpoint_id, event_type, aggregate_type, aggregate_id, next_attempt_at, replay_of)
		SELECT od.event_seq, od.endpoint_id, od.event_type, od.aggregate_type, od.aggregate_id, ?, od.id
		FROM outbox_deliveries AS od JOIN outbox_events AS e ON e.seq = od.event_seq
		WHERE od.endpoint_id = ? AND od.replay_of IS NULL AND od.status IN ('DELIVERED', 'DEAD')
		  AND e.occurred_at >= ? AND e.occurred_at < ?
		ORDER BY od.event_seq`, s.now(), endpointID, from, to).Exec(ctx)
	if err != nil {
		return 0, store.Classify(err)
	}
	n, err := res.RowsAffected()
	if n > 0 {
		s.wake()
	}
	return int(n), err
}
