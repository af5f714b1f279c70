package pubsub

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/pgtest"
)

// TestSessionChangesReachEveryInstance pins the triggers of migration
// 20261206221500_session_notify: every change that must end live connections
// is announced to every instance at commit, and nothing else is.
func TestSessionChangesReachEveryInstance(t *testing.T) {
	db, dbURL := pgtest.New(t)
	f := newFixture(t, db)
	a, b := startInstance(t, db, dbURL), startInstance(t, db, dbURL)
	sessionID := uuid.New()
	if _, err := db.ExecContext(t.Context(), "INSERT INTO sessions (id, user_id, expires_at) VALUES (?, ?, now() + interval '1 day')", sessionID, f.userID); err != nil {
		t.Fatalf("insert session: %v", err)
	}
	user := SessionChange{UserID: f.userID}
	session := SessionChange{UserID: f.userID, SessionID: sessionID}
	for _, tt := range []struct {
		name   string
		change string
		want   *SessionChange // nil: no notification
	}{
		{"role", "UPDATE users SET role = 'ANALYST' WHERE id = ?", &user},
		{"same role again", "UPDATE users SET role = 'ANALYST' WHERE id = ?", nil},
		{"status", "UPDATE users SET status = 'FROZEN' WHERE id = ?", &user},
		{"password", "UPDATE users SET password_hash = 'y' WHERE id = ?", &user},
		{"other columns", "UPDATE users SET last_login_at = now(), email = 'new@example.com' WHERE id = ?", nil},
		{"session shortened", "UPDATE sessions SET expires_at = now() WHERE user_id = ?", &session},
		{"session revoked", "UPDATE sessions SET revoked_at = now() WHERE user_id = ?", &session},
		{"revoked again", "UPDATE sessions SET revoked_at = now() WHERE user_id = ?", nil},
		{"session deleted", "DELETE FROM sessions WHERE user_id = ?", &session},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := db.ExecContext(t.Context(), tt.change, f.userID); err != nil {
				t.Fatalf("change: %v", err)
			}
			barrier(t, db, a, b)
			for name, in := range map[string]*instance{"a": a, "b": b} {
				select {
				case got := <-in.sessions:
					if tt.want == nil || got != *tt.want {
						t.Errorf("instance %s: got %+v, want %v", name, got, tt.want)
					}
				default:
					if tt.want != nil {
						t.Errorf("instance %s: no notification, want %+v", name, *tt.want)
					}
				}
			}
		})
	}

	// A rolled-back change announces nothing.
	errRollback := errors.New("roll back")
	err := db.RunInTx(t.Context(), nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE users SET role = 'USER' WHERE id = ?", f.userID); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("rolled-back change: %v", err)
	}
	barrier(t, db, a, b)
	if len(a.sessions)+len(b.sessions) != 0 {
		t.Errorf("a rolled-back change was announced")
	}
}

// TestAPIKeyChangesReachEveryInstance pins the triggers of migration
// 20261207010000_api_keys: a key revoked, shortened (rotated) or deleted is
// announced with its ID; a later expiry or a second revocation is not.
func TestAPIKeyChangesReachEveryInstance(t *testing.T) {
	db, dbURL := pgtest.New(t)
	f := newFixture(t, db)
	a, b := startInstance(t, db, dbURL), startInstance(t, db, dbURL)
	var keyID int64
	if err := db.NewRaw(`INSERT INTO api_keys (user_id, name, prefix, key_hash, scopes, created_at)
		VALUES (?, 'k', 'rgk_AAAAAAAA', '\x00', '{results:read}', now()) RETURNING id`, f.userID).Scan(t.Context(), &keyID); err != nil {
		t.Fatalf("insert key: %v", err)
	}
	key := SessionChange{UserID: f.userID, APIKeyID: keyID}
	for _, tt := range []struct {
		name   string
		change string
		want   *SessionChange // nil: no notification
	}{
		{"expiry set", "UPDATE api_keys SET expires_at = now() + interval '1 day' WHERE user_id = ?", &key},
		{"expiry later", "UPDATE api_keys SET expires_at = now() + interval '2 days' WHERE user_id = ?", nil},
		{"expiry sooner (rotation)", "UPDATE api_keys SET expires_at = now() + interval '1 minute' WHERE user_id = ?", &key},
		{"last use", "UPDATE api_keys SET last_used_at = now() WHERE user_id = ?", nil},
		{"revoked", "UPDATE api_keys SET revoked_at = now() WHERE user_id = ?", &key},
		{"revoked again", "UPDATE api_keys SET revoked_at = now() WHERE user_id = ?", nil},
		{"deleted", "DELETE FROM api_keys WHERE user_id = ?", &key},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := db.ExecContext(t.Context(), tt.change, f.userID); err != nil {
				t.Fatalf("change: %v", err)
			}
			barrier(t, db, a, b)
			for name, in := range map[string]*instance{"a": a, "b": b} {
				select {
				case got := <-in.sessions:
					if tt.want == nil || got != *tt.want {
						t.Errorf("instance %s: got %+v, want %v", name, got, tt.want)
					}
				default:
					if tt.want != nil {
						t.Errorf("instance %s: no notification, want %+v", name, *tt.want)
					}
				}
			}
		})
	}
}
