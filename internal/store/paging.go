package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/apperr"
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

// keyset is a listing's order for listOrdered: by the SQL expression key,
// ties broken by the ID expression id, descending or not.
type keyset struct {
	key, id string
	desc    bool
}

// listOrdered is listPage under an order by a sort key: one query walks the
// keyset (key, id) to find the page's IDs and keys, load fetches their rows.
// The keys come back in the result for the cursors.
func listOrdered[T any](ctx context.Context, db bun.IDB, o keyset, filter func(*bun.SelectQuery) *bun.SelectQuery,
	p page.Request, load func(ctx context.Context, db bun.IDB, ids []int64) ([]*T, error), idOf func(*T) int64,
) (page.Result[*T], error) {
	var keys []struct {
		ID  int64  `bun:"id"`
		Key string `bun:"key"`
	}
	cmp, dir := ">", " ASC"
	if o.desc {
		cmp, dir = "<", " DESC"
	}
	q := filter(db.NewSelect().Model((*T)(nil))).
		ColumnExpr(o.id + " AS id").ColumnExpr(o.key + "::text AS key").
		OrderExpr(o.key + dir).OrderExpr(o.id + dir).Limit(p.Limit())
	if p.After > 0 {
		if p.AfterKey == "" {
			return page.Result[*T]{}, apperr.Invalid("after", "is not a valid cursor")
		}
		q = q.Where("("+o.key+", "+o.id+") "+cmp+" (?::numeric, ?)", p.AfterKey, p.After)
	}
	if err := q.Scan(ctx, &keys); err != nil {
		return page.Result[*T]{}, mapErr(err)
	}
	ids := make([]int64, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	loaded, err := load(ctx, db, ids)
	if err != nil {
		return page.Result[*T]{}, err
	}
	byID := make(map[int64]*T, len(loaded))
	for _, row := range loaded {
		byID[idOf(row)] = row
	}
	total, err := filter(db.NewSelect().Model((*T)(nil))).Count(ctx)
	if err != nil {
		return page.Result[*T]{}, mapErr(err)
	}
	rows := make([]*T, 0, len(keys))
	res := page.Result[*T]{Order: p.Order}
	for _, k := range keys {
		// A row deleted between the two reads drops out of the page.
		if row, ok := byID[k.ID]; ok {
			rows = append(rows, row)
			res.Keys = append(res.Keys, k.Key)
		}
	}
	trimmed := page.Trim(rows, p.Size, int(total))
	res.Rows, res.HasNextPage, res.TotalCount = trimmed.Rows, trimmed.HasNextPage, trimmed.TotalCount
	if len(res.Keys) > len(res.Rows) {
		res.Keys = res.Keys[:len(res.Rows)]
	}
	return res, nil
}
