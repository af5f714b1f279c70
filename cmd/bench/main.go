// Command bench measures the submit hot path against the database's own floor
// and writes one table (bench/results/latest.md). `make bench` runs it.
//
// One run, on one machine, every phase bounded in time:
//
//  1. engine: `go test -bench` of scoring with the built-in rules and with 50 rules;
//  2. set-up: a fresh database, a release build of the server as its own
//     process (APP_ENV=production), a SERVICE and an ANALYST account created
//     through the API, users and devices bulk-loaded;
//  3. floor: pgbench inserting one transaction row and one detection row per
//     commit into the real tables, at the same concurrency as the load;
//  4. seed 004: its in-database scorer (../shared/bench/seed004) on a
//     database of its own, its pgbench scripts at the same concurrency;
//  5. end to end: submitTransaction over HTTP, driven by vegeta, with the
//     group commit's batch sizes and the feature read and scoring time per
//     submission from /metrics when the server has them;
//  6. moderate load: an open loop at half that throughput, 4 closed-loop clients;
//  7. bulk: submitTransactions, when the server's schema has it;
//  8. outbox: the same closed loop with no outbox sink, then with one
//     webhook endpoint (every event type) served by the bench, until every
//     event is delivered; the endpoint is deleted afterwards;
//  9. history: 2,000,000 past transactions and detections loaded with COPY,
//     then the same end-to-end run again; then the feature statement before
//     issue 17's entity features against today's, on that database
//     (`go test -bench` of internal/store's BenchmarkFeatureReadEntityCost);
//  10. fan-out: websocket subscribers, time from the submit's commit to receipt;
//  11. memory: the server's peak RSS over the whole run;
//  12. ingestion (with -nats, on by default): transactions published to
//     JetStream and scored by the server's consumer, against the HTTP path.
//
// Usage:
//
//	bench -admin-url postgres://postgres@127.0.0.1:5432/postgres [-quick] [-server bin/riskgraph]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/smartfinance/riskgraph/cmd/internal/devserver"
)

// plan sizes one run.
type plan struct {
	name        string
	users       int
	devices     int
	clients     int
	warmup      time.Duration
	measure     time.Duration
	history     int
	subscribers int
	alerts      int
	benchtime   string
	// entityReads is how many payments BenchmarkFeatureReadEntityCost reads with each statement.
	entityReads int
	// budget bounds the whole run; every phase also has its own bound.
	budget time.Duration
}

var (
	fullPlan = plan{name: "full", users: 50_000, devices: 100_000, clients: 16, warmup: 5 * time.Second,
		measure: 30 * time.Second, history: 2_000_000, subscribers: 1000, alerts: 100, benchtime: "1s", entityReads: 2000, budget: 16 * time.Minute}
	quickPlan = plan{name: "quick", users: 10_000, devices: 20_000, clients: 16, warmup: 2 * time.Second,
		measure: 8 * time.Second, history: 200_000, subscribers: 1000, alerts: 20, benchtime: "200ms", entityReads: 500, budget: 6 * time.Minute}
)

// envList collects repeated -env KEY=VALUE flags.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }

func (e *envList) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("want KEY=VALUE, got %q", v)
	}
	*e = append(*e, v)
	return nil
}

type options struct {
	adminURL   string
	serverBin  string
	out        string
	pprofAddr  string
	profileDir string
	serverEnv  envList
	keepDB     bool
	seed004Dir string
	// metricsAddr is the server's /metrics listener, chosen free at start.
	metricsAddr string
	plan        plan
	// natsURL, when set, adds the ingestion phase (ingest.go) on its own stream.
	natsURL string
	ingest  benchIngest
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("bench: ")
	var o options
	quick := flag.Bool("quick", false, "short run for development (numbers not comparable with a full run)")
	flag.StringVar(&o.adminURL, "admin-url", "", "PostgreSQL admin URL (scripts/pg.sh prints one); the bench creates and drops its own database")
	flag.StringVar(&o.serverBin, "server", "bin/riskgraph", "server binary (a release build: go build -o bin/riskgraph .)")
	flag.StringVar(&o.out, "out", "bench/results/latest.md", "where to write the table")
	flag.StringVar(&o.pprofAddr, "pprof", "", "loopback address for the server's pprof listener, e.g. 127.0.0.1:6060")
	flag.StringVar(&o.profileDir, "profile-dir", "", "save a CPU profile of the server during each end-to-end run here (needs -pprof)")
	flag.Var(&o.serverEnv, "env", "extra KEY=VALUE for the server's environment (repeatable), e.g. -env DB_MAX_CONNS=16")
	flag.BoolVar(&o.keepDB, "keep-db", false, "keep the bench database afterwards (for inspection)")
	flag.StringVar(&o.natsURL, "nats", "nats://127.0.0.1:4222", "NATS with JetStream for the ingestion phase; empty skips it")
	flag.StringVar(&o.seed004Dir, "seed004", filepath.Join("..", "shared", "bench", "seed004"),
		"seed 004's scorer (schema.sql, functions.sql, rules.sql, raw.pgbench, detect.pgbench), measured in the same run")
	flag.Parse()
	o.plan = fullPlan
	o.ingest = newBenchIngest()
	if *quick {
		o.plan = quickPlan
	}
	if o.adminURL == "" {
		log.Fatal("-admin-url is required (make bench passes the one scripts/pg.sh finds)")
	}
	if o.profileDir != "" && o.pprofAddr == "" {
		log.Fatal("-profile-dir needs -pprof")
	}
	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

func run(o options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.plan.budget)
	defer cancel()
	started := time.Now()

	var err error
	rep := &report{plan: o.plan, started: started, machine: describeMachine(ctx), loadBefore: loadAverage()}
	if err = runEngine(ctx, o.plan, rep); err != nil {
		return fmt.Errorf("engine: %w", err)
	}

	if o.metricsAddr, err = devserver.FreeAddr(); err != nil {
		return err
	}
	own, err := startServer(ctx, o)
	if own != nil {
		defer own.Close(o.keepDB)
	}
	if err != nil {
		return err
	}
	srv, db := own.Server, &benchDB{name: own.DBName, url: own.DBURL}
	if rep.machine.postgres, err = db.serverVersion(ctx); err != nil {
		return err
	}

	if err := runPhases(ctx, o, db, srv, rep); err != nil {
		return fmt.Errorf("%w (server log: %s)", err, srv.LogPath)
	}
	rep.rss = memoryOf(srv.PID())
	srv.Stop()
	os.Remove(srv.LogPath) //nolint:errcheck // only kept to diagnose failures
	rep.elapsed = time.Since(started)

	table := rep.render()
	fmt.Print(table)
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(o.out, []byte(table), 0o644); err != nil {
		return err
	}
	log.Printf("wrote %s", o.out)
	return nil
}

// runPhases drives everything that needs the server.
func runPhases(ctx context.Context, o options, db *benchDB, srv *devserver.Server, rep *report) error {
	p := o.plan
	accounts, err := bootstrapAccounts(ctx, &devserver.Client{URL: srv.GraphQLURL()})
	if err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	if err := dropNATSSink(ctx, db); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	pop := newPopulation(p.users, p.devices, 1)
	phase("seed %d users, %d devices", p.users, p.devices)
	if err := db.seed(ctx, pop); err != nil {
		return fmt.Errorf("seed: %w", err)
	}

	phase("floor: pgbench, %d clients, %s", p.clients, p.measure)
	if rep.floor, err = runFloor(ctx, db, pop, accounts.gatewayID, p); err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	phase("seed 004's scorer: pgbench, %d clients, %s each (%s)", p.clients, p.measure/2, o.seed004Dir)
	if rep.seed, err = runSeed004(ctx, o.adminURL, o.seed004Dir, p); err != nil {
		return fmt.Errorf("seed 004: %w", err)
	}
	if err := db.resetActivity(ctx); err != nil {
		return err
	}

	metricsURL := "http://" + o.metricsAddr + "/metrics"
	batchesBefore, err := scrapeHistogram(ctx, metricsURL, batchMetric)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	phase("end to end, small history: %d clients, %s warm-up + %s", p.clients, p.warmup, p.measure)
	if rep.small, err = runLoad(ctx, o, db, srv, accounts, pop, "small", 1); err != nil {
		return fmt.Errorf("end to end: %w", err)
	}
	rep.rssSmall = memoryOf(srv.PID())
	if batches, err := scrapeHistogram(ctx, metricsURL, batchMetric); err != nil {
		return fmt.Errorf("metrics: %w", err)
	} else if batches != nil {
		rep.batches = batches.since(batchesBefore)
	}

	rate := openLoopShare * rep.small.throughput
	phase("moderate load: open loop at %.0f/s, then %d closed-loop clients, %s each", rate, moderateClients, p.measure/2)
	if rep.openLoop, err = runModerate(ctx, srv, accounts, pop, "open loop", 3, p.clients/2, rate, p.measure/2); err != nil {
		return fmt.Errorf("open loop: %w", err)
	}
	if rep.fewClients, err = runModerate(ctx, srv, accounts, pop, "4 clients", 4, moderateClients, 0, p.measure/2); err != nil {
		return fmt.Errorf("closed loop: %w", err)
	}

	phase("bulk: submitTransactions, %d clients × %d items, %s", bulkClients, bulkItems, p.measure/2)
	if rep.bulk, err = runBulk(ctx, db, srv, accounts, pop, 5, p.measure/2); err != nil {
		return fmt.Errorf("bulk: %w", err)
	}

	phase("outbox: %d clients, %s without a sink, %s with one webhook endpoint", p.clients, p.measure/2, p.measure/2)
	if rep.outbox, err = runOutbox(ctx, db, srv, accounts, pop, p.clients, p.measure/2); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}

	// Fan-out runs before the history load: its latency doesn't depend on
	// history, and the 2M-row load leaves the database busy (vacuum, buffers).
	phase("fan-out: %d subscribers, %d alerts", p.subscribers, p.alerts)
	if rep.fanout, err = runFanout(ctx, srv, accounts, pop, p); err != nil {
		return fmt.Errorf("fan-out: %w", err)
	}

	phase("history: bulk-load %d transactions and detections with COPY", p.history)
	loadStart := time.Now()
	if err := db.loadHistory(ctx, pop, p.history, accounts.gatewayID); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	rep.historyLoad = time.Since(loadStart)
	rep.historyRows = p.history

	phase("end to end, %d history rows: %d clients, %s warm-up + %s", p.history, p.clients, p.warmup, p.measure)
	if rep.large, err = runLoad(ctx, o, db, srv, accounts, pop, "history", 2); err != nil {
		return fmt.Errorf("end to end after history: %w", err)
	}

	if rep.entity, err = runEntityCost(ctx, p, db); err != nil {
		return fmt.Errorf("entity features: %w", err)
	}

	if o.natsURL != "" {
		phase("ingestion: %d messages through JetStream", ingestMessages[p.name])
		if rep.ingest, err = runIngest(ctx, o.natsURL, o.ingest, db, srv, pop, p); err != nil {
			return fmt.Errorf("ingestion: %w", err)
		}
	}
	return nil
}

func phase(format string, args ...any) { log.Printf("== "+format, args...) }

// bounded runs fn with a deadline of its own, so one stuck phase can't eat the run.
func bounded(ctx context.Context, d time.Duration, what string, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	err := fn(ctx)
	if errors.Is(err, context.DeadlineExceeded) || (err != nil && ctx.Err() != nil) {
		return fmt.Errorf("%s: did not finish within %s: %w", what, d, err)
	}
	return err
}
