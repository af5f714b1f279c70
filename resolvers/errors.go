package resolvers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
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
			field := appErr.Field
			if field == "" && appErr.Code == apperr.BadInput {
				// A scalar refused while reading an argument knows no field; its path does.
				if field = argumentField(ctx, gqlErr.Path); field != "" {
					gqlErr.Message = field + ": " + appErr.Message
				}
			}
			if field != "" {
				ext["field"] = field
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
			ext := map[string]any{"code": clientCode(parsed)}
			if field, ok := parsed.Extensions["field"]; ok {
				ext["field"] = field
			}
			parsed.Extensions = ext
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

// persistedQueryNotFound is what gqlgen's APQ extension answers for a hash it
// doesn't hold; Apollo's and urql's persisted-query clients resend the full
// query on it.
const persistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"

// clientCode keeps the codes GraphQL clients act on that gqlgen set on a
// request error: a document that does not parse or validate, an APQ miss.
// Everything else the client sent wrong — variables that don't coerce (as
// Apollo Server answers them), our own operation guards — is BAD_USER_INPUT.
func clientCode(err *gqlerror.Error) string {
	switch code, _ := err.Extensions["code"].(string); code {
	case errcode.ParseFailed, persistedQueryNotFound:
		return code
	case errcode.ValidationFailed:
		if len(err.Path) == 0 || err.Path[0] != ast.PathName("variable") {
			return code
		}
	}
	return string(apperr.BadInput)
}

// argumentField names the input an argument error is about, as use cases name
// theirs: the path inside the argument ("location.latitude"), or the
// argument itself when it is the value. It is "" for a resolver's error,
// whose path is the field's own.
func argumentField(ctx context.Context, path ast.Path) string {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return ""
	}
	base := fc.Path()
	if len(path) <= len(base) || !slices.Equal(path[:len(base)], base) {
		return ""
	}
	inner := path[len(base):]
	if len(inner) > 1 {
		inner = inner[1:]
	}
	return ast.Path(inner).String()
}

// Recover turns a resolver panic into INTERNAL without leaking its value.
func Recover(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, v any) error {
		log.ErrorContext(ctx, "panic in resolver", "panic", fmt.Sprint(v))
		return apperr.New(apperr.Internal, "internal error")
	}
}
