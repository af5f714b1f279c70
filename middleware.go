package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/resolvers"
)

// withClient attaches the client's address and credentials to the request.
func (a *app) withClient(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := auth.WithClientIP(r.Context(), a.clientIP(r))
		ctx = resolvers.WithUserAgent(ctx, r.UserAgent())
		if isWebsocket(r) {
			a.serveWebsocket(w, r.WithContext(ctx), next)
			return
		}
		ctx = a.authenticate(ctx, r.Header.Get("Authorization"), r.Header.Get(apiKeyHeader))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// apiKeyHeader carries an API key, as `Authorization: ApiKey <key>` does.
const apiKeyHeader = "X-Api-Key"

// authenticate records the request's caller, or why its credential was
// refused (answered by the first field that needs a caller).
func (a *app) authenticate(ctx context.Context, authorization, apiKey string) context.Context {
	cred, err := auth.ParseCredential(authorization, apiKey)
	if err != nil {
		return auth.WithFailure(ctx, err)
	}
	if cred.Scheme == auth.NoCredential {
		return ctx
	}
	p, err := a.checkCredential(ctx, cred)
	if err != nil {
		return auth.WithFailure(ctx, err)
	}
	return auth.WithPrincipal(ctx, p)
}

// checkCredential is the one check of a presented credential, for HTTP
// requests and websockets alike: an access token against its session, an API
// key against its row; either way the account's current role and status.
func (a *app) checkCredential(ctx context.Context, cred auth.Credential) (auth.Principal, error) {
	if cred.Scheme == auth.APIKey {
		return a.keys.Authenticate(ctx, cred.Secret)
	}
	return a.accounts.Authenticate(ctx, cred.Secret)
}

// apiPolicy forbids everything to a document that is not a page: an API
// answer rendered by mistake can load nothing and be framed by no one.
const apiPolicy = "default-src 'none'; frame-ancestors 'none'"

// securityHeaders marks every answer private to its client (tokens are in
// API responses) and unframeable, with no content sniffing or referrer leaks.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", apiPolicy)
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (a *app) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if isWebsocket(r) {
			// A hijacked connection has no status worth wrapping for.
			a.log.InfoContext(r.Context(), "websocket opened", "remote", a.clientIP(r))
			next.ServeHTTP(w, r)
			a.log.InfoContext(r.Context(), "websocket closed", "remote", a.clientIP(r), "duration", time.Since(start))
			return
		}
		if a.draining.Load() {
			w.Header().Set("Connection", "close")
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		level := slog.LevelInfo
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" {
			level = slog.LevelDebug
		}
		// One access line per request; its attributes are built only when it is logged.
		if ctx := r.Context(); a.log.Enabled(ctx, level) {
			a.log.LogAttrs(ctx, level, "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", sw.status), slog.Duration("duration", time.Since(start)), slog.String("remote", a.clientIP(r)))
		}
	})
}

// isWebsocket matches what gqlgen's websocket transport takes (any Upgrade
// header), so no upgrade can skip the websocket path's cap and authentication.
func isWebsocket(r *http.Request) bool {
	return r.Header.Get("Upgrade") != ""
}

// clientIP is the request's client: the TCP peer, or, when the peer is a
// trusted proxy, the nearest X-Forwarded-For hop that is not one (hops
// further left were written by the client and prove nothing).
func (a *app) clientIP(r *http.Request) string {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	client := peer.Addr().Unmap()
	if !a.trusted(client) {
		return client.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		client = hop.Unmap()
		if !a.trusted(client) {
			break
		}
	}
	return client.String()
}

func (a *app) trusted(addr netip.Addr) bool {
	return slices.ContainsFunc(a.trustedProxies, func(p netip.Prefix) bool { return p.Contains(addr) })
}
