package store

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/apperr"
)

// The fraud model and the anomaly model tables are kept alike: versioned
// rows, at most one active (a partial unique index), written under an
// advisory lock. These serve both.

func lockModelTable(ctx context.Context, db bun.IDB, key string) error {
	_, err := db.NewRaw("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", key).Exec(ctx)
	return mapErr(err)
}

func nextModelVersion[T any](ctx context.Context, db bun.IDB) (int, error) {
	var v int
	err := db.NewSelect().Model((*T)(nil)).ColumnExpr("coalesce(max(version), 0) + 1").Scan(ctx, &v)
	return v, mapErr(err)
}

func insertModel[T any](ctx context.Context, db bun.IDB, m *T) error {
	_, err := db.NewInsert().Model(m).Returning("id, created_at").Exec(ctx)
	return mapErr(err)
}

func modelByID[T any](ctx context.Context, db bun.IDB, id int64) (*T, error) {
	m := new(T)
	if err := db.NewSelect().Model(m).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	return m, nil
}

func activeModel[T any](ctx context.Context, db bun.IDB) (*T, error) {
	var ms []*T
	if err := db.NewSelect().Model(&ms).Where("active").Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	if len(ms) == 0 {
		return nil, nil
	}
	return ms[0], nil // the partial unique index allows no second one
}

func deactivateModels[T any](ctx context.Context, db bun.IDB) ([]int64, error) {
	var ids []int64
	err := db.NewUpdate().Model((*T)(nil)).Set("active = false").Where("active").
		Returning("id").Scan(ctx, &ids)
	return ids, mapErr(err)
}

func updateModelActivation[T any](ctx context.Context, db bun.IDB, m *T) error {
	res, err := db.NewUpdate().Model(m).Column("active", "activated_by", "activated_at").WherePK().Exec(ctx)
	if err != nil {
		return mapErr(err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return apperr.ErrNotFound
	}
	return nil
}
