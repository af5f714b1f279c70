package resolvers

import (
	"context"
	"errors"

	"github.com/smartfinance/riskgraph/graph/model"
	"github.com/smartfinance/riskgraph/internal/access"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/submit"
)

// submitPayload is what a submission shows its caller: the case it opened
// follows the case rules, as Transaction.riskEvent does.
func submitPayload(ctx context.Context, res *submit.Result) *model.SubmitTransactionPayload {
	out := &model.SubmitTransactionPayload{Transaction: res.Transaction, Detection: visibleDetection(ctx, res.Detection)}
	if access.SeeCase(principal(ctx), res.Transaction.UserID) {
		out.RiskEvent, out.Alert = res.RiskEvent, res.Alert
	}
	return out
}

// itemError is a bulk item's error as ErrorPresenter would show it for the
// single mutation: the use case's code, message and field; anything else is
// logged and answered INTERNAL.
func (r *mutationResolver) itemError(ctx context.Context, err error) *model.ItemError {
	var appErr *apperr.Error
	if !errors.As(err, &appErr) {
		r.Log.ErrorContext(ctx, "bulk item failed", "err", err)
		return &model.ItemError{Code: string(apperr.Internal), Message: "internal error"}
	}
	if appErr.Code == apperr.Internal || appErr.Code == apperr.Unavailable {
		r.Log.ErrorContext(ctx, "bulk item failed", "code", appErr.Code, "err", err)
	}
	out := &model.ItemError{Code: string(appErr.Code), Message: appErr.Message}
	if appErr.Field != "" {
		out.Field = &appErr.Field
	}
	return out
}
