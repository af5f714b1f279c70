package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/domain"
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
	Role   domain.Role
	Status domain.UserStatus
	Active bool
}

// sessionStateSQL runs on every authenticated request. bun would inline the
// values, so PostgreSQL parsed and planned it anew each time, which cost more
// than running it; written with parameters, it is prepared once per
// connection (pgx's statement cache) and only executed after that.
const sessionStateSQL = `SELECT u.role, u.status,
	EXISTS (SELECT 1 FROM sessions s WHERE s.id = $2 AND s.user_id = u.id AND s.revoked_at IS NULL AND s.expires_at > $3)
FROM users u WHERE u.id = $1`

// LoadSessionState reads the user's current role and status and whether the session is live.
func LoadSessionState(ctx context.Context, db *bun.DB, userID int64, sessionID uuid.UUID, now time.Time) (SessionState, error) {
	var st SessionState
	err := withPgx(ctx, db, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, sessionStateSQL, pgx.QueryExecModeCacheStatement, userID, sessionID, now).
			Scan(&st.Role, &st.Status, &st.Active)
	})
	return st, mapErr(err)
}

// SessionStates reads SessionState for many sessions in one query, keyed by
// session ID; a session that no longer exists is missing from the map.
func SessionStates(ctx context.Context, db bun.IDB, ids []uuid.UUID, now time.Time) (map[uuid.UUID]SessionState, error) {
	out := make(map[uuid.UUID]SessionState, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID     uuid.UUID
		Role   domain.Role
		Status domain.UserStatus
		Active bool
	}
	err := db.NewRaw(`SELECT s.id, u.role, u.status, s.revoked_at IS NULL AND s.expires_at > ? AS active
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id IN (?)`, now, bun.List(ids)).Scan(ctx, &rows)
	if err != nil {
		return nil, mapErr(err)
	}
	for _, r := range rows {
		out[r.ID] = SessionState{Role: r.Role, Status: r.Status, Active: r.Active}
	}
	return out, nil
}
