package gqlhttp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
)

// PersistedQueries answers as gqlgen's AutomaticPersistedQuery does, for the
// extension as both transports decode it (float64 or json.Number versions).
func TestPersistedQueries(t *testing.T) {
	const query = `{ me { id } }`
	sum := sha256.Sum256([]byte(query))
	hash := hex.EncodeToString(sum[:])
	p := PersistedQueries{Cache: lru.New[string](10)}
	ctx := context.Background()
	run := func(query string, ext any) (string, string) {
		raw := &graphql.RawParams{Query: query, Extensions: map[string]any{"persistedQuery": ext}}
		if ext == nil {
			raw.Extensions = nil
		}
		if err := p.MutateOperationParameters(ctx, raw); err != nil {
			code, _ := err.Extensions["code"].(string)
			return "", err.Message + " " + code
		}
		return raw.Query, ""
	}
	for _, tt := range []struct {
		name, query string
		ext         any
		want, err   string
	}{
		{"no extension", query, nil, query, ""},
		{"miss", "", map[string]any{"version": 1.0, "sha256Hash": hash}, "", "PersistedQueryNotFound PERSISTED_QUERY_NOT_FOUND"},
		{"wrong hash", query, map[string]any{"version": 1.0, "sha256Hash": "00"}, "", "provided APQ hash does not match query "},
		{"register", query, map[string]any{"version": 1.0, "sha256Hash": hash}, query, ""},
		{"hit", "", map[string]any{"version": 1.0, "sha256Hash": hash}, query, ""},
		{"hit, GET's numbers", "", map[string]any{"version": json.Number("1"), "sha256Hash": hash}, query, ""},
		{"version 2", "", map[string]any{"version": 2.0, "sha256Hash": hash}, "", "unsupported APQ version "},
		{"no version", "", map[string]any{"sha256Hash": hash}, "", "unsupported APQ version "},
		{"version a string", "", map[string]any{"version": "1", "sha256Hash": hash}, "", "invalid APQ extension data "},
		{"hash a number", "", map[string]any{"version": 1.0, "sha256Hash": 5.0}, "", "invalid APQ extension data "},
		{"not an object", "", "x", "", "invalid APQ extension data "},
	} {
		got, err := run(tt.query, tt.ext)
		if got != tt.want || err != tt.err {
			t.Errorf("%s: got %q, %q; want %q, %q", tt.name, got, err, tt.want, tt.err)
		}
	}
}
