// Package dbmigrate holds the embedded SQL migrations and applies them under
// a cluster-wide lock, so several instances can start at once.
package dbmigrate

import (
	"context"
	"embed"
	"fmt"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

//go:embed migrations/*.sql
var files embed.FS

// lockKey is the pg_advisory_lock key serializing migrations across instances.
// bun's own lock is a table row that a crash leaves stuck, and its Init races.
const lockKey = 7_245_118_903

// Migrations returns the embedded migration set.
func Migrations() (*migrate.Migrations, error) {
	m := migrate.NewMigrations()
	if err := m.Discover(files); err != nil {
		return nil, fmt.Errorf("dbmigrate: discover: %w", err)
	}
	return m, nil
}

func newMigrator(db *bun.DB) (*migrate.Migrator, error) {
	m, err := Migrations()
	if err != nil {
		return nil, err
	}
	return migrate.NewMigrator(db, m, migrate.WithMarkAppliedOnSuccess(true)), nil
}

// withLock runs fn while holding the migration advisory lock on a pinned connection.
func withLock(ctx context.Context, db *bun.DB, fn func() error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("dbmigrate: connect: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", lockKey); err != nil {
		return fmt.Errorf("dbmigrate: lock: %w", err)
	}
	// Unlock with a fresh context: the caller's may already be cancelled.
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", lockKey) //nolint:errcheck
	return fn()
}

// Migrate applies every pending migration and returns the name of the newest applied one.
func Migrate(ctx context.Context, db *bun.DB) (string, error) {
	migrator, err := newMigrator(db)
	if err != nil {
		return "", err
	}
	err = withLock(ctx, db, func() error {
		if err := migrator.Init(ctx); err != nil {
			return fmt.Errorf("dbmigrate: init: %w", err)
		}
		if _, err := migrator.Migrate(ctx); err != nil {
			return fmt.Errorf("dbmigrate: migrate: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return Version(ctx, db)
}

// Rollback undoes the last migration group.
func Rollback(ctx context.Context, db *bun.DB) error {
	migrator, err := newMigrator(db)
	if err != nil {
		return err
	}
	return withLock(ctx, db, func() error {
		if _, err := migrator.Rollback(ctx); err != nil {
			return fmt.Errorf("dbmigrate: rollback: %w", err)
		}
		return nil
	})
}

// Version is the name of the newest applied migration, "" when none.
func Version(ctx context.Context, db *bun.DB) (string, error) {
	migrator, err := newMigrator(db)
	if err != nil {
		return "", err
	}
	applied, err := migrator.AppliedMigrations(ctx)
	if err != nil {
		return "", fmt.Errorf("dbmigrate: applied: %w", err)
	}
	newest := ""
	for _, m := range applied {
		newest = max(newest, m.Name)
	}
	return newest, nil
}
