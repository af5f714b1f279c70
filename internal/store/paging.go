package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/page"
)

// listPage runs a keyset-paginated listing over T's table: filter narrows both
// the page and the total count; rows come by idColumn, newest first unless ascending.
func listPage[T any](ctx context.Context, db bun.IDB, idColumn string, ascending bool,
	filter func(*bun.SelectQuery) *bun.SelectQuery, p page.Request,
) (page.Result[*T], error) {
	var rows []*T
	q := filter(db.NewSelect().Model(&rows)).Limit(p.Limit())
	switch {
	case ascending:
		q = q.Where(idColumn+" > ?", p.After).OrderExpr(idColumn + " ASC")
	case p.After > 0:
		q = q.Where(idColumn+" < ?", p.After).OrderExpr(idColumn + " DESC")
	default:
		q = q.OrderExpr(idColumn + " DESC")
	}
	if err := q.Scan(ctx); err != nil {
		return page.Result[*T]{}, mapErr(err)
	}
	total, err := filter(db.NewSelect().Model((*T)(nil))).Count(ctx)
	if err != nil {
		return page.Result[*T]{}, mapErr(err)
	}
	return page.Trim(rows, p.Size, int(total)), nil
}

// whereEq narrows q to column = *v when v is set.
func whereEq[T any](q *bun.SelectQuery, column string, v *T) *bun.SelectQuery {
	if v == nil {
		return q
	}
	return q.Where(column+" = ?", *v)
}

// whereSince narrows q to from ≤ column < to for the bounds that are set.
func whereSince(q *bun.SelectQuery, column string, from, to *time.Time) *bun.SelectQuery {
	if from != nil {
		q = q.Where(column+" >= ?", *from)
	}
	if to != nil {
		q = q.Where(column+" < ?", *to)
	}
	return q
}

// filtered binds a filter to the function that applies it, for listPage.
func filtered[F any](apply func(*bun.SelectQuery, F) *bun.SelectQuery, f F) func(*bun.SelectQuery) *bun.SelectQuery {
	return func(q *bun.SelectQuery) *bun.SelectQuery { return apply(q, f) }
}
