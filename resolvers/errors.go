package resolvers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/smartfinance/riskgraph/internal/apperr"
)

// ErrorPresenter is the one function that maps errors to client codes.
// Unknown errors are logged and answered "internal error".
func ErrorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var appErr *apperr.Error
		if errors.As(err, &appErr) {
			gqlErr.Message = appErr.Message
			ext := map[string]any{"code": string(appErr.Code)}
			if appErr.Field != "" {
				ext["field"] = appErr.Field
			}
			if appErr.RetryAfter > 0 {
				ext["retryAfter"] = strconv.Itoa(int(appErr.RetryAfter.Seconds() + 0.999))
			}
			gqlErr.Extensions = ext
			if appErr.Code == apperr.Internal || appErr.Code == apperr.Unavailable {
				log.ErrorContext(ctx, "request failed", "code", appErr.Code, "path", gqlErr.Path.String(), "err", err)
			}
			return gqlErr
		}
		var parsed *gqlerror.Error
		if errors.As(err, &parsed) && parsed.Err == nil {
			// Parser, validation and input-coercion errors are the client's and safe to show.
			parsed.Extensions = map[string]any{"code": string(apperr.BadInput)}
			return parsed
		}
		log.ErrorContext(ctx, "internal error", "path", gqlErr.Path.String(), "err", err)
		return &gqlerror.Error{
			Message:    "internal error",
			Path:       gqlErr.Path,
			Locations:  gqlErr.Locations,
			Extensions: map[string]any{"code": string(apperr.Internal)},
		}
	}
}

// Recover turns a resolver panic into INTERNAL without leaking its value.
func Recover(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, v any) error {
		log.ErrorContext(ctx, "panic in resolver", "panic", fmt.Sprint(v))
		return apperr.New(apperr.Internal, "internal error")
	}
}
