package devserver

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smartfinance/riskgraph/internal/pgtest"
)

// exists reports whether database name is on adminURL's server.
func exists(t *testing.T, adminURL, name string) bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func TestCreateDropDatabase(t *testing.T) {
	ctx := context.Background()
	adminURL := pgtest.AdminURL(t)
	name := "devserver-test_" + strings.ToLower(rand.Text()[:8]) // a name that needs quoting, as chaos's do
	dbURL, err := CreateDatabase(ctx, adminURL, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { DropDatabase(context.Background(), adminURL, name) }) //nolint:errcheck

	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect to %s: %v", dbURL, err)
	}
	var current string
	err = conn.QueryRow(ctx, "SELECT current_database()").Scan(&current)
	if err != nil || current != name {
		t.Errorf("current_database(): got %q, %v; want %q", current, err, name)
	}
	// Left open on purpose: the drop ends the sessions still on the database.
	if err := DropDatabase(ctx, adminURL, name); err != nil {
		t.Fatalf("drop with a session on it: %v", err)
	}
	if exists(t, adminURL, name) {
		t.Error("database still there after DropDatabase")
	}
	if err := DropDatabase(ctx, adminURL, name); err != nil {
		t.Errorf("drop again: got %v; want nil", err)
	}
	if _, err := CreateDatabase(ctx, "postgres://%zz", name); err == nil {
		t.Error("CreateDatabase with a malformed URL: got nil error")
	}
}

func TestOwn(t *testing.T) {
	adminURL := pgtest.AdminURL(t)
	for _, keep := range []bool{false, true} {
		own, err := StartOwn(context.Background(), adminURL, "devtest", fakeConfig(t, "serve"))
		if own == nil {
			t.Fatalf("StartOwn: %v", err)
		}
		t.Cleanup(func() {
			DropDatabase(context.Background(), adminURL, own.DBName) //nolint:errcheck
			os.Remove(own.Server.LogPath)                            //nolint:errcheck
		})
		if err != nil {
			own.Close(false)
			t.Fatalf("StartOwn: %v", err)
		}
		if u, err := url.Parse(own.DBURL); err != nil || !strings.HasPrefix(own.DBName, "riskgraph_devtest_") || u.Path != "/"+own.DBName {
			t.Errorf("database %s at %s; want riskgraph_devtest_… and its URL", own.DBName, own.DBURL)
		}
		if !exists(t, adminURL, own.DBName) {
			t.Fatalf("database %s not created", own.DBName)
		}
		if err := own.Server.Alive(); err != nil {
			t.Fatal(err)
		}
		if got, want := own.Close(keep), !keep; got != want {
			t.Errorf("Close(%v): got dropped %v; want %v", keep, got, want)
		}
		select {
		case <-own.Server.Exited():
		case <-time.After(time.Second):
			t.Errorf("Close(%v) left the server running", keep)
		}
		if got, want := exists(t, adminURL, own.DBName), keep; got != want {
			t.Errorf("Close(%v): database exists %v; want %v", keep, got, want)
		}
	}
}
