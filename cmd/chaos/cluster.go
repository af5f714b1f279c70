//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/smartfinance/riskgraph/cmd/internal/devserver"
)

// cluster is the run's own PostgreSQL cluster, started by scripts/pg.sh in a
// data directory of its own (PG_DATA_DIR) and stopped and started directly
// with pg_ctl. It is never the shared server on 5432.
type cluster struct {
	root    string   // repository root, for scripts/pg.sh
	home    string   // holds the data directory, its log, sockets and lock
	port    int      // 0 until started
	bindir  string   // the running postmaster's binaries
	admin   string   // URL of the postgres database as user postgres
	scripts *os.File // pg.sh and pg_ctl output, kept with the server logs
}

func (c *cluster) dataDir() string { return filepath.Join(c.home, "pg") }

// pgsh runs scripts/pg.sh against this cluster's data directory.
func (c *cluster) pgsh(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.root, "scripts", "pg.sh"), args...)
	// Later entries win; DATABASE_URL would make pg.sh print it instead of starting anything.
	cmd.Env = append(os.Environ(), "DATABASE_URL=", "PG_SKIP_DEFAULT=1", "PG_DATA_DIR="+c.dataDir(),
		"PG_PRIVATE_PORT="+strconv.Itoa(c.port))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, c.scripts
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}

// start creates and starts the cluster on port through scripts/pg.sh.
func (c *cluster) start(ctx context.Context, port int) error {
	c.port = port
	admin, err := c.pgsh(ctx)
	if err != nil {
		return fmt.Errorf("scripts/pg.sh: %w", err)
	}
	c.admin = admin
	pid, err := c.postmasterPID()
	if err != nil {
		return err
	}
	// pg.sh picked the binaries; pg_ctl has to be the one beside the running postgres.
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return fmt.Errorf("find the postgres binary: %w", err)
	}
	c.bindir = filepath.Dir(exe)
	return nil
}

func (c *cluster) postmasterPID() (int, error) {
	data, err := os.ReadFile(filepath.Join(c.dataDir(), "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("postmaster.pid: %w", err)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	return strconv.Atoi(strings.TrimSpace(first))
}

// pgctl runs pg_ctl as the cluster's owner: initdb and postgres refuse root,
// so as root the postgres user owns the cluster (as in scripts/pg.sh).
func (c *cluster) pgctl(ctx context.Context, args ...string) error {
	name, argv := filepath.Join(c.bindir, "pg_ctl"), args
	if os.Geteuid() == 0 {
		name, argv = "runuser", append([]string{"-u", "postgres", "--", name}, args...)
	}
	cmd := exec.CommandContext(ctx, name, argv...)
	cmd.Dir = "/" // the postgres user may not be able to enter our working directory
	cmd.Stdout, cmd.Stderr = c.scripts, c.scripts
	return cmd.Run()
}

// stop shuts the cluster down the way an operator restarting it would:
// fast mode ends every session and returns once postgres is gone.
func (c *cluster) stop(ctx context.Context) error {
	return c.pgctl(ctx, "stop", "-D", c.dataDir(), "-m", "fast", "-w", "-t", "30")
}

// restart starts the stopped cluster again and returns once it accepts connections.
func (c *cluster) restart(ctx context.Context) error {
	return c.pgctl(ctx, "start", "-D", c.dataDir(), "-l", filepath.Join(c.home, "pg.log"), "-w", "-t", "30")
}

// destroy stops the cluster if it runs (pg.sh stop also handles a cluster a
// killed earlier run left behind) and deletes everything under home.
func (c *cluster) destroy(ctx context.Context) error {
	var errs []error
	if _, err := os.Stat(c.dataDir()); err == nil {
		if _, err := c.pgsh(ctx, "stop"); err != nil {
			errs = append(errs, fmt.Errorf("scripts/pg.sh stop: %w", err))
		}
	}
	if err := os.RemoveAll(c.home); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// createDatabase creates a fresh database and returns its URL.
func (c *cluster) createDatabase(ctx context.Context, name string) (string, error) {
	if err := devserver.DropDatabase(ctx, c.admin, name); err != nil {
		return "", fmt.Errorf("drop database: %w", err)
	}
	return devserver.CreateDatabase(ctx, c.admin, name)
}

// pickPort returns want when it is free on loopback, else a free port.
func pickPort(want int) (int, error) {
	if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(want))); err == nil {
		l.Close()
		return want, nil
	}
	addr, err := devserver.FreeAddr()
	if err != nil {
		return 0, err
	}
	_, port, _ := net.SplitHostPort(addr)
	return strconv.Atoi(port)
}
