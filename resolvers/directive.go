package resolvers

import (
	"context"
	"slices"

	"github.com/99designs/gqlgen/graphql"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
)

// HasRole implements @hasRole: the one place field-level roles, and API
// keys' scopes, are enforced.
func HasRole(ctx context.Context, _ any, next graphql.Resolver, roles []domain.Role, scope *string) (any, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		if err := auth.Failure(ctx); err != nil {
			return nil, err
		}
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	if len(roles) > 0 && !slices.Contains(roles, p.Role) {
		return nil, apperr.New(apperr.Forbidden, "your role may not do this")
	}
	if !p.HasScope(deref(scope)) {
		if deref(scope) == "" {
			return nil, apperr.New(apperr.Forbidden, "API keys may not call "+graphql.GetFieldContext(ctx).Field.Name+"; it is for logged-in sessions")
		}
		return nil, apperr.New(apperr.Forbidden, "this API key lacks the scope "+*scope)
	}
	return next(ctx)
}

// principal returns the caller; fields behind @hasRole always have one.
func principal(ctx context.Context) auth.Principal {
	p, _ := auth.FromContext(ctx)
	return p
}
