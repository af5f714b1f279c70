package store

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/page"
)

// InsertTransaction stores a transaction and fills its ID.
func InsertTransaction(ctx context.Context, db bun.IDB, t *domain.Transaction) error {
	_, err := db.NewInsert().Model(t).Returning("id, created_at").Exec(ctx)
	return mapErr(err)
}

// InsertDetection stores a detection result.
func InsertDetection(ctx context.Context, db bun.IDB, d *domain.Detection) error {
	_, err := db.NewInsert().Model(d).Returning("created_at").Exec(ctx)
	return mapErr(err)
}

// TransactionByID loads one transaction.
func TransactionByID(ctx context.Context, db bun.IDB, id int64) (*domain.Transaction, error) {
	t := new(domain.Transaction)
	err := db.NewSelect().Model(t).Where("id = ?", id).Scan(ctx)
	return t, mapErr(err)
}

// TransactionsByIDs loads transactions in any order.
func TransactionsByIDs(ctx context.Context, db bun.IDB, ids []int64) ([]*domain.Transaction, error) {
	var ts []*domain.Transaction
	err := db.NewSelect().Model(&ts).Where("id IN (?)", bun.List(ids)).Scan(ctx)
	return ts, mapErr(err)
}

// DetectionsByTransactionIDs loads detections in any order.
func DetectionsByTransactionIDs(ctx context.Context, db bun.IDB, ids []int64) ([]*domain.Detection, error) {
	var ds []*domain.Detection
	err := db.NewSelect().Model(&ds).Where("transaction_id IN (?)", bun.List(ids)).Scan(ctx)
	return ds, mapErr(err)
}

func applyTransactionFilter(q *bun.SelectQuery, f domain.TransactionFilter) *bun.SelectQuery {
	q = whereEq(q, "t.user_id", f.UserID)
	q = whereEq(q, "t.submitted_by", f.SubmittedBy)
	q = whereEq(q, "t.device_id", f.DeviceID)
	q = whereEq(q, "t.merchant_id", f.MerchantID)
	q = whereEq(q, "t.status", f.Status)
	q = whereSince(q, "t.occurred_at", f.From, f.To)
	if f.MinAmount != nil {
		q = q.Where("t.amount >= ?::numeric", f.MinAmount.String())
	}
	if f.MaxAmount != nil {
		q = q.Where("t.amount <= ?::numeric", f.MaxAmount.String())
	}
	if filtersDetection(f) {
		q = joinDetection(q)
		q = whereEq(q, "dt.decision", f.Decision)
		q = whereEq(q, "dt.risk_level", f.RiskLevel)
		if f.MinScore != nil {
			q = q.Where("dt.risk_score >= ?", *f.MinScore)
		}
	}
	return q
}

func filtersDetection(f domain.TransactionFilter) bool {
	return f.Decision != nil || f.RiskLevel != nil || f.MinScore != nil
}

func joinDetection(q *bun.SelectQuery) *bun.SelectQuery {
	return q.Join("JOIN detections AS dt ON dt.transaction_id = t.id AND dt.user_id = t.user_id")
}

// ListTransactions pages through transactions in order o (newest first by default).
func ListTransactions(ctx context.Context, db bun.IDB, f domain.TransactionFilter, o domain.ListOrder, p page.Request) (page.Result[*domain.Transaction], error) {
	o = o.Normalized()
	filter := filtered(applyTransactionFilter, f)
	var ks keyset
	switch o.Field {
	case domain.OrderScore:
		// By the detection's key, so the detections' score index gives the order.
		ks = keyset{key: "dt.risk_score", id: "dt.transaction_id"}
		if !filtersDetection(f) {
			filter = func(q *bun.SelectQuery) *bun.SelectQuery { return joinDetection(applyTransactionFilter(q, f)) }
		}
	case domain.OrderAmount:
		ks = keyset{key: "t.amount", id: "t.id"}
	default:
		res, err := listPage[domain.Transaction](ctx, db, "t.id", o.Direction == domain.Ascending, filter, p)
		res.Order = p.Order
		return res, err
	}
	ks.desc = o.Direction == domain.Descending
	return listOrdered(ctx, db, ks, filter, p, TransactionsByIDs, func(x *domain.Transaction) int64 { return x.ID })
}
