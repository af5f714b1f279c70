// Package pgtest gives each test its own freshly migrated PostgreSQL database
// and drops it afterwards. The server comes from TEST_DATABASE_URL (an admin
// connection; `make test` sets it), else DATABASE_URL.
package pgtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/dbmigrate"
	"github.com/smartfinance/riskgraph/internal/store"
)

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// AdminURL is the server connection tests create databases through.
func AdminURL(tb testing.TB) string {
	tb.Helper()
	for _, key := range []string{"TEST_DATABASE_URL", "DATABASE_URL"} {
		if v := os.Getenv(key); v != "" {
			return v
		}
	}
	tb.Fatal("pgtest: set TEST_DATABASE_URL to a PostgreSQL admin URL, or run `make test`, which finds or starts one")
	return ""
}

// URLFor points an admin URL at another database.
func URLFor(tb testing.TB, adminURL, dbname string) string {
	tb.Helper()
	u, err := url.Parse(adminURL)
	if err != nil {
		tb.Fatalf("pgtest: parse admin URL: %v", err)
	}
	u.Path = "/" + dbname
	return u.String()
}

func uniqueName(prefix string) string {
	return fmt.Sprintf("%s_%d_%s", prefix, os.Getpid(), strings.ToLower(rand.Text()[:10]))
}

// New returns a bun.DB on a new, fully migrated database that is dropped when the test ends.
func New(tb testing.TB) (*bun.DB, string) {
	tb.Helper()
	ctx := context.Background()
	admin := openAdmin(tb)
	templateOnce.Do(func() { templateName, templateErr = buildTemplate(ctx, AdminURL(tb)) })
	if templateErr != nil {
		tb.Fatalf("pgtest: template database: %v", templateErr)
	}
	name := uniqueName("rgtest")
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE "+templateName); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	dbURL := URLFor(tb, AdminURL(tb), name)
	db, err := store.Open(ctx, dbURL, store.PoolConfig{MaxOpen: 20, MaxIdle: 20, MaxLifetime: time.Hour})
	if err != nil {
		tb.Fatalf("pgtest: open: %v", err)
	}
	tb.Cleanup(func() {
		db.Close()
		Drop(tb, admin, name)
	})
	return db, dbURL
}

// Empty returns a new database with no migrations applied, dropped when the test ends.
func Empty(tb testing.TB) (*bun.DB, string) {
	tb.Helper()
	ctx := context.Background()
	admin := openAdmin(tb)
	name := uniqueName("rgempty")
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	dbURL := URLFor(tb, AdminURL(tb), name)
	db, err := store.Open(ctx, dbURL, store.PoolConfig{MaxOpen: 10, MaxIdle: 10, MaxLifetime: time.Hour})
	if err != nil {
		tb.Fatalf("pgtest: open: %v", err)
	}
	tb.Cleanup(func() {
		db.Close()
		Drop(tb, admin, name)
	})
	return db, dbURL
}

func openAdmin(tb testing.TB) *bun.DB {
	tb.Helper()
	admin, err := store.Open(context.Background(), AdminURL(tb), store.PoolConfig{MaxOpen: 2, MaxIdle: 1, MaxLifetime: time.Minute})
	if err != nil {
		tb.Fatalf("pgtest: connect to %s: %v", redact(AdminURL(tb)), err)
	}
	tb.Cleanup(func() { admin.Close() })
	return admin
}

// Drop removes a database, ending any connection still on it.
func Drop(tb testing.TB, admin *bun.DB, name string) {
	tb.Helper()
	if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		tb.Errorf("pgtest: drop %s: %v", name, err)
	}
}

// buildTemplate migrates a template database once per test process; tests clone it.
func buildTemplate(ctx context.Context, adminURL string) (string, error) {
	admin, err := store.Open(ctx, adminURL, store.PoolConfig{MaxOpen: 1, MaxIdle: 1, MaxLifetime: time.Minute})
	if err != nil {
		return "", err
	}
	defer admin.Close()
	name := uniqueName("rgtemplate")
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	db, err := store.Open(ctx, u.String(), store.PoolConfig{MaxOpen: 2, MaxIdle: 1, MaxLifetime: time.Minute})
	if err != nil {
		return "", err
	}
	_, merr := dbmigrate.Migrate(ctx, db)
	db.Close()
	if merr != nil {
		return "", merr
	}
	registerTemplateCleanup(adminURL, name)
	return name, nil
}

var (
	cleanupMu sync.Mutex
	templates []func()
)

func registerTemplateCleanup(adminURL, name string) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	templates = append(templates, func() {
		admin, err := store.Open(context.Background(), adminURL, store.PoolConfig{MaxOpen: 1, MaxIdle: 1, MaxLifetime: time.Minute})
		if err != nil {
			return
		}
		defer admin.Close()
		admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") //nolint:errcheck
	})
}

// Main runs a package's tests and then drops the template database; use it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	for _, f := range templates {
		f()
	}
	return code
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
