package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/page"
)

// LabelledRow is one labelled transaction's feature snapshot, as training reads it.
type LabelledRow struct {
	TransactionID int64
	Features      json.RawMessage
	Label         domain.Label
}

// EachLabelledDetection streams the labelled detections of transactions that
// occurred in [from, to), newest first, at most limit rows; it reports whether
// more remained. It starts from the labels, which are few, so its cost does
// not grow with unlabelled traffic.
func EachLabelledDetection(ctx context.Context, db bun.IDB, from, to time.Time, limit int, fn func(*LabelledRow) error) (bool, error) {
	return eachBounded(ctx, db, limit, fn, func(r *LabelledRow) []any { return []any{&r.TransactionID, &r.Features, &r.Label} },
		`SELECT t.id, dt.features, l.label
		FROM transaction_labels l
		JOIN transactions t ON t.user_id = l.user_id AND t.id = l.transaction_id
		JOIN detections dt ON dt.user_id = l.user_id AND dt.transaction_id = l.transaction_id
		WHERE t.occurred_at >= ? AND t.occurred_at < ?
		ORDER BY t.occurred_at DESC, t.id DESC LIMIT ?`, from, to, limit+1)
}

// LockModels serializes model writes (training's version allocation,
// activation) until the transaction ends.
func LockModels(ctx context.Context, db bun.IDB) error {
	_, err := db.NewRaw("SELECT pg_advisory_xact_lock(hashtextextended('riskgraph.models', 0))").Exec(ctx)
	return mapErr(err)
}

// NextModelVersion is one more than the highest model version, 1 for the
// first; hold LockModels so two trainings cannot take the same one.
func NextModelVersion(ctx context.Context, db bun.IDB) (int, error) {
	var v int
	err := db.NewSelect().Model((*domain.Model)(nil)).ColumnExpr("coalesce(max(version), 0) + 1").Scan(ctx, &v)
	return v, mapErr(err)
}

// InsertModel stores a trained model, setting its ID and creation time.
func InsertModel(ctx context.Context, db bun.IDB, m *domain.Model) error {
	_, err := db.NewInsert().Model(m).Returning("id, created_at").Exec(ctx)
	return mapErr(err)
}

// ModelByID loads one model.
func ModelByID(ctx context.Context, db bun.IDB, id int64) (*domain.Model, error) {
	m := new(domain.Model)
	err := db.NewSelect().Model(m).Where("id = ?", id).Scan(ctx)
	if err != nil {
		return nil, mapErr(err)
	}
	return m, nil
}

// ActiveModel loads the active model, nil when none is active.
func ActiveModel(ctx context.Context, db bun.IDB) (*domain.Model, error) {
	var ms []*domain.Model
	if err := db.NewSelect().Model(&ms).Where("active").Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	if len(ms) == 0 {
		return nil, nil
	}
	return ms[0], nil // the partial unique index allows no second one
}

// ListModels pages through models, newest first.
func ListModels(ctx context.Context, db bun.IDB, p page.Request) (page.Result[*domain.Model], error) {
	return listPage[domain.Model](ctx, db, "id", false, func(q *bun.SelectQuery) *bun.SelectQuery { return q }, p)
}

// DeactivateModels deactivates whichever model is active and returns the
// IDs it deactivated (at most one).
func DeactivateModels(ctx context.Context, db bun.IDB) ([]int64, error) {
	var ids []int64
	err := db.NewUpdate().Model((*domain.Model)(nil)).Set("active = false").Where("active").
		Returning("id").Scan(ctx, &ids)
	return ids, mapErr(err)
}

// UpdateModelActivation writes m's Active, ActivatedBy and ActivatedAt.
func UpdateModelActivation(ctx context.Context, db bun.IDB, m *domain.Model) error {
	res, err := db.NewUpdate().Model(m).Column("active", "activated_by", "activated_at").WherePK().Exec(ctx)
	if err != nil {
		return mapErr(err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return apperr.ErrNotFound
	}
	return nil
}
