package store

import (
	"context"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/domain"
)

// SettleHeld moves a PENDING_REVIEW transaction to its final status, recording
// who (nil: the system) and when. The status condition in the UPDATE makes it
// happen once however many try at the same time: settled is false, with no
// error, when the transaction is missing or no longer held.
func SettleHeld(ctx context.Context, db bun.IDB, id int64, to domain.TransactionStatus, by *int64, at time.Time) (t *domain.Transaction, settled bool, err error) {
	t = new(domain.Transaction)
	err = db.NewUpdate().Model(t).
		Set("status = ?", to).Set("reviewed_by = ?", by).Set("reviewed_at = ?", at).
		Where("id = ?", id).Where("status = ?", domain.TxPendingReview).
		Returning("*").Scan(ctx)
	if err = mapErr(err); errors.Is(err, apperr.ErrNotFound) {
		return nil, false, nil
	}
	return t, err == nil, err
}

// RiskEventIDByTransaction is the ID of the event a transaction opened; nil when it opened none.
func RiskEventIDByTransaction(ctx context.Context, db bun.IDB, txID int64) (*int64, error) {
	var ids []int64
	err := db.NewSelect().Model((*domain.RiskEvent)(nil)).Column("id").Where("transaction_id = ?", txID).Scan(ctx, &ids)
	if err != nil || len(ids) == 0 {
		return nil, mapErr(err)
	}
	return &ids[0], nil
}

// ResolvedAlert is an alert a settled event resolved, with the status it had.
type ResolvedAlert struct {
	ID   int64              `bun:"id"`
	From domain.AlertStatus `bun:"from_status"`
}

// ResolveEventAlerts resolves an event's open (NEW or ACKNOWLEDGED) alerts.
func ResolveEventAlerts(ctx context.Context, db bun.IDB, eventID, by int64, at time.Time) ([]ResolvedAlert, error) {
	var out []ResolvedAlert
	err := db.NewRaw(`UPDATE alerts AS a SET status = ?0, handled_by = ?1, handled_at = ?2
		FROM (SELECT id, status FROM alerts WHERE event_id = ?3 AND status IN (?4) ORDER BY id FOR NO KEY UPDATE) AS old
		WHERE a.id = old.id
		RETURNING a.id, old.status AS from_status`,
		domain.AlertResolved, by, at, eventID, bun.List([]domain.AlertStatus{domain.AlertNew, domain.AlertAcknowledged})).
		Scan(ctx, &out)
	return out, mapErr(err)
}

// OverdueHeld lists, oldest first, transactions held for review since before a time.
func OverdueHeld(ctx context.Context, db bun.IDB, before time.Time, limit int) ([]int64, error) {
	var ids []int64
	err := db.NewSelect().Model((*domain.Transaction)(nil)).Column("id").
		Where("status = ?", domain.TxPendingReview).Where("created_at < ?", before).
		OrderExpr("created_at, id").Limit(int64(limit)).Scan(ctx, &ids)
	return ids, mapErr(err)
}
