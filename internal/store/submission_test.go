package store_test

import (
	"context"
	"maps"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/pgtest"
	"github.com/smartfinance/riskgraph/internal/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestFeaturesPlan checks that the feature read's generic plan reaches
// transactions only through transactions_user_time_idx, whatever the table's
// size and statistics: any other path reads more than the user's window.
func TestFeaturesPlan(t *testing.T) {
	db, _ := pgtest.New(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `INSERT INTO users (username, password_hash) SELECT 'u' || g, '!' FROM generate_series(1, 1000) g`); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		rows    int
		analyze bool
	}{
		{"empty", 0, false},
		{"young, analyzed", 300, true},
		{"grown, never analyzed", 20000, false},
		{"grown, analyzed", 20000, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := db.ExecContext(ctx, "TRUNCATE transactions CASCADE"); err != nil {
				t.Fatal(err)
			}
			// Recent rows of many users: the shape of a young system.
			_, err := db.ExecContext(ctx, `INSERT INTO transactions (user_id, amount, currency, status, submitted_by, occurred_at, latitude, longitude)
				SELECT u.id, 10, 'CNY', 'APPROVED', u.id, now() - g * interval '1 second', 31.2, 121.4
				FROM generate_series(1, ?) g JOIN users u ON u.username = 'u' || (1 + g % 1000)`, tt.rows)
			if err != nil {
				t.Fatal(err)
			}
			if tt.analyze {
				if _, err := db.ExecContext(ctx, "ANALYZE transactions"); err != nil {
					t.Fatal(err)
				}
			}
			plan := explainFeatures(t, db)
			scans := map[string]int{}
			for _, line := range strings.Split(plan, "\n") {
				if !strings.Contains(line, " on transactions") {
					continue
				}
				_, index, ok := strings.Cut(line, " using ")
				index, _, _ = strings.Cut(index, " ")
				if !ok {
					index = strings.TrimSpace(line)
				}
				scans[index]++
			}
			// The user's window, the 7 days before it, the latest 200 in 90 days and the previous transaction;
			// the device's users, 24-hour totals and last sighting; the merchant's payers and first payment;
			// the IP address's and its subnet's payments.
			want := map[string]int{"transactions_user_time_idx": 4, "transactions_device_time_idx": 3, "transactions_merchant_time_idx": 2,
				"transactions_ip_time_idx": 1, "transactions_ip_prefix_time_idx": 1}
			if !maps.Equal(scans, want) {
				t.Errorf("scans of transactions: got %v; want %v\n%s", scans, want, plan)
			}
		})
	}
}

// explainFeatures is the generic plan of the feature read under the submission's settings.
func explainFeatures(t *testing.T, db *bun.DB) string {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{"PREPARE features(bigint[], timestamptz[], text[], numeric[], text[], text[], text[], numeric[], text[], numeric[], float8[], float8[]) AS " + store.FeaturesSQL, "BEGIN", store.SettingsSQL} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	defer conn.ExecContext(ctx, "ROLLBACK; DEALLOCATE features") //nolint:errcheck // the connection is closed next
	var lines []string
	if err := conn.NewRaw("EXPLAIN EXECUTE features('{1}', ARRAY[now()], '{fp-1}', '{10}', '{m-1}', '{CN}', '{10.1.2.3}', '{10000}', '{travel}', '{50}', '{31.2}', '{121.4}')").Scan(ctx, &lines); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// TestRecordStatementsPrepare: PostgreSQL counts as many parameters in each
// hot write as the names the call supplies.
func TestRecordStatementsPrepare(t *testing.T) {
	db, _ := pgtest.New(t)
	for name, st := range store.RecordStatements {
		conn, err := db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		err = conn.Raw(func(dc any) error {
			sd, err := dc.(*stdlib.Conn).Conn().Prepare(context.Background(), "", st.SQL)
			if err == nil && len(sd.ParamOIDs) != st.Params {
				t.Errorf("%s: PostgreSQL sees %d parameters, the statement names %d", name, len(sd.ParamOIDs), st.Params)
			}
			return err
		})
		conn.Close()
		if err != nil {
			t.Fatalf("%s: prepare: %v", name, err)
		}
	}
}
