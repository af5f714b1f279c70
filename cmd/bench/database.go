package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/smartfinance/riskgraph/engine"
)

// benchDB is the run's own database, which the server runs on.
type benchDB struct {
	name string
	url  string
}

// serverVersion is PostgreSQL's, for the report.
func (db *benchDB) serverVersion(ctx context.Context) (string, error) {
	conn, err := db.connect(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var v string
	err = conn.QueryRow(ctx, "SHOW server_version").Scan(&v)
	return v, err
}

func (db *benchDB) connect(ctx context.Context) (*pgx.Conn, error) {
	return pgx.Connect(ctx, db.url)
}

// seed bulk-loads the population (users, devices, who uses which) and sets their IDs.
func (db *benchDB) seed(ctx context.Context, pop *population) error {
	return bounded(ctx, time.Minute, "seed", func(ctx context.Context) error {
		conn, err := db.connect(ctx)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			userBase, err := reserveIDs(ctx, tx, "users", len(pop.users))
			if err != nil {
				return err
			}
			deviceBase, err := reserveIDs(ctx, tx, "devices", len(pop.devices))
			if err != nil {
				return err
			}
			now := time.Now().UTC()
			for i := range pop.users {
				pop.users[i].id = userBase + int64(i)
			}
			for i := range pop.devices {
				pop.devices[i].id = deviceBase + int64(i)
			}
			// The seeded users never log in: their hash matches no password.
			_, err = tx.CopyFrom(ctx, pgx.Identifier{"users"},
				[]string{"id", "username", "email", "password_hash", "role", "status", "created_at", "updated_at"},
				pgx.CopyFromSlice(len(pop.users), func(i int) ([]any, error) {
					u := &pop.users[i]
					role := "USER"
					if u.vip {
						role = "VIP"
					}
					return []any{u.id, fmt.Sprintf("customer%d", i), fmt.Sprintf("customer%d@example.com", i), "!", role, "ACTIVE", u.createdAt, u.createdAt}, nil
				}))
			if err != nil {
				return fmt.Errorf("copy users: %w", err)
			}
			_, err = tx.CopyFrom(ctx, pgx.Identifier{"devices"},
				[]string{"id", "fingerprint", "status", "first_seen_at", "last_seen_at"},
				pgx.CopyFromSlice(len(pop.devices), func(i int) ([]any, error) {
					d := &pop.devices[i]
					return []any{d.id, d.fingerprint, d.status, d.firstSeen, now.Add(-24 * time.Hour)}, nil
				}))
			if err != nil {
				return fmt.Errorf("copy devices: %w", err)
			}
			var links [][]any
			for i := range pop.users {
				u := &pop.users[i]
				for _, d := range u.devices {
					first := pop.devices[d].firstSeen
					if first.Before(u.createdAt) {
						first = u.createdAt
					}
					links = append(links, []any{u.id, pop.devices[d].id, first, now.Add(-24 * time.Hour)})
				}
			}
			if _, err = tx.CopyFrom(ctx, pgx.Identifier{"user_devices"},
				[]string{"user_id", "device_id", "first_seen_at", "last_seen_at"}, pgx.CopyFromRows(links)); err != nil {
				return fmt.Errorf("copy user_devices: %w", err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		// As after any bulk load: statistics for the planner, and hint bits
		// and the visibility map set now rather than by the first submissions.
		_, err = conn.Exec(ctx, "VACUUM (FREEZE, ANALYZE) users, devices, user_devices")
		return err
	})
}

// reserveIDs takes n values of table's identity sequence and returns the first.
// COPY writes identity columns as given, so the rows keep these IDs.
func reserveIDs(ctx context.Context, tx pgx.Tx, table string, n int) (int64, error) {
	var last int64
	err := tx.QueryRow(ctx, `SELECT setval(pg_get_serial_sequence($1, 'id'), nextval(pg_get_serial_sequence($1, 'id')) + $2 - 1)`,
		table, n).Scan(&last)
	return last - int64(n) + 1, err
}

// resetActivity empties what the floor wrote, so the end-to-end run starts
// with no transaction history, and checkpoints, as the history load does, so
// both end-to-end runs start with the same full-page-image debt. The server
// is idle meanwhile.
func (db *benchDB) resetActivity(ctx context.Context) error {
	conn, err := db.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, stmt := range []string{"TRUNCATE transactions, idempotency_keys CASCADE", "CHECKPOINT"} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return nil
}

// historyDays is how far back the bulk-loaded history reaches.
const historyDays = 180

// loadHistory bulk-loads n past transactions with their detections, spread
// over the last historyDays with the same user skew as the load, then
// vacuums, analyzes and checkpoints (within 10 minutes: the entity-feature
// indexes made the vacuum alone outlast the earlier 5) so the next run measures the service,
// not the load's aftermath.
func (db *benchDB) loadHistory(ctx context.Context, pop *population, n int, submitter int64) error {
	return bounded(ctx, 10*time.Minute, "history load", func(ctx context.Context) error {
		cfg, err := pgxpool.ParseConfig(db.url)
		if err != nil {
			return err
		}
		const workers = 2
		cfg.MaxConns = workers
		// Rows are generated consistent; skipping the per-row foreign-key
		// triggers is what pg_restore --disable-triggers does too. Only a
		// superuser may, so fall back to checking them otherwise.
		cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
			if _, err := c.Exec(ctx, "SET session_replication_role = replica"); err != nil {
				log.Printf("history: loading with foreign-key checks on (%v)", err)
			}
			return nil
		}
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return err
		}
		defer pool.Close()

		var first int64
		err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			first, err = reserveIDs(ctx, tx, "transactions", n)
			return err
		})
		if err != nil {
			return err
		}
		snapshots := historySnapshots()
		const chunk = 50_000
		starts := make(chan int)
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for start := range starts {
					if errs[w] == nil {
						errs[w] = copyHistoryChunk(ctx, pool, pop, first+int64(start), min(chunk, n-start), submitter, snapshots)
					}
				}
			})
		}
		for start := 0; start < n; start += chunk {
			starts <- start
		}
		close(starts)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		for _, stmt := range []string{"VACUUM (ANALYZE) transactions, detections", "CHECKPOINT"} {
			if _, err := pool.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
		return nil
	})
}

type historyRow struct {
	user       *benchUser
	device     *benchDevice
	amount     float64
	merchant   uint64
	city       city
	at         time.Time
	level      string
	score      float64
	matched    []byte
	reason     string
	snapshotIx int
}

// copyHistoryChunk writes rows transactions with IDs from firstID, then their detections, in one transaction.
func copyHistoryChunk(ctx context.Context, pool *pgxpool.Pool, pop *population, firstID int64, rows int, submitter int64, snapshots [][]byte) error {
	rng := mrand.New(mrand.NewPCG(uint64(firstID), 0x415))
	zipf := mrand.NewZipf(rng, 1.1, 8, merchants-1)
	now := time.Now().UTC()
	span := historyDays * 24 * time.Hour
	hist := make([]historyRow, rows)
	for i := range hist {
		u := &pop.users[pop.pickUser(rng)]
		h := historyRow{user: u, device: &pop.devices[u.devices[rng.IntN(len(u.devices))]], merchant: zipf.Uint64(),
			city: cities[u.home], at: now.Add(-time.Hour - time.Duration(rng.Int64N(int64(span)))),
			amount: math.Round(math.Min(9_999, math.Max(1, 120*math.Exp(1.1*rng.NormFloat64())))*100) / 100,
			level:  "LOW", matched: []byte("[]"), reason: "no rule matched", snapshotIx: rng.IntN(len(snapshots))}
		if rng.Float64() < largeShare {
			h.amount = math.Round((10_000+rng.Float64()*50_000)*100) / 100
			h.level, h.score, h.reason = "MEDIUM", 50, "large amount"
			h.matched = []byte(`[{"ruleId":1,"name":"large amount","version":1,"score":50,"type":"AMOUNT","action":"SCORE","reason":"amount >= 10000"}]`)
		}
		hist[i] = h
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"transactions"},
			[]string{"id", "user_id", "amount", "currency", "merchant_id", "merchant_category", "channel", "device_id", "device_fingerprint",
				"ip_address", "latitude", "longitude", "country", "city", "status", "submitted_by", "occurred_at", "created_at"},
			pgx.CopyFromSlice(rows, func(i int) ([]any, error) {
				h := &hist[i]
				return []any{firstID + int64(i), h.user.id, h.amount, "CNY", fmt.Sprintf("m-%d", h.merchant),
					categories[h.merchant%uint64(len(categories))], "APP", h.device.id, h.device.fingerprint,
					fmt.Sprintf("10.%d.%d.7", h.user.ip[0], h.user.ip[1]), h.city.lat, h.city.lon, h.city.country, h.city.name,
					"APPROVED", submitter, h.at, h.at}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy transactions: %w", err)
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"detections"},
			[]string{"transaction_id", "user_id", "risk_score", "risk_level", "decision", "rule_score", "reason", "matched_rules",
				"features", "latency_us", "created_at"},
			pgx.CopyFromSlice(rows, func(i int) ([]any, error) {
				h := &hist[i]
				return []any{firstID + int64(i), h.user.id, h.score, h.level, "PASS", int(h.score), h.reason, h.matched,
					snapshots[h.snapshotIx], 9, h.at}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy detections: %w", err)
		}
		return nil
	})
}

// historySnapshots renders a few feature snapshots as the engine writes them,
// so history detections are the size real ones are.
func historySnapshots() [][]byte {
	var out [][]byte
	for i := range 8 {
		out = append(out, sampleSnapshot(float64(50+i*137), i))
	}
	return out
}

// sampleSnapshot is a detection's feature snapshot for an ordinary transaction.
func sampleSnapshot(amount float64, variant int) []byte {
	at := time.Now().UTC()
	c := cities[variant%homeCities]
	f := &engine.Features{
		Amount: amount, Currency: "CNY", Merchant: fmt.Sprintf("m-%d", 10+variant), MerchantCategory: categories[variant%len(categories)], Channel: "APP",
		User: engine.UserFeatures{TxCount10m: 1, TxCount1h: 2, TxCount24h: 3 + variant, TxCount7d: 9 + variant,
			Amount10m: amount, Amount1h: amount * 2, Amount24h: amount * 3, Amount7d: amount * 9,
			TopMerchants: []string{"m-10", "m-11", "m-12"}, CreatedAt: at.Add(-400 * 24 * time.Hour), Role: "USER"},
		Device: engine.DeviceFeatures{ID: fmt.Sprintf("fp-%08x-%d", 0x9e3779b9*uint32(variant+1), variant), UserCount: 1, Status: "NORMAL", FirstSeen: at.Add(-90 * 24 * time.Hour)},
		Geo: engine.GeoFeatures{Present: true, Latitude: c.lat, Longitude: c.lon, Country: c.country, City: c.name,
			HasPrevious: true, PrevLatitude: c.lat + 0.01, PrevLongitude: c.lon - 0.01, PrevCountry: c.country, PrevAt: at.Add(-3 * time.Hour)},
	}
	f.Derive(at)
	b, err := f.Snapshot()
	if err != nil {
		panic(err) // the bench's features are finite numbers, which always marshal
	}
	return b
}
