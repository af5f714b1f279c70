package main

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// floorResult is the database's own rate for the durable part of a submission.
type floorResult struct {
	tps           float64
	commits       int
	p50, p95, p99 time.Duration
}

// runFloor has pgbench write what a LOW submission must make durable — one
// transactions row and one detections row (with a real-sized feature
// snapshot) per commit — in the cheapest form PostgreSQL offers: one prepared
// statement per commit, at the load's concurrency.
func runFloor(ctx context.Context, db *benchDB, pop *population, submitter int64, p plan) (*floorResult, error) {
	dir, err := os.MkdirTemp("", "riskgraph-floor-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "floor.sql")
	if err := os.WriteFile(script, []byte(floorScript(pop, submitter)), 0o644); err != nil {
		return nil, err
	}
	res, err := runPgbench(ctx, "floor", db.url, script, []string{"-M", "prepared"}, p.clients, p.warmup, p.measure)
	if err != nil {
		return nil, err
	}
	log.Printf("floor: %.0f commits/s, p50 %s p95 %s p99 %s", res.tps, ms(res.p50), ms(res.p95), ms(res.p99))
	return res, nil
}

// runPgbench runs script against dbURL with clients (and extra flags): a
// warm-up, then the measured window, whose every transaction is logged.
func runPgbench(ctx context.Context, label, dbURL, script string, extra []string, clients int, warmup, measure time.Duration) (*floorResult, error) {
	bin, err := findPgbench()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "riskgraph-pgbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var out string
	err = bounded(ctx, warmup+measure+time.Minute, label, func(ctx context.Context) error {
		base := append([]string{"-n", "-c", strconv.Itoa(clients), "-j", "2", "-f", script}, extra...)
		if warmup > 0 {
			warm := append(slices.Clone(base), "-T", strconv.Itoa(max(1, int(warmup.Seconds()))), dbURL)
			if _, err := pgbench(ctx, bin, warm); err != nil {
				return err
			}
		}
		measured := append(base, "-T", strconv.Itoa(max(1, int(measure.Seconds()))), "--log", "--log-prefix="+filepath.Join(dir, "txlog"), dbURL)
		out, err = pgbench(ctx, bin, measured)
		return err
	})
	if err != nil {
		return nil, err
	}
	res := &floorResult{}
	m := regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`).FindStringSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("no tps in pgbench output:\n%s", out)
	}
	res.tps, _ = strconv.ParseFloat(m[1], 64)
	lat, err := pgbenchLatencies(dir)
	if err != nil {
		return nil, err
	}
	res.commits = len(lat)
	res.p50, res.p95, res.p99 = quantile(lat, 0.50), quantile(lat, 0.95), quantile(lat, 0.99)
	return res, nil
}

func pgbench(ctx context.Context, bin string, args []string) (string, error) {
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("pgbench: %w\n%s", err, out)
	}
	return string(out), nil
}

// findPgbench looks on PATH, then beside the installed server binaries.
func findPgbench() (string, error) {
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p, nil
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	if len(found) > 0 {
		slices.Sort(found)
		return found[len(found)-1], nil
	}
	return "", fmt.Errorf("pgbench not found: install the PostgreSQL client (Debian: apt-get install postgresql-client)")
}

// floorScript is the pgbench script; amounts and users vary per commit.
func floorScript(pop *population, submitter int64) string {
	first, last := pop.users[0].id, pop.users[len(pop.users)-1].id
	devFirst, devLast := pop.devices[0].id, pop.devices[len(pop.devices)-1].id
	// pgbench reads ":name" as a variable even inside literals; JSON's
	// `"key":value` must not look like one.
	snapshot := strings.ReplaceAll(string(sampleSnapshot(123.45, 0)), `":`, `": `)
	snapshot = strings.ReplaceAll(snapshot, "'", "''")
	return fmt.Sprintf(`\set uid random(%d, %d)
\set did random(%d, %d)
\set cents random(100, 999999)
WITH t AS (
  INSERT INTO transactions (user_id, amount, currency, merchant_id, merchant_category, channel, device_id,
    device_fingerprint, ip_address, latitude, longitude, country, city, status, submitted_by, occurred_at)
  VALUES (:uid, :cents / 100.0, 'CNY', 'm-1042', 'electronics', 'APP', :did, 'fp-floor', '10.1.2.3',
    31.2304, 121.4737, 'CN', 'Shanghai', 'APPROVED', %d, now())
  RETURNING id, user_id
)
INSERT INTO detections (transaction_id, user_id, risk_score, risk_level, decision, rule_score, reason,
  matched_rules, features, latency_us)
SELECT id, user_id, 0, 'LOW', 'PASS', 0, 'no rule matched', '[]', '%s', 9 FROM t;
`, first, last, devFirst, devLast, submitter, snapshot)
}

// pgbenchLatencies reads every transaction's latency from pgbench's logs
// (one file per thread; the third field is the latency in microseconds).
func pgbenchLatencies(dir string) ([]time.Duration, error) {
	files, err := filepath.Glob(filepath.Join(dir, "txlog*"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no pgbench transaction logs in %s", dir)
	}
	var out []time.Duration
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 3 {
				continue
			}
			us, err := strconv.ParseInt(fields[2], 10, 64)
			if err != nil {
				continue
			}
			out = append(out, time.Duration(us)*time.Microsecond)
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	slices.Sort(out)
	return out, nil
}

// quantile of sorted durations (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
