package resolvers

import (
	"context"
	"encoding/json"

	"github.com/vikstrous/dataloadgen"

	"github.com/smartfinance/riskgraph/internal/access"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/loader"
)

// Related objects reached through the graph obey the same visibility as top-level
// look-ups; what the caller may not see resolves to null.

func visibleUser(ctx context.Context, id int64) (*domain.User, error) {
	if !access.SeeUser(principal(ctx), id) {
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
	if id == 0 { // a LOGIN event's or alert's
		return nil, nil
	}
	t, err := loader.Maybe(ctx, loader.For(ctx).TransactionByID, id)
	if err != nil || t == nil || !access.SeeTransaction(principal(ctx), t) {
		return nil, err
	}
	return t, nil
}

// visibleDetection is the detection as the caller may see it (access.SeeDetectionDetail).
func visibleDetection(ctx context.Context, d *domain.Detection) *domain.Detection {
	if access.SeeDetectionDetail(principal(ctx)) {
		return d
	}
	v := *d
	v.Features, v.ShadowRules, v.ModelContributions = json.RawMessage("{}"), []domain.MatchedRule{}, nil
	return &v
}

// visibleEvent loads an event through one of the event loaders.
func visibleEvent(ctx context.Context, l *dataloadgen.Loader[int64, *domain.RiskEvent], key int64) (*domain.RiskEvent, error) {
	e, err := loader.Maybe(ctx, l, key)
	if err != nil || e == nil || !access.SeeCase(principal(ctx), e.UserID) {
		return nil, err
	}
	return e, nil
}
