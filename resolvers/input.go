package resolvers

import (
	"context"
	"net/netip"

	"github.com/smartfinance/riskgraph/graph/model"
	"github.com/smartfinance/riskgraph/internal/access"
	"github.com/smartfinance/riskgraph/internal/account"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
)

// Sizes of free-text inputs, so nothing unbounded reaches the database.
const (
	maxUserAgentLen = 512
	maxNoteLen      = 2000
)

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// validateIP accepts an IPv4 or IPv6 address.
func validateIP(field, ip string) error {
	if _, err := netip.ParseAddr(ip); err != nil {
		return apperr.Invalid(field, "is not an IP address")
	}
	return nil
}

// clientInfo is where a login or registration came from: the address from the
// connection (auth.ClientIP, which honours the trusted proxies) and the agent
// from the request. Only a SERVICE caller (a payment system reporting its
// customer's login) may state the end user's address, agent and location;
// anyone else's claims are ignored, never stored as facts. The device ID is
// always the client's own claim.
func clientInfo(ctx context.Context, ip, userAgent, deviceID *string, loc *domain.Location) account.ClientInfo {
	info := account.ClientInfo{IPAddress: auth.ClientIP(ctx), UserAgent: userAgentFrom(ctx), DeviceFingerprint: deref(deviceID)}
	if p, ok := auth.FromContext(ctx); ok && access.StateClientFacts(p) {
		if ip != nil && *ip != "" {
			info.IPAddress = *ip
		}
		if userAgent != nil {
			info.UserAgent = *userAgent
		}
		info.Location = loc
	}
	return info
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

type userAgentKey struct{}

// WithUserAgent records the request's User-Agent header for login logs.
func WithUserAgent(ctx context.Context, ua string) context.Context {
	return context.WithValue(ctx, userAgentKey{}, truncate(ua, maxUserAgentLen))
}

func userAgentFrom(ctx context.Context) string {
	ua, _ := ctx.Value(userAgentKey{}).(string)
	return ua
}

func authPayload(res *account.AuthPayload) *model.AuthPayload {
	if res == nil {
		return nil
	}
	return &model.AuthPayload{AccessToken: res.AccessToken, RefreshToken: res.RefreshToken, ExpiresAt: res.ExpiresAt, User: res.User}
}
