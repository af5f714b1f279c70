package domain

import (
	"time"

	"github.com/uptrace/bun"
)

// APIKey is a SERVICE account's credential for machine clients. Only a hash
// of the key is stored; Prefix is its public start, shown in listings.
type APIKey struct {
	bun.BaseModel `bun:"table:api_keys,alias:k"`

	ID          int64      `bun:"id,pk,autoincrement"`
	UserID      int64      `bun:"user_id"`
	Name        string     `bun:"name"`
	Prefix      string     `bun:"prefix"`
	KeyHash     []byte     `bun:"key_hash" json:"-"`
	Scopes      []string   `bun:"scopes,array"`
	CreatedByID *int64     `bun:"created_by"`
	CreatedAt   time.Time  `bun:"created_at"`
	ExpiresAt   *time.Time `bun:"expires_at"`
	RevokedAt   *time.Time `bun:"revoked_at"`
	LastUsedAt  *time.Time `bun:"last_used_at"`
	// RotatedFromID is the key this one replaced (rotateApiKey).
	RotatedFromID *int64 `bun:"rotated_from"`
}

// Live reports whether the key authenticates at now: not revoked, not expired.
func (k *APIKey) Live(now time.Time) bool {
	return k.RevokedAt == nil && (k.ExpiresAt == nil || k.ExpiresAt.After(now))
}

// APIKeyFilter narrows an API key listing.
type APIKeyFilter struct {
	UserID *int64
}
