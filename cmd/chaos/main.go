//go:build linux

// Command chaos injects faults into riskgraph servers on loopback and checks
// that the service degrades and recovers as issue 6 demands:
//
//  1. PostgreSQL restarted while submissions run;
//  2. a server killed with SIGKILL under load, then restarted;
//  3. a server sent SIGTERM under load, with websocket subscribers;
//  4. two servers, one killed: a subscriber on the other keeps getting alerts.
//
// It builds bin/riskgraph and runs it as child processes against a PostgreSQL
// cluster of its own (scripts/pg.sh with PG_DATA_DIR=.data/chaos/pg), which it
// may stop and start; it never touches another server. Every scenario prints
// its figures and PASS or FAIL, a summary table follows, and the exit status
// is 1 when any scenario failed (2 when the run could not start). Children and the cluster are removed on the
// way out, on failure and on interrupt too. Run it with `make chaos`; it is
// Linux-only (/proc, runuser, Pdeathsig).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() { os.Exit(run()) }

// scenario is one fault and its checks; it records everything in res.
type scenario struct {
	name, title string
	limit       time.Duration // the scenario's own time bound, setup included
	run         func(ctx context.Context, r *rig, res *result)
}

var scenarios = []scenario{
	{"pg-restart", "PostgreSQL restarted while 8 clients submit", 75 * time.Second, pgRestart},
	{"sigkill", "server killed with SIGKILL under load, then restarted", 60 * time.Second, sigkill},
	{"sigterm", "server sent SIGTERM under load, with websocket subscribers", 45 * time.Second, sigterm},
	{"failover", "two servers, one killed: the other's subscriber keeps receiving alerts", 45 * time.Second, failover},
}

func run() int {
	root := flag.String("root", ".", "repository root")
	goTool := flag.String("go", "go", "the go command that builds the server")
	pgPort := flag.Int("pg-port", 54339, "port of the private PostgreSQL cluster (another free port when taken)")
	// With a request's timeout and the cleanup after it, the run stays under 5 minutes.
	budget := flag.Duration("budget", 240*time.Second, "time bound of the run, build included, cleanup excluded")
	only := flag.String("run", "", "comma-separated scenarios to run (default all): "+scenarioNames())
	flag.Parse()
	selected, err := selectScenarios(*only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 2
	}

	start := time.Now()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *budget)
	defer cancel()

	r, err := newRig(*root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 2
	}
	ok := false
	defer func() { r.close(ok) }()
	if err := r.prepare(ctx, *goTool, *pgPort); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 2
	}

	var results []*result
	for n, sc := range selected {
		res := newResult(os.Stdout, n+1, len(selected), sc.name, sc.title)
		if ctx.Err() != nil {
			res.fail("not run: %v", context.Cause(ctx))
		} else {
			scCtx, scCancel := context.WithTimeout(ctx, sc.limit)
			sc.run(scCtx, r, res)
			if scCtx.Err() != nil {
				res.fail("ran into its time bound (%s) or the run's: %v", sc.limit, context.Cause(scCtx))
			}
			scCancel()
			r.stopInstances()
		}
		res.finish()
		results = append(results, res)
	}
	printSummary(os.Stdout, results, time.Since(start))
	ok = true
	for _, res := range results {
		ok = ok && res.passed()
	}
	if !ok {
		return 1
	}
	return 0
}

func scenarioNames() string {
	names := make([]string, len(scenarios))
	for i, sc := range scenarios {
		names[i] = sc.name
	}
	return strings.Join(names, ", ")
}

// selectScenarios picks the named scenarios in their usual order; "" is all.
func selectScenarios(list string) ([]scenario, error) {
	if list == "" {
		return scenarios, nil
	}
	want := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		want[strings.TrimSpace(name)] = true
	}
	var picked []scenario
	for _, sc := range scenarios {
		if want[sc.name] {
			picked = append(picked, sc)
			delete(want, sc.name)
		}
	}
	for name := range want {
		return nil, fmt.Errorf("-run: no scenario %q (have %s)", name, scenarioNames())
	}
	return picked, nil
}

// rig is what the scenarios share: the server binary, the private cluster,
// the secrets every instance gets, and every process started, for cleanup.
type rig struct {
	root          string
	bin           string
	logDir        string
	lock          *os.File
	pg            *cluster
	secret        string
	adminPassword string

	mu        sync.Mutex
	instances []*instance
}

// newRig takes the run's lock, so two runs never share (and wipe) one cluster.
func newRig(root string) (*rig, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(root, "scripts", "pg.sh")); err != nil {
		return nil, fmt.Errorf("-root %s is not the repository root: %w", root, err)
	}
	if err := os.MkdirAll(filepath.Join(root, ".data"), 0o755); err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(filepath.Join(root, ".data", "chaos.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("another chaos run holds %s", lock.Name())
	}
	logDir, err := os.MkdirTemp("", "riskgraph-chaos-")
	if err != nil {
		lock.Close()
		return nil, err
	}
	scripts, err := os.Create(filepath.Join(logDir, "postgres-scripts.log"))
	if err != nil {
		lock.Close()
		return nil, err
	}
	return &rig{
		root: root, bin: filepath.Join(root, "bin", "riskgraph"), logDir: logDir, lock: lock,
		pg:            &cluster{root: root, home: filepath.Join(root, ".data", "chaos"), scripts: scripts},
		secret:        hex.EncodeToString(randomBytes(32)),
		adminPassword: rand.Text(),
	}, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) //nolint:errcheck // crypto/rand never fails on Linux
	return b
}

// prepare builds the server and starts a fresh private cluster.
func (r *rig) prepare(ctx context.Context, goTool string, pgPort int) error {
	fmt.Printf("chaos: building %s\n", r.bin)
	buildCtx, cancel := context.WithTimeout(ctx, 150*time.Second)
	defer cancel()
	build := exec.CommandContext(buildCtx, goTool, "build", "-o", r.bin, ".")
	build.Dir, build.Stdout, build.Stderr = r.root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	// A run killed with SIGKILL leaves its cluster behind; the lock says it is no longer in use.
	if err := r.pg.destroy(ctx); err != nil {
		return fmt.Errorf("remove the cluster of an earlier run: %w", err)
	}
	port, err := pickPort(pgPort)
	if err != nil {
		return err
	}
	pgCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := r.pg.start(pgCtx, port); err != nil {
		return fmt.Errorf("private PostgreSQL: %w (log: %s)", err, r.pg.scripts.Name())
	}
	fmt.Printf("chaos: private PostgreSQL on 127.0.0.1:%d, data %s, binaries %s\n", port, r.pg.dataDir(), r.pg.bindir)
	fmt.Printf("chaos: server logs in %s\n", r.logDir)
	return nil
}

func (r *rig) track(i *instance) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.instances = append(r.instances, i)
}

// stopInstances kills every server still running: the ones a scenario had
// no reason to end, or left behind by returning early.
func (r *rig) stopInstances() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, i := range r.instances {
		i.kill()
	}
	r.instances = nil
}

// close removes everything the run started: servers, then the cluster and
// its directory. Server logs are kept when something failed.
func (r *rig) close(passed bool) {
	r.stopInstances()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.pg.destroy(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "chaos: cleanup: %v\n", err)
	} else {
		fmt.Printf("chaos: private PostgreSQL stopped and %s removed\n", r.pg.home)
	}
	r.pg.scripts.Close()
	if passed {
		os.RemoveAll(r.logDir)
	} else {
		fmt.Printf("chaos: logs kept in %s\n", r.logDir)
	}
	r.lock.Close()
}

// sleep waits for d or until ctx ends, reporting whether the full time passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
