// Package pgtest gives each test its own freshly migrated PostgreSQL database
// and drops it afterwards. The server comes from TEST_DATABASE_URL (an admin
// connection; `make test` sets it), else DATABASE_URL.
//
// Database names carry the process ID of the test process that started the
// run (rgtest_<run>_…, rgempty_<run>_…, rgtemplate_<run>_…), then PGTEST_TAG
// when set. Fuzzing workers
// are child processes that inherit it, and the go command kills a worker that
// takes over a second to exit, cleanups and all; so Main, in the run's own
// process, finally drops whatever any process of the run left behind.
package pgtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/dbmigrate"
	"github.com/smartfinance/riskgraph/internal/store"
)

// runEnv passes the run's ID from the test process to its fuzzing workers.
const runEnv = "PGTEST_RUN"

// runID is the ID of this test run: the PID of its first test process.
var runID = func() string {
	if id := os.Getenv(runEnv); id != "" {
		return id
	}
	id := strconv.Itoa(os.Getpid())
	os.Setenv(runEnv, id) //nolint:errcheck // a valid key never fails
	return id
}()

// runRoot reports whether this process started the run (it is not a fuzzing worker).
func runRoot() bool { return runID == strconv.Itoa(os.Getpid()) }

// tag, from PGTEST_TAG (a few lower-case letters or digits), goes into every
// database name so that CI can tell its own databases from those of other
// runs on a shared server (scripts/test-dbs.sh).
var tag = func() string {
	t := os.Getenv("PGTEST_TAG")
	for _, r := range t {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') || len(t) > 16 {
			return ""
		}
	}
	return t
}()

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
	if tag != "" {
		prefix += "_" + runID + "_" + tag
	} else {
		prefix += "_" + runID
	}
	return prefix + "_" + strings.ToLower(rand.Text()[:10])
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
	registerServer(AdminURL(tb))
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
	// servers are the admin URLs this process made databases on, with the
	// templates it built there.
	servers = map[string][]string{}
)

func registerServer(adminURL string) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	if _, ok := servers[adminURL]; !ok {
		servers[adminURL] = nil
	}
}

func registerTemplateCleanup(adminURL, name string) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	servers[adminURL] = append(servers[adminURL], name)
}

// Main runs a package's tests and then drops the template database and, in the
// run's own process, every database of the run still there; use it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	for adminURL, templates := range servers {
		if err := dropRun(adminURL, templates); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: dropping this run's databases on %s: %v\n", redact(adminURL), err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// dropRun drops this process's templates and, in the run's root process (never
// in a fuzzing worker, whose siblings may still use theirs), every database
// named for the run.
func dropRun(adminURL string, templates []string) error {
	ctx := context.Background()
	admin, err := store.Open(ctx, adminURL, store.PoolConfig{MaxOpen: 1, MaxIdle: 1, MaxLifetime: time.Minute})
	if err != nil {
		return err
	}
	defer admin.Close()
	names := templates
	if runRoot() {
		names = nil
		if err := admin.NewRaw("SELECT datname FROM pg_database WHERE datname ~ ?",
			`^rg(test|empty|template)_`+runID+`_`).Scan(ctx, &names); err != nil {
			return err
		}
	}
	var errs []error
	for _, name := range names {
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
