package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/uptrace/bun"

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
	return lockModelTable(ctx, db, "riskgraph.models")
}

// NextModelVersion is one more than the highest model version, 1 for the
// first; hold LockModels so two trainings cannot take the same one.
func NextModelVersion(ctx context.Context, db bun.IDB) (int, error) {
	return nextModelVersion[domain.Model](ctx, db)
}

// InsertModel stores a trained model, setting its ID and creation time.
func InsertModel(ctx context.Context, db bun.IDB, m *domain.Model) error {
	return insertModel(ctx, db, m)
}

// ModelByID loads one model.
func ModelByID(ctx context.Context, db bun.IDB, id int64) (*domain.Model, error) {
	return modelByID[domain.Model](ctx, db, id)
}

// ActiveModel loads the active model, nil when none is active.
func ActiveModel(ctx context.Context, db bun.IDB) (*domain.Model, error) {
	return activeModel[domain.Model](ctx, db)
}

// ListModels pages through models, newest first.
func ListModels(ctx context.Context, db bun.IDB, p page.Request) (page.Result[*domain.Model], error) {
	return listPage[domain.Model](ctx, db, "id", false, func(q *bun.SelectQuery) *bun.SelectQuery { return q }, p)
}

// DeactivateModels deactivates whichever model is active and returns the
// IDs it deactivated (at most one).
func DeactivateModels(ctx context.Context, db bun.IDB) ([]int64, error) {
	return deactivateModels[domain.Model](ctx, db)
}

// UpdateModelActivation writes m's Active, ActivatedBy and ActivatedAt.
func UpdateModelActivation(ctx context.Context, db bun.IDB, m *domain.Model) error {
	return updateModelActivation(ctx, db, m)
}
