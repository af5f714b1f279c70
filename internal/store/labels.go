package store

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// UpsertLabel sets a transaction's current label. With keepVerdict, an
// existing ANALYST label stays (checked atomically by the upsert itself) and
// written is false.
func UpsertLabel(ctx context.Context, db bun.IDB, l *domain.TransactionLabel, keepVerdict bool) (written bool, err error) {
	q := db.NewInsert().Model(l).
		On("CONFLICT (user_id, transaction_id) DO UPDATE").
		Set("label = EXCLUDED.label, source = EXCLUDED.source, note = EXCLUDED.note, labelled_by = EXCLUDED.labelled_by, updated_at = now()")
	if keepVerdict {
		q = q.Where("tlb.source <> 'ANALYST'")
	}
	res, err := q.Returning("created_at, updated_at").Exec(ctx)
	if err != nil {
		return false, mapErr(err)
	}
	n, err := res.RowsAffected()
	return n > 0, mapErr(err)
}

// LabelsByTransactionIDs loads labels in any order.
func LabelsByTransactionIDs(ctx context.Context, db bun.IDB, ids []int64) ([]*domain.TransactionLabel, error) {
	var ls []*domain.TransactionLabel
	err := db.NewSelect().Model(&ls).Where("transaction_id IN (?)", bun.List(ids)).Scan(ctx)
	return ls, mapErr(err)
}
