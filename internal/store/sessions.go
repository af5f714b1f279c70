package store

import (
	"context"
	"github.com/smartfinance/riskgraph/internal/domain"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// InsertSession starts a login session.
func InsertSession(ctx context.Context, db bun.IDB, s *domain.Session) error {
	_, err := db.NewInsert().Model(s).Returning("created_at").Exec(ctx)
	return mapErr(err)
}

// InsertRefreshToken stores a token hash in its session's family.
func InsertRefreshToken(ctx context.Context, db bun.IDB, t *domain.RefreshToken) error {
	_, err := db.NewInsert().Model(t).Exec(ctx)
	return mapErr(err)
}

// RefreshTokenForUpdate locks a refresh token and its session.
func RefreshTokenForUpdate(ctx context.Context, db bun.IDB, hash []byte) (*domain.RefreshToken, *domain.Session, error) {
	t := new(domain.RefreshToken)
	if err := db.NewSelect().Model(t).Where("token_hash = ?", hash).For("UPDATE").Scan(ctx); err != nil {
		return nil, nil, mapErr(err)
	}
	s := new(domain.Session)
	if err := db.NewSelect().Model(s).Where("id = ?", t.SessionID).For("UPDATE").Scan(ctx); err != nil {
		return nil, nil, mapErr(err)
	}
	return t, s, nil
}

// MarkRotated records that a refresh token has been exchanged.
func MarkRotated(ctx context.Context, db bun.IDB, hash []byte, at time.Time) error {
	_, err := db.NewUpdate().Model((*domain.RefreshToken)(nil)).Set("rotated_at = ?", at).
		Where("token_hash = ?", hash).Exec(ctx)
	return mapErr(err)
}

// RevokeSession ends a session and so its whole refresh-token family.
func RevokeSession(ctx context.Context, db bun.IDB, id uuid.UUID, at time.Time) error {
	_, err := db.NewUpdate().Model((*domain.Session)(nil)).Set("revoked_at = ?", at).
		Where("id = ? AND revoked_at IS NULL", id).Exec(ctx)
	return mapErr(err)
}

// RevokeUserSessions ends every session of a user except keep (uuid.Nil keeps none).
func RevokeUserSessions(ctx context.Context, db bun.IDB, userID int64, keep uuid.UUID, at time.Time) error {
	_, err := db.NewUpdate().Model((*domain.Session)(nil)).Set("revoked_at = ?", at).
		Where("user_id = ? AND id <> ? AND revoked_at IS NULL", userID, keep).Exec(ctx)
	return mapErr(err)
}

// SessionState is what a request's access token is checked against.
type SessionState struct {
	Role   domain.Role       `bun:"role"`
	Status domain.UserStatus `bun:"status"`
	Active bool              `bun:"active"`
}

// LoadSessionState reads the user's current role and status and whether the session is live.
func LoadSessionState(ctx context.Context, db bun.IDB, userID int64, sessionID uuid.UUID, now time.Time) (SessionState, error) {
	var st SessionState
	err := db.NewSelect().
		TableExpr("users AS u").
		ColumnExpr("u.role, u.status").
		ColumnExpr("EXISTS (SELECT 1 FROM sessions s WHERE s.id = ? AND s.user_id = u.id AND s.revoked_at IS NULL AND s.expires_at > ?) AS active", sessionID, now).
		Where("u.id = ?", userID).
		Scan(ctx, &st)
	return st, mapErr(err)
}
