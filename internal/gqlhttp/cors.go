package gqlhttp

import (
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/rs/cors"
)

// corsMaxAge is how long a browser may reuse a preflight answer, in seconds:
// short enough that a changed ALLOWED_ORIGINS takes effect soon.
const corsMaxAge = 600

// CORS lets browser applications on the allowed origins call next: it answers
// their preflight requests and marks their actual requests readable. Origins
// match patterns as the websocket origin check matches them (see
// OriginAllowed), so one list governs both. Credentials are bearer tokens
// the application sends itself, never cookies, so none are allowed.
func CORS(patterns []string, next http.Handler) http.Handler {
	return cors.New(cors.Options{
		AllowOriginFunc: func(origin string) bool { return OriginAllowed(patterns, origin) },
		AllowedMethods:  []string{http.MethodGet, http.MethodPost},
		// What urql and Apollo Client send besides the CORS-safelisted headers.
		AllowedHeaders: []string{"Authorization", "Content-Type", "Accept",
			"Apollo-Require-Preflight", "X-Apollo-Operation-Name",
			"Apollographql-Client-Name", "Apollographql-Client-Version"},
		MaxAge: corsMaxAge,
	}).Handler(next)
}

// OriginAllowed matches an Origin header against host patterns as
// coder/websocket's AcceptOptions.OriginPatterns does: case-insensitively
// with path.Match, against the origin's host, or against "scheme://host"
// when the pattern has a scheme.
func OriginAllowed(patterns []string, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	for _, pattern := range patterns {
		target := u.Host
		if strings.Contains(pattern, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, _ := path.Match(strings.ToLower(pattern), strings.ToLower(target)); ok {
			return true
		}
	}
	return false
}
