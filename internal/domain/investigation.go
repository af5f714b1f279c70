package domain

import (
	"encoding/json"
	"time"

	"github.com/uptrace/bun"
)

// HandlingRecord is one analyst action on a risk event or an alert.
type HandlingRecord struct {
	bun.BaseModel `bun:"table:handling_records,alias:hr"`

	ID         int64     `bun:"id,pk,autoincrement"`
	EventID    *int64    `bun:"event_id"`
	AlertID    *int64    `bun:"alert_id"`
	ActorID    *int64    `bun:"actor_id"`
	Action     string    `bun:"action"`
	FromStatus *string   `bun:"from_status"`
	ToStatus   *string   `bun:"to_status"`
	Note       string    `bun:"note"`
	CreatedAt  time.Time `bun:"created_at,nullzero,notnull,default:current_timestamp"`
}

// DataSourceKind is how a source delivers data.
type DataSourceKind string

// The data source kinds.
const (
	SourceAPI      DataSourceKind = "API"
	SourceDatabase DataSourceKind = "DATABASE"
	SourceFile     DataSourceKind = "FILE"
	SourceStream   DataSourceKind = "STREAM"
)

// DataSourceStatus tells whether a source is in use.
type DataSourceStatus string

// The data source statuses.
const (
	SourceActive DataSourceStatus = "ACTIVE"
	SourcePaused DataSourceStatus = "PAUSED"
	SourceError  DataSourceStatus = "ERROR"
)

// DataSource is a feed transactions come from.
type DataSource struct {
	bun.BaseModel `bun:"table:data_sources,alias:ds"`

	ID          int64          `bun:"id,pk,autoincrement"`
	Name        string         `bun:"name"`
	Kind        DataSourceKind `bun:"kind"`
	Description string         `bun:"description"`
	// Config may hold credentials: it is never returned as stored (see datasource.Redact).
	StoredConfig json.RawMessage  `bun:"config,type:jsonb" json:"-"`
	Status       DataSourceStatus `bun:"status"`
	LastSeenAt   *time.Time       `bun:"last_seen_at"`
	CreatedAt    time.Time        `bun:"created_at,nullzero,notnull,default:current_timestamp"`
	UpdatedAt    time.Time        `bun:"updated_at,nullzero,notnull,default:current_timestamp"`
}
