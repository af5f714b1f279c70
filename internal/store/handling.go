package store

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// RiskEventForUpdate locks an event for a workflow step. NO KEY UPDATE
// serializes handlers yet lets writers that only reference the event (a
// timeline entry of a review or an alert's handling) proceed, so a step that
// then settles the event's transaction or alerts can't deadlock with them.
func RiskEventForUpdate(ctx context.Context, db bun.IDB, id int64) (*domain.RiskEvent, error) {
	e := new(domain.RiskEvent)
	err := db.NewSelect().Model(e).Where("id = ?", id).For("NO KEY UPDATE").Scan(ctx)
	return e, mapErr(err)
}

// SaveRiskEvent writes a handled event back, bumping its version.
func SaveRiskEvent(ctx context.Context, db bun.IDB, e *domain.RiskEvent) error {
	_, err := db.NewUpdate().Model(e).
		Column("status", "assignee_id", "handled_at", "closed_at").
		Set("version = version + 1").Set("updated_at = now()").
		WherePK().Returning("version, updated_at").Exec(ctx)
	return mapErr(err)
}

// AlertForUpdate locks an alert for handling.
func AlertForUpdate(ctx context.Context, db bun.IDB, id int64) (*domain.Alert, error) {
	a := new(domain.Alert)
	err := db.NewSelect().Model(a).Where("id = ?", id).For("UPDATE").Scan(ctx)
	return a, mapErr(err)
}

// SaveAlert writes a handled alert back.
func SaveAlert(ctx context.Context, db bun.IDB, a *domain.Alert) error {
	_, err := db.NewUpdate().Model(a).Column("status", "handled_by", "handled_at", "handle_note").WherePK().Exec(ctx)
	return mapErr(err)
}

// InsertHandlingRecord appends a handling record.
func InsertHandlingRecord(ctx context.Context, db bun.IDB, r *domain.HandlingRecord) error {
	_, err := db.NewInsert().Model(r).Returning("id, created_at").Exec(ctx)
	return mapErr(err)
}

// HandlingRecordsByEventIDs loads each event's handling records (its alerts' included), oldest first.
func HandlingRecordsByEventIDs(ctx context.Context, db bun.IDB, ids []int64) (map[int64][]*domain.HandlingRecord, error) {
	var rows []*struct {
		OwnerID int64 `bun:"owner_id"`
		domain.HandlingRecord
	}
	err := db.NewRaw(`SELECT coalesce(hr.event_id, a.event_id) AS owner_id, hr.*
		FROM handling_records hr LEFT JOIN alerts a ON a.id = hr.alert_id
		WHERE hr.event_id IN (?0) OR a.event_id IN (?0) ORDER BY hr.id`, bun.List(ids)).Scan(ctx, &rows)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make(map[int64][]*domain.HandlingRecord, len(ids))
	for _, r := range rows {
		rec := r.HandlingRecord
		out[r.OwnerID] = append(out[r.OwnerID], &rec)
	}
	return out, nil
}
