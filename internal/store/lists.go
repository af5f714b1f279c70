package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/page"
)

// mapListErr names the conflict a taken list name causes.
func mapListErr(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "lists_name_key" {
		return &apperr.Error{Code: apperr.Conflict, Field: "name", Message: "a list with this name exists"}
	}
	return mapErr(err)
}

// InsertList creates a list; a taken name is a CONFLICT on "name".
func InsertList(ctx context.Context, db bun.IDB, l *domain.List) error {
	_, err := db.NewInsert().Model(l).Returning("*").Exec(ctx)
	return mapListErr(err)
}

// UpdateList saves l's name, mode and description.
func UpdateList(ctx context.Context, db bun.IDB, l *domain.List) error {
	_, err := db.NewUpdate().Model(l).Column("name", "mode", "description", "updated_by", "updated_at").WherePK().Returning("*").Exec(ctx)
	return mapListErr(err)
}

// ListByID loads one list.
func ListByID(ctx context.Context, db bun.IDB, id int64) (*domain.List, error) {
	l := new(domain.List)
	err := db.NewSelect().Model(l).Where("id = ?", id).Scan(ctx)
	return l, mapErr(err)
}

// ListForUpdate loads one list and locks it until the transaction ends, so
// changes to one list (and their notifications) happen one after another.
func ListForUpdate(ctx context.Context, db bun.IDB, id int64) (*domain.List, error) {
	l := new(domain.List)
	err := db.NewSelect().Model(l).Where("id = ?", id).For("UPDATE").Scan(ctx)
	return l, mapErr(err)
}

// AllLists loads every list, by name.
func AllLists(ctx context.Context, db bun.IDB) ([]*domain.List, error) {
	var ls []*domain.List
	err := db.NewSelect().Model(&ls).Order("name").Scan(ctx)
	return ls, mapErr(err)
}

// CountListEntries counts a list's entries, expired ones included.
func CountListEntries(ctx context.Context, db bun.IDB, listID int64) (int, error) {
	n, err := db.NewSelect().Model((*domain.ListEntry)(nil)).Where("list_id = ?", listID).Count(ctx)
	return int(n), mapErr(err)
}

// UpsertListEntries adds entries (distinct values, normalised); a value
// already listed takes the new expiry and note.
func UpsertListEntries(ctx context.Context, db bun.IDB, entries []*domain.ListEntry) error {
	if len(entries) == 0 {
		return nil
	}
	_, err := db.NewInsert().Model(&entries).
		On("CONFLICT (list_id, value) DO UPDATE").
		Set("expires_at = EXCLUDED.expires_at").
		Set("note = EXCLUDED.note").
		Exec(ctx)
	return mapErr(err)
}

// DeleteListEntries removes values from a list and returns how many were there.
func DeleteListEntries(ctx context.Context, db bun.IDB, listID int64, values []string) (int, error) {
	if len(values) == 0 {
		return 0, nil
	}
	res, err := db.NewDelete().Model((*domain.ListEntry)(nil)).
		Where("list_id = ?", listID).Where("value IN (?)", bun.List(values)).Exec(ctx)
	if err != nil {
		return 0, mapErr(err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// ListEntriesPage pages through a list's entries in the order they were first added.
func ListEntriesPage(ctx context.Context, db bun.IDB, listID int64, p page.Request) (page.Result[*domain.ListEntry], error) {
	return listPage[domain.ListEntry](ctx, db, "le.id", true, func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("le.list_id = ?", listID)
	}, p)
}

// LiveListEntries streams a list's entries unexpired at now to fn, in one
// query scanned without reflection: a 1,000,000-entry list reads in about a
// second (keyset batches through bun took 17 s).
func LiveListEntries(ctx context.Context, db bun.IDB, listID int64, now time.Time, fn func(value string, expiresAt time.Time)) error {
	rows, err := db.QueryContext(ctx, "SELECT value, expires_at FROM list_entries WHERE list_id = ? AND (expires_at IS NULL OR expires_at > ?)", listID, now)
	if err != nil {
		return mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			value string
			exp   sql.NullTime
		)
		if err := rows.Scan(&value, &exp); err != nil {
			return mapErr(err)
		}
		fn(value, exp.Time)
	}
	return mapErr(rows.Err())
}

// AllListEntries streams all of a list's entries, in insertion order, batch
// rows at a time, to fn.
func AllListEntries(ctx context.Context, db bun.IDB, listID int64, batch int, fn func([]*domain.ListEntry) error) error {
	var after int64
	for {
		var rows []*domain.ListEntry
		err := db.NewSelect().Model(&rows).Column("id", "value", "expires_at", "note").
			Where("list_id = ?", listID).Where("id > ?", after).
			OrderExpr("id").Limit(int64(batch)).Scan(ctx)
		if err != nil {
			return mapErr(err)
		}
		if len(rows) == 0 {
			return nil
		}
		if err := fn(rows); err != nil {
			return err
		}
		if len(rows) < batch {
			return nil
		}
		after = rows[len(rows)-1].ID
	}
}
