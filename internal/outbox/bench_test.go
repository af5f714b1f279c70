package outbox_test

import (
	"context"
	"os"
	"testing"

	"github.com/smartfinance/riskgraph/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// BenchmarkTriggerCost measures what the outbox triggers add to a LOW
// submission's write (a transaction and its detection, in one statement and
// one commit, as the submit pipeline writes them): with the triggers
// disabled, enabled with no sink (they read outbox_settings and return), and
// with one webhook endpoint (they write decision.made). Run it with -cpu 1,8
// to see contention: concurrent writers each insert an outbox row, and all
// of them take the outbox_events sequence and index tail.
func BenchmarkTriggerCost(b *testing.B) {
	db, _ := pgtest.New(b)
	ctx := context.Background()
	var userID int64
	if err := db.NewRaw("INSERT INTO users (username, password_hash) VALUES ('bench', 'x') RETURNING id").Scan(ctx, &userID); err != nil {
		b.Fatal(err)
	}
	const write = `WITH t AS (
		INSERT INTO transactions (user_id, amount, currency, merchant_id, status, submitted_by, occurred_at)
		VALUES (?, 20, 'CNY', 'm-1', 'APPROVED', ?, now()) RETURNING id, user_id)
	INSERT INTO detections (transaction_id, user_id, risk_score, risk_level, decision, rule_score, reason, matched_rules, features, latency_us)
	SELECT id, user_id, 10, 'LOW', 'PASS', 10, 'ok', '[{"ruleId": 1, "name": "r", "score": 10, "reason": "x"}]', '{"amount": 20}', 5 FROM t`
	for _, c := range []struct{ name, setup string }{
		{"triggers-off", "ALTER TABLE detections DISABLE TRIGGER detections_outbox"},
		{"no-sink", "ALTER TABLE detections ENABLE TRIGGER detections_outbox"},
		{"one-endpoint", "INSERT INTO webhook_endpoints (url, secret) VALUES ('http://127.0.0.1:9/', 'whsec_x')"},
	} {
		if _, err := db.ExecContext(ctx, c.setup); err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := db.NewRaw(write, userID, userID).Exec(ctx); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
	var events int
	if err := db.NewRaw("SELECT count(*) FROM outbox_events").Scan(ctx, &events); err != nil || events == 0 {
		b.Fatalf("outbox events written with an endpoint: %d (%v)", events, err)
	}
}
