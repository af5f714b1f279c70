package resolvers

import (
	"github.com/smartfinance/riskgraph/graph/model"
	"github.com/smartfinance/riskgraph/internal/page"
)

// edges turns a page of rows into Relay edges and page info.
func edges[T, E any](res page.Result[T], key func(T) int64, edge func(cursor string, node T) E) ([]E, *model.PageInfo) {
	out := make([]E, len(res.Rows))
	info := &model.PageInfo{HasNextPage: res.HasNextPage}
	for i, row := range res.Rows {
		out[i] = edge(res.Cursor(i, key(row)), row)
	}
	if n := len(out); n > 0 {
		first, last := res.Cursor(0, key(res.Rows[0])), res.Cursor(n-1, key(res.Rows[n-1]))
		info.StartCursor, info.EndCursor = &first, &last
	}
	return out, info
}
