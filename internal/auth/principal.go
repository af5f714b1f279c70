package auth

import (
	"context"
	"github.com/smartfinance/riskgraph/internal/domain"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Role aliases the stored role so callers need not import store for it.
type Role = domain.Role

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID    int64
	Role      Role
	SessionID uuid.UUID
	// ExpiresAt is when the access token that authenticated the caller
	// expires; for an API key, when the key does (zero: never).
	ExpiresAt time.Time
	// APIKeyID is the API key that authenticated the caller, 0 for a session;
	// such a caller may use only the fields of its Scopes (HasScope).
	APIKeyID int64
	Scopes   []string
}

// The API key scopes (package apikey has the catalogue).
const (
	ScopeSubmit  = "transactions:submit"
	ScopeLogins  = "logins:record"
	ScopeLabels  = "labels:write"
	ScopeResults = "results:read"
)

// HasScope reports whether the caller may use a field of the scope: a
// session may use any its role allows, an API key only those of its scopes.
func (p Principal) HasScope(scope string) bool {
	return p.APIKeyID == 0 || (scope != "" && slices.Contains(p.Scopes, scope))
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the request's principal, if authenticated.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok && p.UserID != 0
}

type ipKey struct{}

// WithClientIP records the client's address for audit and login logs.
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, ipKey{}, ip)
}

// ClientIP is the client's address, "" when unknown.
func ClientIP(ctx context.Context) string {
	ip, _ := ctx.Value(ipKey{}).(string)
	return ip
}

type failureKey struct{}

// WithFailure records why a presented credential was refused, so the
// authorization check can tell "bad token" from "no token".
func WithFailure(ctx context.Context, err error) context.Context {
	return context.WithValue(ctx, failureKey{}, err)
}

// Failure is the recorded credential failure, nil when none.
func Failure(ctx context.Context) error {
	err, _ := ctx.Value(failureKey{}).(error)
	return err
}
