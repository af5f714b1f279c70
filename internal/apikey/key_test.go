package apikey

import (
	"slices"
	"strings"
	"testing"
)

func TestNewKeyIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		key, prefix := newKey()
		if !wellFormed(key) || !strings.HasPrefix(key, prefix+"_") || len(prefix) != prefixLength || seen[key] {
			t.Fatalf("key %q, prefix %q: want a fresh well-formed key starting with its prefix", key, prefix)
		}
		seen[key] = true
	}
}

func TestWellFormed(t *testing.T) {
	good, _ := newKey()
	for _, tt := range []struct {
		name, key string
		want      bool
	}{
		{"fresh", good, true},
		{"empty", "", false},
		{"truncated", good[:len(good)-1], false},
		{"one more", good + "A", false},
		{"other tag", "rgx_" + good[4:], false},
		{"no separator", good[:prefixLength] + "A" + good[prefixLength+1:], false},
		{"lower case", strings.ToLower(good), false},
		{"outside base32", good[:len(good)-1] + "1", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := wellFormed(tt.key); got != tt.want {
				t.Fatalf("wellFormed(%q): got %v, want %v", tt.key, got, tt.want)
			}
		})
	}
}

func TestNormalizeScopes(t *testing.T) {
	got, err := normalizeScopes([]string{ScopeResults, ScopeSubmit, ScopeResults})
	if err != nil || !slices.Equal(got, []string{ScopeSubmit, ScopeResults}) {
		t.Fatalf("got %v, %v; want them deduplicated in catalogue order", got, err)
	}
	for _, bad := range [][]string{nil, {}, {"rules:write"}, {ScopeSubmit, "Results:Read"}} {
		if _, err := normalizeScopes(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}
