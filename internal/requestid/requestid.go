// Package requestid gives every request an ID that each of its log lines
// carries and its response names (X-Request-ID), so one request's lines can
// be found together, across the log of a busy instance.
package requestid

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"regexp"
)

// Header is where a request's ID is read from a proxy and written to the client.
const Header = "X-Request-ID"

type key struct{}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context { return context.WithValue(ctx, key{}, id) }

// From is ctx's request ID, "" outside a request.
func From(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}

// plain is what a proxy's ID may look like to be kept: short, and nothing
// that could forge or break a log line.
var plain = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Middleware gives each request an ID — the X-Request-ID a proxy set when it
// is plain, else a new random one — and names it in the response.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(Header)
		if !plain.MatchString(id) {
			id = rand.Text()[:16]
		}
		w.Header().Set(Header, id)
		next.ServeHTTP(w, r.WithContext(With(r.Context(), id)))
	})
}

// LogHandler adds request_id to every record logged with a request's context.
func LogHandler(h slog.Handler) slog.Handler { return handler{h} }

type handler struct{ slog.Handler }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	if id := From(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return handler{h.Handler.WithAttrs(attrs)}
}

func (h handler) WithGroup(name string) slog.Handler { return handler{h.Handler.WithGroup(name)} }
