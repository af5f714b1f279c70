package resolvers

import (
	"context"
	"encoding/json"

	"github.com/vikstrous/dataloadgen"

	"github.com/smartfinance/riskgraph/internal/account"
	"github.com/smartfinance/riskgraph/internal/cases"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/loader"
)

// Related objects reached through the graph obey the same visibility as top-level
// look-ups; what the caller may not see resolves to null.

func visibleUser(ctx context.Context, id int64) (*domain.User, error) {
	if !account.CanSeeUser(principal(ctx), id) {
		return nil, nil
	}
	return loader.Maybe(ctx, loader.For(ctx).UserByID, id)
}

func visibleUserPtr(ctx context.Context, id *int64) (*domain.User, error) {
	if id == nil {
		return nil, nil
	}
	return visibleUser(ctx, *id)
}

func visibleTransaction(ctx context.Context, id int64) (*domain.Transaction, error) {
	t, err := loader.Maybe(ctx, loader.For(ctx).TransactionByID, id)
	if err != nil || t == nil || !cases.CanSeeTransaction(principal(ctx), t) {
		return nil, err
	}
	return t, nil
}

// visibleDetection is the detection as the caller may see it. A payment system
// gets the verdict and the matched rules that explain it, not what only staff
// (and the customer, about themselves) may read: the feature vector (the
// user's history across every channel), rules still in trial, and the model's
// per-feature explanation.
func visibleDetection(ctx context.Context, d *domain.Detection) *domain.Detection {
	if p := principal(ctx); p.Role.Staff() || p.Role.Customer() {
		return d
	}
	v := *d
	v.Features, v.ShadowRules, v.ModelContributions = json.RawMessage("{}"), []domain.MatchedRule{}, nil
	return &v
}

// visibleEvent loads an event through one of the event loaders.
func visibleEvent(ctx context.Context, l *dataloadgen.Loader[int64, *domain.RiskEvent], key int64) (*domain.RiskEvent, error) {
	e, err := loader.Maybe(ctx, l, key)
	if err != nil || e == nil || !cases.CanSeeCase(principal(ctx), e.UserID) {
		return nil, err
	}
	return e, nil
}
