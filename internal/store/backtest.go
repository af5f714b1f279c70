package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
)

// HistoryRow is one scored transaction as a backtest replays it.
type HistoryRow struct {
	TransactionID int64
	Amount        decimal.Decimal
	RiskScore     float64
	Features      json.RawMessage
	// Label is FRAUD, LEGITIMATE or "" when unlabelled.
	Label string
}

// EachDetection streams the detections of transactions that occurred in [from, to),
// oldest first, at most limit rows; it reports whether more remained.
func EachDetection(ctx context.Context, db bun.IDB, from, to time.Time, limit int, fn func(*HistoryRow) error) (bool, error) {
	return eachBounded(ctx, db, limit, fn, func(r *HistoryRow) []any {
		return []any{&r.TransactionID, &r.Amount, &r.RiskScore, &r.Features, &r.Label}
	}, `SELECT t.id, t.amount, dt.risk_score, dt.features, coalesce(l.label, '')
		FROM transactions t
		JOIN detections dt ON dt.user_id = t.user_id AND dt.transaction_id = t.id
		LEFT JOIN transaction_labels l ON l.user_id = t.user_id AND l.transaction_id = t.id
		WHERE t.occurred_at >= ? AND t.occurred_at < ?
		ORDER BY t.occurred_at, t.id LIMIT ?`, from, to, limit+1)
}

// eachBounded streams a query asked for limit+1 rows: fn sees at most limit
// of them, scanned through fields, and the result reports whether more remained.
func eachBounded[T any](ctx context.Context, db bun.IDB, limit int, fn func(*T) error, fields func(*T) []any, query string, args ...any) (bool, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return false, mapErr(err)
	}
	defer rows.Close()
	for n := 0; rows.Next(); n++ {
		if n == limit {
			return true, nil
		}
		var r T
		if err := rows.Scan(fields(&r)...); err != nil {
			return false, mapErr(err)
		}
		if err := fn(&r); err != nil {
			return false, err
		}
	}
	return false, mapErr(rows.Err())
}
