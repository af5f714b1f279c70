// Package store holds the bun models (also bound to GraphQL types) and every SQL query.
// Functions take bun.IDB so the same code runs on the pool or inside a transaction.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/smartfinance/riskgraph/internal/apperr"
)

// PoolConfig sizes the connection pool.
type PoolConfig struct {
	MaxOpen     int
	MaxIdle     int
	MaxLifetime time.Duration
	// Tracer, when set, sees every statement (tracing's SQL spans).
	Tracer pgx.QueryTracer
}

// Open connects to PostgreSQL through pgx's database/sql driver.
func Open(ctx context.Context, url string, pool PoolConfig) (*bun.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: parse DATABASE_URL: %w", err)
	}
	// bun inlines arguments into the SQL text, so pgx's statement cache would
	// prepare nearly every query; exec mode skips that round trip.
	if _, set := cfg.RuntimeParams["default_query_exec_mode"]; !set {
		cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
	cfg.Tracer = pool.Tracer
	sqldb := stdlib.OpenDB(*cfg)
	sqldb.SetMaxOpenConns(pool.MaxOpen)
	sqldb.SetMaxIdleConns(pool.MaxIdle)
	sqldb.SetConnMaxLifetime(pool.MaxLifetime)
	db := bun.NewDB(sqldb, pgdialect.New())
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	return db, nil
}

// Classify maps a database error to its domain error for code outside this
// package that talks to the database directly (LISTEN/NOTIFY).
func Classify(err error) error { return mapErr(err) }

// mapErr is the one place database errors become domain errors.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var typed *apperr.Error
	if errors.As(err, &typed) {
		return err // already classified, possibly with a more specific message
	}
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.ErrNotFound
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return apperr.Wrap(apperr.Unavailable, "the operation took too long", err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23505":
			return apperr.Wrap(apperr.Conflict, "conflicts with existing data", err)
		case pgErr.Code == "23503":
			return apperr.Wrap(apperr.BadInput, "refers to a record that does not exist", err)
		case pgErr.Code == "40001" || pgErr.Code == "40P01":
			return apperr.Wrap(apperr.Conflict, "concurrent update, retry", err)
		case len(pgErr.Code) == 5 && (pgErr.Code[:2] == "08" || pgErr.Code[:3] == "57P"):
			return apperr.Wrap(apperr.Unavailable, "database unavailable", err)
		}
		return err
	}
	var netErr net.Error
	var connectErr *pgconn.ConnectError
	if errors.As(err, &netErr) || errors.As(err, &connectErr) || errors.Is(err, sql.ErrConnDone) {
		return apperr.Wrap(apperr.Unavailable, "database unavailable", err)
	}
	return err
}

// InTx runs fn in one database transaction, mapping errors.
func InTx(ctx context.Context, db *bun.DB, fn func(ctx context.Context, tx bun.Tx) error) error {
	return mapErr(db.RunInTx(ctx, nil, fn))
}
