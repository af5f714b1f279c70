package domain

import (
	"time"

	"github.com/uptrace/bun"
)

// ListKind is what a list holds; engine.ListKind has the same values.
type ListKind string

// ListMode says what a list is for. Both are read by rules with inList: a
// BLOCK list in a condition that flags, an ALLOW list in one that exempts
// (!inList(...)).
type ListMode string

// The list modes.
const (
	ListBlock ListMode = "BLOCK"
	ListAllow ListMode = "ALLOW"
)

// List is a named block or allow list of values of one kind.
type List struct {
	bun.BaseModel `bun:"table:lists,alias:l"`

	ID          int64     `bun:"id,pk,autoincrement"`
	Name        string    `bun:"name"`
	Kind        ListKind  `bun:"kind"`
	Mode        ListMode  `bun:"mode"`
	Description string    `bun:"description"`
	CreatedBy   *int64    `bun:"created_by"`
	UpdatedBy   *int64    `bun:"updated_by"`
	CreatedAt   time.Time `bun:"created_at"`
	UpdatedAt   time.Time `bun:"updated_at"`
}

// ListEntry is one value of a list, stored normalised.
type ListEntry struct {
	bun.BaseModel `bun:"table:list_entries,alias:le"`

	ID        int64      `bun:"id,pk,autoincrement"`
	ListID    int64      `bun:"list_id"`
	Value     string     `bun:"value"`
	ExpiresAt *time.Time `bun:"expires_at"`
	Note      string     `bun:"note"`
	CreatedBy *int64     `bun:"created_by"`
	CreatedAt time.Time  `bun:"created_at"`
}
