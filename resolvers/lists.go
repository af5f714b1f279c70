package resolvers

import (
	"context"

	"github.com/smartfinance/riskgraph/graph/model"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/page"
)

// transactions lists transactions, optionally of one user (User.transactions).
func (r *Resolver) transactions(ctx context.Context, filter *domain.TransactionFilter, userID *int64, first *int, after *string, orderBy *domain.ListOrder) (*model.TransactionConnection, error) {
	o := deref(orderBy)
	req, err := page.ParseOrdered(first, after, o.Tag())
	if err != nil {
		return nil, err
	}
	f := deref(filter)
	if userID != nil {
		f.UserID = userID
	}
	res, err := r.Cases.Transactions(ctx, principal(ctx), f, o, req)
	if err != nil {
		return nil, err
	}
	return transactionConnection(res), nil
}

// transactionConnection is a page of transactions as a connection.
func transactionConnection(res page.Result[*domain.Transaction]) *model.TransactionConnection {
	es, info := edges(res, func(t *domain.Transaction) int64 { return t.ID },
		func(c string, t *domain.Transaction) *model.TransactionEdge {
			return &model.TransactionEdge{Cursor: c, Node: t}
		})
	return &model.TransactionConnection{Edges: es, PageInfo: info, TotalCount: res.TotalCount}
}
