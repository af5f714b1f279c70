//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"
)

// shutdownTimeout is each server's SHUTDOWN_TIMEOUT; a SIGTERMed server must
// be gone a little after it.
const shutdownTimeout = 10 * time.Second

// instance is one server process.
type instance struct {
	name    string
	addr    string
	logPath string
	client  *gqlClient
	cmd     *exec.Cmd
	exited  chan struct{} // closed once the process is reaped; cmd.ProcessState is then set
	readyAt time.Time
	// signalled records that we sent the signal that ends it, so its exit is no crash.
	signalled atomic.Bool
}

// freeAddr asks the kernel for a free loopback port.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startInstance runs the server binary on addr against dbURL and waits until
// it is ready. Every instance gets the same JWT secret and admin bootstrap, so
// tokens work on all of them.
func (r *rig) startInstance(ctx context.Context, name, dbURL, addr string) (*instance, error) {
	i := &instance{name: name, addr: addr, logPath: filepath.Join(r.logDir, name+".log"),
		client: newClient(name, addr), exited: make(chan struct{})}
	logFile, err := os.OpenFile(i.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own copy
	// Not CommandContext: each scenario ends its servers with the signal it is about.
	i.cmd = exec.Command(r.bin)
	i.cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"DATABASE_URL=" + dbURL,
		"ADDR=" + addr,
		"APP_ENV=production",
		"JWT_SECRET=" + r.secret,
		"ADMIN_USERNAME=" + adminUsername,
		"ADMIN_PASSWORD=" + r.adminPassword,
		"SHUTDOWN_TIMEOUT=" + shutdownTimeout.String(),
	}
	i.cmd.Stdout, i.cmd.Stderr = logFile, logFile
	i.cmd.SysProcAttr = &syscall.SysProcAttr{
		// Our own process group keeps a terminal's Ctrl-C from reaching the
		// servers before we end them in order; Pdeathsig ends them should we die.
		Setpgid:   true,
		Pdeathsig: syscall.SIGKILL,
	}
	if err := i.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	r.track(i)
	go func() {
		i.cmd.Wait() //nolint:errcheck // the exit status is read from ProcessState
		close(i.exited)
	}()
	if err := i.waitReady(ctx, 30*time.Second); err != nil {
		i.kill()
		return nil, fmt.Errorf("%s: %w\n%s", name, err, i.logTail(15))
	}
	i.readyAt = time.Now()
	return i, nil
}

// waitReady polls /readyz (which pings the database) until it answers 200.
func (i *instance) waitReady(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	probe := &http.Client{Timeout: time.Second, Transport: &http.Transport{}}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+i.addr+"/readyz", nil)
		if resp, err := probe.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-i.exited:
			return fmt.Errorf("exited during startup (%s)", i.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("not ready within %s", limit)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (i *instance) signal(sig syscall.Signal) {
	i.signalled.Store(true)
	i.cmd.Process.Signal(sig) //nolint:errcheck // an exited process needs no signal
}

// kill ends the process with SIGKILL, if it still runs, and reaps it.
func (i *instance) kill() {
	i.signal(syscall.SIGKILL)
	<-i.exited // SIGKILL cannot be caught: the reap follows at once
}

// waitExit waits until the process exits or ctx ends, reporting whether it exited.
func (i *instance) waitExit(ctx context.Context) bool {
	select {
	case <-i.exited:
		return true
	case <-ctx.Done():
		return false
	}
}

// crashed reports whether the process exited without our signal.
func (i *instance) crashed() bool {
	select {
	case <-i.exited:
		return !i.signalled.Load()
	default:
		return false
	}
}

// panics counts log lines reporting a panic: gqlgen's recovered resolver
// panics, net/http's recovered handler panics and a runtime crash.
func (i *instance) panics() int {
	data, err := os.ReadFile(i.logPath)
	if err != nil {
		return 0
	}
	return bytes.Count(data, []byte("panic"))
}

// logTail returns the last n lines of the instance's log, indented.
func (i *instance) logTail(n int) string {
	data, _ := os.ReadFile(i.logPath)
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	lines = lines[max(0, len(lines)-n):]
	return "      | " + string(bytes.Join(lines, []byte("\n      | ")))
}

// healthChecks reports crashes and panics of the given instances.
func healthChecks(res *result, is ...*instance) {
	for _, i := range is {
		if !res.check(!i.crashed(), "%s did not crash", i.name) {
			res.figure("%s exited on its own: %s\n%s", i.name, i.cmd.ProcessState, i.logTail(15))
		}
		if n := i.panics(); !res.check(n == 0, "%s logged no panic: %d lines mention one", i.name, n) {
			res.figure("log: %s", i.logPath)
		}
	}
}
