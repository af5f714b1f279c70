package store

import (
	"context"

	"github.com/uptrace/bun"
)

// IdempotencyKey ties a caller's key to the transaction it created.
type IdempotencyKey struct {
	bun.BaseModel `bun:"table:idempotency_keys"`

	CallerID      int64  `bun:"caller_id,pk"`
	Key           string `bun:"key,pk"`
	RequestHash   []byte `bun:"request_hash"`
	UserID        int64  `bun:"user_id"`
	TransactionID int64  `bun:"transaction_id"`
}

// FindIdempotencyKey returns the stored key, or ErrNotFound.
func FindIdempotencyKey(ctx context.Context, db bun.IDB, callerID int64, key string) (*IdempotencyKey, error) {
	k := new(IdempotencyKey)
	err := db.NewSelect().Model(k).Where("caller_id = ? AND key = ?", callerID, key).Scan(ctx)
	return k, mapErr(err)
}

// InsertIdempotencyKey stores a key; a concurrent duplicate is ErrConflict at commit.
func InsertIdempotencyKey(ctx context.Context, db bun.IDB, k *IdempotencyKey) error {
	_, err := db.NewInsert().Model(k).Exec(ctx)
	return mapErr(err)
}
