package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/smartfinance/riskgraph/cmd/internal/devserver"
)

// seedResult is seed 004's in-database scorer measured in the same run: the
// throughput the service has to beat end to end.
type seedResult struct {
	// raw is its two-row insert per commit (raw.pgbench): its own floor.
	raw *floorResult
	// detect is detect_fraud + update_user_features per transaction (detect.pgbench).
	detect *floorResult
	// missing says why it was not measured ("" when it was).
	missing string
}

// seedFiles are loaded in this order, as the directory's README does with psql.
var seedFiles = []string{"schema.sql", "functions.sql", "rules.sql"}

// runSeed004 creates a database of its own, loads the seed's tables,
// functions and rules from dir, runs its two pgbench scripts at the load's
// concurrency (as the directory's README says) and drops the database.
// Without the directory the row reads "not available" and the run goes on.
func runSeed004(ctx context.Context, adminURL, dir string, p plan) (*seedResult, error) {
	for _, f := range append(seedFiles, "raw.pgbench", "detect.pgbench") {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			log.Printf("seed 004: not measured: %v (set -seed004)", err)
			return &seedResult{missing: "not available: " + filepath.Join(dir, f) + " not found (-seed004 DIR)"}, nil
		}
	}
	name := "riskgraph_bench_seed004_" + strings.ToLower(rand.Text()[:8])
	url, err := devserver.CreateDatabase(ctx, adminURL, name)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := devserver.DropDatabase(context.WithoutCancel(ctx), adminURL, name); err != nil {
			log.Printf("seed 004: drop database %s: %v", name, err)
		}
	}()
	if err := loadSeed(ctx, url, dir); err != nil {
		return nil, err
	}
	res := &seedResult{}
	// The README runs each script for a fixed time with no warm-up; a short
	// one here fills the caches and the functions' plans first.
	warm, measure := p.warmup/2, p.measure/2
	if res.raw, err = runPgbench(ctx, "seed 004 raw", url, filepath.Join(dir, "raw.pgbench"), nil, p.clients, warm, measure); err != nil {
		return nil, err
	}
	if res.detect, err = runPgbench(ctx, "seed 004 detect", url, filepath.Join(dir, "detect.pgbench"), nil, p.clients, warm, measure); err != nil {
		return nil, err
	}
	log.Printf("seed 004: raw %.0f tps, detect_fraud %.0f tps (p99 %s)", res.raw.tps, res.detect.tps, ms(res.detect.p99))
	return res, nil
}

// loadSeed runs the seed's SQL files; the simple protocol takes a file's
// many statements (dollar-quoted function bodies included) at once.
func loadSeed(ctx context.Context, url, dir string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, f := range seedFiles {
		sql, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return err
		}
		if _, err := conn.Exec(ctx, string(sql), pgx.QueryExecModeSimpleProtocol); err != nil {
			return fmt.Errorf("seed 004 %s: %w", f, err)
		}
	}
	return nil
}
