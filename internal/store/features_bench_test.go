package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/pgtest"
	"github.com/smartfinance/riskgraph/internal/store"
)

// BenchmarkFeatureRead times the feature read, as the submission runs it
// (prepared, generic plan, the submission's settings), over a history shaped
// like make bench's: 20,000 users over 2,000 /24 subnets, 30,000 devices,
// 5,000 merchants with a few hot ones, 200,000 payments over 60 days and
// 20,000 more in the last hour (a busy hour of live load, which fills the
// hot merchants' short windows). Each iteration reads the
// features of a random user's payment now.
//
//	go test ./internal/store/ -run '^$' -bench FeatureRead -benchtime 5000x
func BenchmarkFeatureRead(b *testing.B) {
	db := seedBenchHistory(b)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	err = conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		if _, err := c.Prepare(ctx, "features", store.FeaturesSQL); err != nil {
			return err
		}
		if _, err := c.Exec(ctx, "BEGIN; "+store.SettingsSQL); err != nil {
			return err
		}
		defer c.Exec(ctx, "ROLLBACK") //nolint:errcheck // read only
		b.ResetTimer()
		for range b.N {
			u := 1 + rng.IntN(20000)
			rows, err := c.Query(ctx, "features", benchArgs(u, rng)...)
			if err != nil {
				return err
			}
			if _, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (any, error) { return r.Values() }); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// seedBenchHistory returns a database holding the benchmark's history.
func seedBenchHistory(tb testing.TB) *bun.DB {
	db, _ := pgtest.New(tb)
	for _, q := range []string{
		`INSERT INTO users (username, password_hash, created_at) SELECT 'b' || g, '!', now() - (g % 1000) * interval '1 day' FROM generate_series(1, 20000) g`,
		`INSERT INTO devices (fingerprint, first_seen_at, last_seen_at) SELECT 'fp-' || g, now() - (g % 500) * interval '1 day', now() FROM generate_series(1, 30000) g`,
		benchHistory(200_000, "60 days"),
		benchHistory(20_000, "1 hour"),
		`VACUUM (ANALYZE) users, devices, transactions`,
	} {
		if _, err := db.ExecContext(context.Background(), q); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
	return db
}

// benchHistory inserts n payments spread over the last span, denser towards
// now, by users in their own /24 of ten, on their own three devices, at
// merchants whose popularity falls with the cube of a uniform draw.
func benchHistory(n int, span string) string {
	return fmt.Sprintf(`INSERT INTO transactions (user_id, amount, currency, merchant_id, merchant_category, channel, device_id,
		device_fingerprint, ip_address, latitude, longitude, country, city, status, submitted_by, occurred_at)
	SELECT u, round((1 + 300 * random())::numeric, 2), 'CNY', 'm-' || floor(5000 * random() ^ 3)::int,
		(ARRAY['grocery','restaurant','electronics','travel','fuel'])[1 + u %% 5], 'APP', d, 'fp-' || d,
		'10.' || (u %% 2000 / 256) || '.' || (u %% 2000 %% 256) || '.' || (u / 2000 + 1), 31.2, 121.4, 'CN', 'Shanghai',
		'APPROVED', u, now() - random() ^ 1.5 * interval '%s'
	FROM (SELECT (1 + (g::bigint * 7919) %% 20000)::int AS u, g FROM generate_series(1, %d) g) s,
		LATERAL (SELECT 1 + (u * 3 + g %% 3) %% 30000 AS d) dd`, span, n)
}

// benchArgs are the feature read's parameters (one query's) for a payment of
// user u now, from one of its devices and its own address, at a merchant drawn
// as the history's.
func benchArgs(u int, rng *rand.Rand) []any {
	merchant := fmt.Sprintf("m-%d", int(5000*pow3(rng.Float64())))
	lat, lon := 31.2, 121.4
	ip := fmt.Sprintf("10.%d.%d.%d", u%2000/256, u%2000%256, u/2000+1)
	return []any{[]int{u}, []time.Time{time.Now()}, []string{fmt.Sprintf("fp-%d", 1+(u*3+rng.IntN(3))%30000)}, []float64{10}, []string{merchant},
		[]string{"CN"}, []string{ip}, []float64{10000}, []string{"grocery"}, []float64{120}, []*float64{&lat}, []*float64{&lon}}
}

func pow3(x float64) float64 { return x * x * x }

// BenchmarkFeatureReadEntityCost measures what issue 17's entity, multi-day
// and baseline features cost the feature read: each iteration reads one
// payment's features with featuresSQLBeforeIssue17 and with featuresSQL,
// taking turns at going first, on one connection as the submission runs
// them (prepared, generic plans, its settings, read only). The payments are
// the latest 1,000 stored, each read again as of now. It reports both
// statements' wall time per read and, from /proc/<pid>/schedstat when the
// database runs on this machine, its backend's CPU time per read.
//
// With FEATURE_BENCH_DATABASE_URL it reads that database (make bench passes
// its own, after the history load); else BenchmarkFeatureRead's history.
//
//	go test ./internal/store/ -run '^$' -bench FeatureReadEntityCost -benchtime 2000x
func BenchmarkFeatureReadEntityCost(b *testing.B) {
	ctx := context.Background()
	if url := os.Getenv("FEATURE_BENCH_DATABASE_URL"); url != "" {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close(ctx)
		benchEntityCost(b, c)
		return
	}
	conn, err := seedBenchHistory(b).Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Raw(func(dc any) error { benchEntityCost(b, dc.(*stdlib.Conn).Conn()); return nil }); err != nil {
		b.Fatal(err)
	}
}

func benchEntityCost(b *testing.B, c *pgx.Conn) {
	ctx := context.Background()
	type payment struct {
		user                                         int64
		fingerprint, merchant, country, ip, category string
		amount                                       float64
		lat, lon                                     *float64
	}
	rows, _ := c.Query(ctx, `SELECT user_id, coalesce(device_fingerprint, ''), coalesce(merchant_id, ''), coalesce(country, ''),
		coalesce(ip_address, ''), coalesce(merchant_category, ''), amount::float8, latitude, longitude
		FROM transactions ORDER BY occurred_at DESC LIMIT 1000`)
	payments, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (p payment, err error) {
		err = r.Scan(&p.user, &p.fingerprint, &p.merchant, &p.country, &p.ip, &p.category, &p.amount, &p.lat, &p.lon)
		return p, err
	})
	if err != nil || len(payments) == 0 {
		b.Fatalf("payments to replay: %d, %v", len(payments), err)
	}
	var pid int
	if err := c.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		b.Fatal(err)
	}
	backendCPU := func() time.Duration { return onCPU(pid) }
	measureCPU := backendCPU() > 0
	for name, sql := range map[string]string{"before": featuresSQLBeforeIssue17, "after": store.FeaturesSQL} {
		if _, err := c.Prepare(ctx, name, sql); err != nil {
			b.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := c.Exec(ctx, "BEGIN READ ONLY; "+store.SettingsSQL); err != nil {
		b.Fatal(err)
	}
	defer c.Exec(ctx, "ROLLBACK") //nolint:errcheck // read only
	const small, nearLine = 10.0, 10000.0
	var wall, cpu [2]time.Duration
	n := 0
	for b.Loop() {
		p := payments[n%len(payments)]
		at := time.Now()
		args := [2][]any{
			{p.user, at, p.fingerprint, small, p.merchant, p.country},
			// Today's statement reads a group: one-element arrays, one member.
			{[]int64{p.user}, []time.Time{at}, []string{p.fingerprint}, []float64{small}, []string{p.merchant}, []string{p.country},
				[]string{p.ip}, []float64{nearLine}, []string{p.category}, []float64{p.amount}, []*float64{p.lat}, []*float64{p.lon}},
		}
		for turn := range 2 {
			k := (n + turn) % 2 // before first on even iterations, after first on odd ones
			start, startCPU := time.Now(), backendCPU()
			rows, _ := c.Query(ctx, [2]string{"before", "after"}[k], args[k]...)
			if _, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (any, error) { return r.Values() }); err != nil {
				b.Fatal(err)
			}
			wall[k] += time.Since(start)
			cpu[k] += backendCPU() - startCPU
		}
		n++
	}
	perRead := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / float64(n) }
	b.ReportMetric(perRead(wall[0]), "before-µs/read")
	b.ReportMetric(perRead(wall[1]), "after-µs/read")
	if measureCPU {
		b.ReportMetric(perRead(cpu[0]), "before-cpu-µs/read")
		b.ReportMetric(perRead(cpu[1]), "after-cpu-µs/read")
	}
}

// onCPU is a process's time on a CPU so far (/proc/<pid>/schedstat, in
// nanoseconds), 0 when it can't be read (the database runs elsewhere).
func onCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), " ")
	ns, _ := strconv.ParseInt(first, 10, 64)
	return time.Duration(ns)
}
