package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/page"
)

// EachRecentSnapshot streams the feature snapshots of transactions that
// occurred in [from, to), newest first, at most limit rows; it reports
// whether more remained. It walks transactions_time_idx, so its cost is the
// rows it reads, not the history.
func EachRecentSnapshot(ctx context.Context, db bun.IDB, from, to time.Time, limit int, fn func(*json.RawMessage) error) (bool, error) {
	return eachBounded(ctx, db, limit, fn, func(r *json.RawMessage) []any { return []any{r} },
		`SELECT dt.features
		FROM transactions t
		JOIN detections dt ON dt.user_id = t.user_id AND dt.transaction_id = t.id
		WHERE t.occurred_at >= ? AND t.occurred_at < ?
		ORDER BY t.occurred_at DESC, t.id DESC LIMIT ?`, from, to, limit+1)
}

// LockAnomalyModels serializes anomaly model writes (version allocation,
// activation) until the transaction ends.
func LockAnomalyModels(ctx context.Context, db bun.IDB) error {
	return lockModelTable(ctx, db, "riskgraph.anomaly_models")
}

// NextAnomalyModelVersion is one more than the highest anomaly model
// version; hold LockAnomalyModels.
func NextAnomalyModelVersion(ctx context.Context, db bun.IDB) (int, error) {
	return nextModelVersion[domain.AnomalyModel](ctx, db)
}

// InsertAnomalyModel stores a trained anomaly model, setting its ID and creation time.
func InsertAnomalyModel(ctx context.Context, db bun.IDB, m *domain.AnomalyModel) error {
	return insertModel(ctx, db, m)
}

// AnomalyModelByID loads one anomaly model, forests included.
func AnomalyModelByID(ctx context.Context, db bun.IDB, id int64) (*domain.AnomalyModel, error) {
	return modelByID[domain.AnomalyModel](ctx, db, id)
}

// ActiveAnomalyModel loads the active anomaly model, nil when none is active.
func ActiveAnomalyModel(ctx context.Context, db bun.IDB) (*domain.AnomalyModel, error) {
	return activeModel[domain.AnomalyModel](ctx, db)
}

// ListAnomalyModels pages through anomaly models, newest first, without
// their forests (which only scoring reads).
func ListAnomalyModels(ctx context.Context, db bun.IDB, p page.Request) (page.Result[*domain.AnomalyModel], error) {
	return listPage[domain.AnomalyModel](ctx, db, "id", false, func(q *bun.SelectQuery) *bun.SelectQuery { return q.ExcludeColumn("forests") }, p)
}

// DeactivateAnomalyModels deactivates whichever anomaly model is active and
// returns the IDs it deactivated (at most one).
func DeactivateAnomalyModels(ctx context.Context, db bun.IDB) ([]int64, error) {
	return deactivateModels[domain.AnomalyModel](ctx, db)
}

// UpdateAnomalyModelActivation writes m's Active, ActivatedBy and ActivatedAt.
func UpdateAnomalyModelActivation(ctx context.Context, db bun.IDB, m *domain.AnomalyModel) error {
	return updateModelActivation(ctx, db, m)
}
