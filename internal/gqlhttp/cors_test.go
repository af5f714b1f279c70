package gqlhttp

import "testing"

func TestOriginAllowed(t *testing.T) {
	patterns := []string{"app.example.com", "*.example.org", "https://console.example.net:8443"}
	for _, tt := range []struct {
		origin string
		want   bool
	}{
		{"https://app.example.com", true},
		{"http://APP.example.com", true}, // a host pattern allows any scheme, case-insensitively
		{"https://a.example.org", true},
		{"https://a.b.example.org", true}, // path.Match: * crosses dots, as in the websocket check
		{"https://example.org", false},
		{"https://console.example.net:8443", true},
		{"http://console.example.net:8443", false}, // a pattern with a scheme matches it
		{"https://console.example.net", false},
		{"https://app.example.com.evil.net", false},
		{"null", false},
		{"", false},
		{"https://", false},
	} {
		if got := OriginAllowed(patterns, tt.origin); got != tt.want {
			t.Errorf("OriginAllowed(%q): got %v, want %v", tt.origin, got, tt.want)
		}
	}
}
