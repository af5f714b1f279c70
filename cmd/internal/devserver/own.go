package devserver

import (
	"context"
	"crypto/rand"
	"fmt"
	"log"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// CreateDatabase creates database name on the server adminURL points at and
// returns the new database's URL: adminURL with its path swapped.
func CreateDatabase(ctx context.Context, adminURL, name string) (string, error) {
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", fmt.Errorf("connect to the admin URL: %w", err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create database: %w", err)
	}
	return u.String(), nil
}

// DropDatabase drops database name if it exists, ending the sessions still on it.
func DropDatabase(ctx context.Context, adminURL, name string) error {
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer admin.Close(context.WithoutCancel(ctx))
	_, err = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

// Own is a server on a fresh database of its own, which Close drops: what
// cmd/bench measures and cmd/simulate replays against. It reports its steps
// through the standard logger, as those commands do.
type Own struct {
	Server   *Server // nil until it started
	DBName   string
	DBURL    string
	adminURL string
}

// StartOwn creates the database riskgraph_<name>_<random> on adminURL's
// server, starts cfg.Binary on it (StartOwn sets cfg.DatabaseURL and
// cfg.Log, a temporary file riskgraph-<name>-*.log) and waits until it is
// ready. Once the database exists it returns Own even with an error, so that
// Close ends whatever started and drops the database.
func StartOwn(ctx context.Context, adminURL, name string, cfg Config) (*Own, error) {
	o := &Own{DBName: "riskgraph_" + name + "_" + strings.ToLower(rand.Text()[:8]), adminURL: adminURL}
	var err error
	if o.DBURL, err = CreateDatabase(ctx, adminURL, o.DBName); err != nil {
		return nil, err
	}
	log.Printf("database %s created", o.DBName)
	logFile, err := os.CreateTemp("", "riskgraph-"+name+"-*.log")
	if err != nil {
		return o, err
	}
	defer logFile.Close()
	cfg.DatabaseURL, cfg.Log = o.DBURL, logFile
	srv, err := Start(cfg)
	if err != nil {
		os.Remove(logFile.Name()) //nolint:errcheck // empty, and only in the way
		return o, fmt.Errorf("%w (make build builds it)", err)
	}
	o.Server = srv
	log.Printf("server pid %d on %s (log %s)", srv.PID(), srv.Addr, srv.LogPath)
	if err := srv.WaitReady(ctx, 90*time.Second); err != nil {
		return o, fmt.Errorf("%w; last log lines:\n%s", err, srv.LogTail(20))
	}
	return o, nil
}

// Close stops the server and drops the database, or with keep only says it
// kept it. It reports whether it dropped the database; the server's log is
// the caller's to remove.
func (o *Own) Close(keep bool) (dropped bool) {
	if o.Server != nil {
		o.Server.Stop()
	}
	if keep {
		log.Printf("kept database %s", o.DBName)
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := DropDatabase(ctx, o.adminURL, o.DBName); err != nil {
		log.Printf("drop database %s: %v", o.DBName, err)
		return false
	}
	return true
}
