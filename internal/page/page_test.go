package page

import (
	"encoding/base64"
	"testing"

	"github.com/smartfinance/riskgraph/internal/apperr"
)

func TestParseOrdered(t *testing.T) {
	enc := func(s string) *string {
		c := base64.RawURLEncoding.EncodeToString([]byte(s))
		return &c
	}
	for _, tt := range []struct {
		name     string
		after    *string
		order    string
		wantID   int64
		wantKey  string
		wantCode apperr.Code
	}{
		{"none", nil, "SCORE:DESC", 0, "", ""},
		{"its own order", enc("c2:SCORE:DESC:79.50:42"), "SCORE:DESC", 42, "79.50", ""},
		{"created-at ascending", enc("c2:CREATED_AT:ASC::42"), "CREATED_AT:ASC", 42, "", ""},
		{"the default order", enc("c1:42"), "", 42, "", ""},
		{"another direction", enc("c2:SCORE:DESC:79.50:42"), "SCORE:ASC", 0, "", apperr.BadInput},
		{"another field", enc("c2:AMOUNT:DESC:79.50:42"), "SCORE:DESC", 0, "", apperr.BadInput},
		{"a default cursor under an order", enc("c1:42"), "SCORE:DESC", 0, "", apperr.BadInput},
		{"an ordered cursor under the default", enc("c2:SCORE:DESC:1:42"), "", 0, "", apperr.BadInput},
		{"a key that is no number", enc("c2:SCORE:DESC:1); --:42"), "SCORE:DESC", 0, "", apperr.BadInput},
		{"no id", enc("c2:SCORE:DESC:1"), "SCORE:DESC", 0, "", apperr.BadInput},
		{"a bad id", enc("c2:SCORE:DESC:1:-4"), "SCORE:DESC", 0, "", apperr.BadInput},
		{"not base64", new("!!"), "SCORE:DESC", 0, "", apperr.BadInput},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseOrdered(nil, tt.after, tt.order)
			if got := codeOf(err); got != tt.wantCode {
				t.Fatalf("got %v; want %q", err, tt.wantCode)
			}
			if err == nil && (r.After != tt.wantID || r.AfterKey != tt.wantKey || r.Order != tt.order) {
				t.Errorf("got %+v; want after %d key %q order %q", r, tt.wantID, tt.wantKey, tt.order)
			}
		})
	}
	// A cursor made for an order is read back by it.
	c := OrderedCursor("AMOUNT:ASC", "12000.00", 9)
	if r, err := ParseOrdered(nil, &c, "AMOUNT:ASC"); err != nil || r.After != 9 || r.AfterKey != "12000.00" {
		t.Errorf("round trip: got %+v, %v", r, err)
	}
}

func codeOf(err error) apperr.Code {
	if err == nil {
		return ""
	}
	return apperr.CodeOf(err)
}
