package main

import (
	"context"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// TestSessionCacheStalenessIsBounded: sessions are served from each
// instance's memory for at most SESSION_CACHE_TTL (1 s); a change made on one
// instance ends them on the instance that made it at once, on another
// through the session notification, and without any notification once the
// bound has passed.
func TestSessionCacheStalenessIsBounded(t *testing.T) {
	a := newEnv(t)
	b := newEnvOn(t, a.db, a.url)
	const me = `{ me { id } }`
	ok := func(e *testEnv, token string) bool { return e.post(t, token, me, nil).code() == "" }
	// refusedWithin polls until the token is refused, failing past the bound.
	refusedWithin := func(e *testEnv, token string, bound time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		for ok(e, token) {
			if time.Since(start) > bound {
				t.Fatalf("still accepted %v after the change; the bound is %v", time.Since(start), bound)
			}
			time.Sleep(10 * time.Millisecond)
		}
		return time.Since(start)
	}

	t.Run("the instance that made the change", func(t *testing.T) {
		s := a.user(t, "ann", domain.RoleUser)
		if !ok(b, s.AccessToken) || !ok(a, s.AccessToken) {
			t.Fatal("a fresh session was refused")
		}
		a.must(t, s.AccessToken, `mutation { logout }`, nil, nil)
		if ok(a, s.AccessToken) {
			t.Fatal("the instance that logged the session out still accepts it")
		}
		t.Logf("another instance refused it after %v (notification)", refusedWithin(b, s.AccessToken, time.Second))
	})

	t.Run("freeze on another instance", func(t *testing.T) {
		s := a.user(t, "ben", domain.RoleUser)
		admin := a.user(t, "root", domain.RoleAdmin)
		if !ok(b, s.AccessToken) {
			t.Fatal("a fresh session was refused")
		}
		a.must(t, admin.AccessToken, `mutation($id: ID!) { updateUserStatus(id: $id, status: FROZEN) { status } }`, map[string]any{"id": s.User.ID}, nil)
		t.Logf("another instance refused a frozen user after %v", refusedWithin(b, s.AccessToken, time.Second))
	})

	t.Run("a change no notification announced", func(t *testing.T) {
		s := a.user(t, "cat", domain.RoleUser)
		if !ok(b, s.AccessToken) {
			t.Fatal("a fresh session was refused")
		}
		// Revoke behind the triggers' back, as if the notification were lost.
		ctx := context.Background()
		tx, err := a.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback() //nolint:errcheck
		if _, err := tx.ExecContext(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE sessions SET revoked_at = now() WHERE user_id = ?", s.User.ID); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		// Served from memory meanwhile (this is the cache at work), then refused
		// once the entry is a second old; the poll adds its own few milliseconds.
		took := refusedWithin(b, s.AccessToken, time.Second+250*time.Millisecond)
		t.Logf("refused after %v without a notification", took)
	})
}

// BenchmarkAuthenticatedRequest: one authenticated `me` through the real
// handler, with the session state from memory or from the database.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	for _, tt := range []struct {
		name string
		ttl  time.Duration
	}{{"cached", time.Second}, {"database", 0}} {
		b.Run(tt.name, func(b *testing.B) {
			e, _ := newEnvWith(b, func(c *config) { c.Limits.SessionCacheTTL = tt.ttl })
			s := e.user(b, "bench", domain.RoleUser)
			b.ResetTimer()
			for b.Loop() {
				if res := e.post(b, s.AccessToken, `{ me { id } }`, nil); res.code() != "" {
					b.Fatal(res.Errors)
				}
			}
		})
	}
}
