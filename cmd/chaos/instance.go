//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/smartfinance/riskgraph/cmd/internal/devserver"
)

// shutdownTimeout is each server's SHUTDOWN_TIMEOUT; a SIGTERMed server must
// be gone a little after it.
const shutdownTimeout = 10 * time.Second

// instance is one server process.
type instance struct {
	name    string
	proc    *devserver.Server
	client  *gqlClient
	readyAt time.Time
	// signalled records that we sent the signal that ends it, so its exit is no crash.
	signalled atomic.Bool
}

// startInstance runs the server binary on addr against dbURL and waits until
// it is ready. Every instance gets the same JWT secret and admin bootstrap, so
// tokens work on all of them.
func (r *rig) startInstance(ctx context.Context, name, dbURL, addr string) (*instance, error) {
	logFile, err := os.OpenFile(filepath.Join(r.logDir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own copy
	// No ctx ends it: each scenario ends its servers with the signal it is about.
	proc, err := devserver.Start(devserver.Config{
		Binary: r.bin, DatabaseURL: dbURL, Addr: addr, JWTSecret: r.secret,
		AdminUsername: adminUsername, AdminPassword: r.adminPassword,
		Env: []string{"SHUTDOWN_TIMEOUT=" + shutdownTimeout.String()},
		Log: logFile,
		// Our own process group keeps a terminal's Ctrl-C from reaching the
		// servers before we end them in order; Pdeathsig ends them should we die.
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	i := &instance{name: name, proc: proc, client: newClient(name, proc.GraphQLURL())}
	r.track(i)
	if err := proc.WaitReady(ctx, 30*time.Second); err != nil {
		i.kill()
		return nil, fmt.Errorf("%s: %w\n%s", name, err, i.logTail(15))
	}
	i.readyAt = time.Now()
	return i, nil
}

func (i *instance) signal(sig syscall.Signal) {
	i.signalled.Store(true)
	i.proc.Signal(sig) //nolint:errcheck // an exited process needs no signal
}

// kill ends the process with SIGKILL, if it still runs, and reaps it.
func (i *instance) kill() {
	i.signal(syscall.SIGKILL)
	<-i.proc.Exited() // SIGKILL cannot be caught: the reap follows at once
}

// waitExit waits until the process exits or ctx ends, reporting whether it exited.
func (i *instance) waitExit(ctx context.Context) bool {
	select {
	case <-i.proc.Exited():
		return true
	case <-ctx.Done():
		return false
	}
}

// crashed reports whether the process exited without our signal.
func (i *instance) crashed() bool {
	select {
	case <-i.proc.Exited():
		return !i.signalled.Load()
	default:
		return false
	}
}

// panics counts log lines reporting a panic: gqlgen's recovered resolver
// panics, net/http's recovered handler panics and a runtime crash.
func (i *instance) panics() int {
	data, err := os.ReadFile(i.proc.LogPath)
	if err != nil {
		return 0
	}
	return bytes.Count(data, []byte("panic"))
}

// logTail returns the last n lines of the instance's log, indented.
func (i *instance) logTail(n int) string {
	return "      | " + strings.ReplaceAll(i.proc.LogTail(n), "\n", "\n      | ")
}

// healthChecks reports crashes and panics of the given instances.
func healthChecks(res *result, is ...*instance) {
	for _, i := range is {
		if !res.check(!i.crashed(), "%s did not crash", i.name) {
			res.figure("%s exited on its own: %s\n%s", i.name, i.proc.ProcessState(), i.logTail(15))
		}
		if n := i.panics(); !res.check(n == 0, "%s logged no panic: %d lines mention one", i.name, n) {
			res.figure("log: %s", i.proc.LogPath)
		}
	}
}
