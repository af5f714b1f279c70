package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/page"
)

// InsertAPIKey stores a new key (its hash, never the key).
func InsertAPIKey(ctx context.Context, db bun.IDB, k *domain.APIKey) error {
	_, err := db.NewInsert().Model(k).Returning("id").Exec(ctx)
	return mapErr(err)
}

// APIKeyForUpdate loads one key and locks it.
func APIKeyForUpdate(ctx context.Context, db bun.IDB, id int64) (*domain.APIKey, error) {
	k := new(domain.APIKey)
	err := db.NewSelect().Model(k).Where("id = ?", id).For("UPDATE").Scan(ctx)
	return k, mapErr(err)
}

// RevokeAPIKey revokes a live key; revoking it again changes nothing.
func RevokeAPIKey(ctx context.Context, db bun.IDB, id int64, at time.Time) error {
	_, err := db.NewUpdate().Model((*domain.APIKey)(nil)).Set("revoked_at = ?", at).
		Where("id = ? AND revoked_at IS NULL", id).Exec(ctx)
	return mapErr(err)
}

// ExpireAPIKeyBy moves a key's expiry to at, unless it expires sooner already.
func ExpireAPIKeyBy(ctx context.Context, db bun.IDB, id int64, at time.Time) error {
	_, err := db.NewUpdate().Model((*domain.APIKey)(nil)).Set("expires_at = ?", at).
		Where("id = ? AND (expires_at IS NULL OR expires_at > ?)", id, at).Exec(ctx)
	return mapErr(err)
}

// RevokeAPIKeysNamed revokes the user's live keys of that name (the demo key
// issued anew at each start) and returns their IDs.
func RevokeAPIKeysNamed(ctx context.Context, db bun.IDB, userID int64, name string, at time.Time) ([]int64, error) {
	var ids []int64
	_, err := db.NewUpdate().Model((*domain.APIKey)(nil)).Set("revoked_at = ?", at).
		Where("user_id = ? AND name = ? AND revoked_at IS NULL", userID, name).Returning("id").Exec(ctx, &ids)
	return ids, mapErr(err)
}

func applyAPIKeyFilter(q *bun.SelectQuery, f domain.APIKeyFilter) *bun.SelectQuery {
	return whereEq(q, "user_id", f.UserID)
}

// ListAPIKeys pages through keys, newest first.
func ListAPIKeys(ctx context.Context, db bun.IDB, f domain.APIKeyFilter, p page.Request) (page.Result[*domain.APIKey], error) {
	return listPage[domain.APIKey](ctx, db, "id", false, filtered(applyAPIKeyFilter, f), p)
}

// APIKeyState is what a presented key is checked against: the key row and
// its user's current role and status.
type APIKeyState struct {
	Key    domain.APIKey
	Role   domain.Role
	Status domain.UserStatus
}

// apiKeyStateSQL runs on every request with a key this instance has not
// cached; written with parameters, pgx prepares it once per connection (as
// sessionStateSQL).
const apiKeyStateSQL = `SELECT k.id, k.user_id, k.name, k.prefix, k.scopes, k.created_at, k.expires_at, k.revoked_at,
	k.last_used_at, u.role, u.status
FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = $1`

// LoadAPIKeyState reads the key with that hash and its user's role and
// status; ErrNotFound when no key has it.
func LoadAPIKeyState(ctx context.Context, db *bun.DB, hash []byte) (APIKeyState, error) {
	var st APIKeyState
	k := &st.Key
	err := withPgx(ctx, db, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, apiKeyStateSQL, pgx.QueryExecModeCacheStatement, hash).
			Scan(&k.ID, &k.UserID, &k.Name, &k.Prefix, &k.Scopes, &k.CreatedAt, &k.ExpiresAt, &k.RevokedAt,
				&k.LastUsedAt, &st.Role, &st.Status)
	})
	return st, mapErr(err)
}

// APIKeyStates reads, for many keys in one query, whether each is live at now
// and its user's role and status, keyed by key ID; a key that no longer
// exists is missing from the map.
func APIKeyStates(ctx context.Context, db bun.IDB, ids []int64, now time.Time) (map[int64]SessionState, error) {
	out := make(map[int64]SessionState, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID     int64
		Role   domain.Role
		Status domain.UserStatus
		Active bool
	}
	err := db.NewRaw(`SELECT k.id, u.role, u.status, k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ?) AS active
		FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.id IN (?)`, now, bun.List(ids)).Scan(ctx, &rows)
	if err != nil {
		return nil, mapErr(err)
	}
	for _, r := range rows {
		out[r.ID] = SessionState{Role: r.Role, Status: r.Status, Active: r.Active}
	}
	return out, nil
}

// TouchAPIKeys records when keys were last used (ID to time), in one
// statement; a time never moves back.
func TouchAPIKeys(ctx context.Context, db bun.IDB, used map[int64]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(used))
	ats := make([]time.Time, 0, len(used))
	for id, at := range used {
		ids = append(ids, id)
		ats = append(ats, at)
	}
	_, err := db.NewRaw(`UPDATE api_keys k SET last_used_at = u.at
		FROM unnest(?::bigint[], ?::timestamptz[]) AS u(id, at)
		WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)`, pgArray(ids), pgArray(ats)).Exec(ctx)
	return mapErr(err)
}
