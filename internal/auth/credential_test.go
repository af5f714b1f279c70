package auth

import (
	"testing"

	"github.com/smartfinance/riskgraph/internal/apperr"
)

func TestParseCredential(t *testing.T) {
	for _, tt := range []struct {
		name, authorization, apiKey string
		want                        Credential
		bad                         bool
	}{
		{"none", "", "", Credential{}, false},
		{"bearer", "Bearer tok", "", Credential{Bearer, "tok"}, false},
		{"bearer, any case, spaces", "  bEaReR   tok ", "", Credential{Bearer, "tok"}, false},
		{"api key scheme", "ApiKey k", "", Credential{APIKey, "k"}, false},
		{"x-api-key", "", " k ", Credential{APIKey, "k"}, false},
		{"unknown scheme", "Basic dXNlcg==", "", Credential{}, true},
		{"no scheme", "tok", "", Credential{}, true},
		{"scheme alone", "Bearer", "", Credential{}, true},
		{"scheme and spaces", "ApiKey   ", "", Credential{}, true},
		{"both headers", "Bearer tok", "k", Credential{}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCredential(tt.authorization, tt.apiKey)
			if tt.bad {
				if apperr.CodeOf(err) != apperr.Unauthenticated {
					t.Fatalf("got %+v, %v; want UNAUTHENTICATED", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestPrincipalHasScope(t *testing.T) {
	session := Principal{UserID: 1}
	key := Principal{UserID: 1, APIKeyID: 2, Scopes: []string{"results:read"}}
	for _, tt := range []struct {
		name  string
		p     Principal
		scope string
		want  bool
	}{
		{"session, scoped field", session, "results:read", true},
		{"session, unscoped field", session, "", true},
		{"key, its scope", key, "results:read", true},
		{"key, another scope", key, "labels:write", false},
		{"key, unscoped field", key, "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.HasScope(tt.scope); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
