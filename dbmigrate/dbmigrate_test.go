package dbmigrate_test

import (
	"context"
	"os"
	"testing"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/dbmigrate"
	"github.com/smartfinance/riskgraph/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func tables(t *testing.T, db *bun.DB) int {
	t.Helper()
	var n int
	err := db.NewRaw(`SELECT count(*) FROM information_schema.tables
		WHERE table_schema = 'public' AND table_name NOT LIKE 'bun_%'`).Scan(context.Background(), &n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestUpDownUp(t *testing.T) {
	ctx := context.Background()
	db, _ := pgtest.Empty(t)

	version, err := dbmigrate.Migrate(ctx, db)
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	migrations, err := dbmigrate.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	sorted := migrations.Sorted()
	if want := sorted[len(sorted)-1].Name; version != want {
		t.Fatalf("version: got %q, want %q", version, want)
	}
	up := tables(t, db)
	if up == 0 {
		t.Fatal("no tables after migrating up")
	}

	// Migrate alone groups every file; roll back until nothing is applied.
	for range sorted {
		if err := dbmigrate.Rollback(ctx, db); err != nil {
			t.Fatalf("down: %v", err)
		}
	}
	if got := tables(t, db); got != 0 {
		t.Fatalf("tables after down: got %d, want 0", got)
	}
	if v, _ := dbmigrate.Version(ctx, db); v != "" {
		t.Fatalf("version after down: got %q, want none", v)
	}

	if _, err := dbmigrate.Migrate(ctx, db); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if got := tables(t, db); got != up {
		t.Fatalf("tables after up again: got %d, want %d", got, up)
	}
	// Applying again is a no-op.
	if _, err := dbmigrate.Migrate(ctx, db); err != nil {
		t.Fatalf("idempotent up: %v", err)
	}
}

func TestConcurrentMigrate(t *testing.T) {
	ctx := context.Background()
	db, _ := pgtest.Empty(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			_, err := dbmigrate.Migrate(ctx, db)
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent migrate: %v", err)
		}
	}
}
