package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// A token verified once is remembered, yet its expiry is checked on every use,
// and a token differing in any byte is verified afresh.
func TestVerifyRemembersTokensButChecksTimes(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	tokens, err := NewTokens([]byte(strings.Repeat("s", 32)), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	want := Principal{UserID: 7, Role: "USER", SessionID: uuid.New()}
	token, exp, err := tokens.Issue(want, now)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		got, err := tokens.Verify(token)
		if err != nil || got.UserID != want.UserID || got.SessionID != want.SessionID || !got.ExpiresAt.Equal(exp) {
			t.Fatalf("got %+v, %v; want %+v expiring %v", got, err, want, exp)
		}
	}
	tampered := token[:len(token)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(token, "AA")]
	if _, err := tokens.Verify(tampered); err != ErrInvalidToken {
		t.Fatalf("tampered token: got %v, want ErrInvalidToken", err)
	}
	now = exp.Add(6 * time.Second) // past the leeway
	if _, err := tokens.Verify(token); err != ErrInvalidToken {
		t.Fatalf("expired token: got %v, want ErrInvalidToken", err)
	}
}
