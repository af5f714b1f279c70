// Package audit reads the audit trail; entries are written by each use case
// inside its own transaction (store.Audit), so an action and its record commit together.
package audit

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/page"
	"github.com/smartfinance/riskgraph/internal/store"
)

// Reader lists audit entries.
type Reader struct{ db bun.IDB }

// NewReader returns a reader over db.
func NewReader(db bun.IDB) *Reader { return &Reader{db: db} }

// AuditLogs pages through entries, newest first.
func (r *Reader) AuditLogs(ctx context.Context, f domain.AuditLogFilter, req page.Request) (page.Result[*domain.AuditLog], error) {
	return store.ListAudit(ctx, r.db, f, req)
}
