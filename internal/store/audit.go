package store

import (
	"context"
	"encoding/json"
	"github.com/smartfinance/riskgraph/internal/domain"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/smartfinance/riskgraph/internal/page"
)

func pgArray[T any](v []T) any { return pgdialect.Array(v) }

// Audit appends an audit entry; details is marshalled to JSON.
func Audit(ctx context.Context, db bun.IDB, actorID *int64, action, targetType, targetID string, details any, ip string) error {
	raw := json.RawMessage("{}")
	if details != nil {
		b, err := json.Marshal(details)
		if err != nil {
			return err
		}
		raw = b
	}
	entry := &domain.AuditLog{ActorID: actorID, Action: action, TargetType: targetType, TargetID: targetID, Details: raw, IPAddress: ip}
	_, err := db.NewInsert().Model(entry).Exec(ctx)
	return mapErr(err)
}

func applyAuditFilter(q *bun.SelectQuery, f domain.AuditLogFilter) *bun.SelectQuery {
	q = whereEq(q, "actor_id", f.ActorID)
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.TargetType != "" {
		q = q.Where("target_type = ?", f.TargetType)
	}
	if f.TargetID != "" {
		q = q.Where("target_id = ?", f.TargetID)
	}
	return whereSince(q, "created_at", f.From, f.To)
}

// ListAudit pages through audit entries, newest first.
func ListAudit(ctx context.Context, db bun.IDB, f domain.AuditLogFilter, p page.Request) (page.Result[*domain.AuditLog], error) {
	return listPage[domain.AuditLog](ctx, db, "id", false, filtered(applyAuditFilter, f), p)
}
