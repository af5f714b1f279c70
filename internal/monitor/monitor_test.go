package monitor_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/dbmigrate"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/monitor"
	"github.com/smartfinance/riskgraph/internal/pgtest"
	"github.com/smartfinance/riskgraph/internal/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var clock = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// at is a time on 2026-11-20, the seeded day, in UTC.
func at(hour, minute, second int) time.Time {
	return time.Date(2026, 11, 20, hour, minute, second, 0, time.UTC)
}

// seeder inserts rows with raw SQL, so the tests do not depend on the submit pipeline.
type seeder struct {
	t    *testing.T
	db   *bun.DB
	user int64
}

func newSeeder(t *testing.T, db *bun.DB) *seeder {
	t.Helper()
	s := &seeder{t: t, db: db}
	s.scan(&s.user, `INSERT INTO users (username, password_hash) VALUES ('u', 'x') RETURNING id`)
	return s
}

func (s *seeder) scan(dst any, query string, args ...any) {
	s.t.Helper()
	if err := s.db.NewRaw(query, args...).Scan(context.Background(), dst); err != nil {
		s.t.Fatalf("seed %q: %v", query, err)
	}
}

// tx inserts a transaction and, when level is set, its detection created at createdAt.
func (s *seeder) tx(occurredAt time.Time, amount string, level domain.RiskLevel, decision domain.Decision, createdAt time.Time) int64 {
	s.t.Helper()
	var id int64
	s.scan(&id, `INSERT INTO transactions (user_id, amount, currency, status, submitted_by, occurred_at)
		VALUES (?, ?::numeric, 'CNY', 'APPROVED', ?, ?) RETURNING id`, s.user, amount, s.user, occurredAt)
	if level != "" {
		var n int
		s.scan(&n, `INSERT INTO detections (transaction_id, user_id, risk_score, risk_level, decision, rule_score,
			reason, features, latency_us, created_at)
			VALUES (?, ?, 0, ?, ?, 0, '', '{}', 1, ?) RETURNING 1`, id, s.user, level, decision, createdAt)
	}
	return id
}

// event opens a risk event on a new transaction.
func (s *seeder) event(createdAt time.Time, level domain.RiskLevel, status domain.EventStatus, typ string, handledAt *time.Time) int64 {
	s.t.Helper()
	txID := s.tx(createdAt, "1", "", "", time.Time{})
	var id int64
	s.scan(&id, `INSERT INTO risk_events (user_id, transaction_id, type, level, status, risk_score, title, created_at, handled_at)
		VALUES (?, ?, ?, ?, ?, 50, 't', ?, ?) RETURNING id`, s.user, txID, typ, level, status, createdAt, handledAt)
	return id
}

// eventOn opens a risk event with an alert on an existing transaction.
func (s *seeder) eventOn(txID int64, createdAt time.Time, level domain.RiskLevel) {
	s.t.Helper()
	var id int64
	s.scan(&id, `INSERT INTO risk_events (user_id, transaction_id, type, level, risk_score, title, created_at)
		VALUES (?, ?, 'RULE', ?, 50, 't', ?) RETURNING id`, s.user, txID, level, createdAt)
	s.scan(&id, `INSERT INTO alerts (event_id, user_id, transaction_id, level, title, message, created_at)
		VALUES (?, ?, ?, ?, 't', 'm', ?) RETURNING id`, id, s.user, txID, level, createdAt)
}

func newService(db *bun.DB) *monitor.Service {
	m := monitor.NewMetrics(prometheus.NewRegistry(), func() int { return 0 })
	return monitor.New(db, func() time.Time { return clock }, m, monitor.StatusInfo{
		Version: "test", StartedAt: clock.Add(-time.Hour),
		Subscribers: func() int { return 3 }, RulesLoaded: func() int { return 5 },
	})
}

func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != apperr.BadInput || ae.Field != field {
		t.Fatalf("got error %v; want BAD_USER_INPUT on %q", err, field)
	}
}

func TestRiskTrend(t *testing.T) {
	ctx := context.Background()
	db, _ := pgtest.New(t)
	s := newSeeder(t, db)
	svc := newService(db)

	s.tx(at(10, 5, 0), "100.00", domain.RiskLow, domain.DecisionPass, clock)
	medium := s.tx(at(10, 40, 0), "250.50", domain.RiskMedium, domain.DecisionReview, clock)
	s.eventOn(medium, at(10, 40, 1), domain.RiskMedium)
	// Scored in hour 10, its event and alert are created in hour 11 but
	// happened, like the payment, in hour 10 (event time).
	high := s.tx(at(10, 59, 59), "12000.00", domain.RiskHigh, domain.DecisionReject, clock)
	s.eventOn(high, at(11, 0, 0), domain.RiskHigh)
	s.tx(at(14, 0, 0), "5.00", "", "", time.Time{}) // not scored
	s.tx(at(23, 59, 59), "1.00", domain.RiskLow, domain.DecisionPass, clock)
	// Outside the day: the second before it and the first instant after.
	s.tx(at(0, 0, -1), "7.00", domain.RiskLow, domain.DecisionPass, clock)
	after := s.tx(at(24, 0, 0), "9.00", domain.RiskHigh, domain.DecisionReject, clock)
	s.eventOn(after, at(24, 0, 0), domain.RiskHigh)

	type figures struct {
		tx                   int
		volume               string
		low, medium, high    int
		pass, review, reject int
		events, alerts       int
	}
	got := func(p *domain.TrendPoint) figures {
		return figures{p.Transactions, p.Volume.StringFixed(2), p.Low, p.Medium, p.High, p.Pass, p.Review, p.Reject, p.Events, p.Alerts}
	}
	zero := figures{volume: "0.00"}

	tests := []struct {
		name     string
		from, to time.Time
		bucket   string
		want     map[time.Time]figures // the non-zero buckets
		buckets  int
	}{
		{"hourly day", at(0, 0, 0), at(24, 0, 0), "HOUR", map[time.Time]figures{
			at(10, 0, 0): {3, "12350.50", 1, 1, 1, 1, 1, 1, 2, 2},
			at(14, 0, 0): {1, "5.00", 0, 0, 0, 0, 0, 0, 0, 0},
			at(23, 0, 0): {1, "1.00", 1, 0, 0, 1, 0, 0, 0, 0},
		}, 24},
		{"from inside an hour starts at the hour", at(10, 30, 0), at(12, 0, 0), "HOUR", map[time.Time]figures{
			at(10, 0, 0): {3, "12350.50", 1, 1, 1, 1, 1, 1, 2, 2},
		}, 2},
		{"partial last hour", at(10, 0, 0), at(10, 59, 59), "HOUR", map[time.Time]figures{
			at(10, 0, 0): {2, "350.50", 1, 1, 0, 1, 1, 0, 1, 1},
		}, 1},
		{"daily", at(-12, 0, 0), at(36, 0, 0), "DAY", map[time.Time]figures{
			at(-24, 0, 0): {1, "7.00", 1, 0, 0, 1, 0, 0, 0, 0},
			at(0, 0, 0):   {5, "12356.50", 2, 1, 1, 2, 1, 1, 2, 2},
			at(24, 0, 0):  {1, "9.00", 0, 0, 1, 0, 0, 1, 1, 1},
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			points, err := svc.RiskTrend(ctx, tt.from, tt.to, tt.bucket)
			if err != nil {
				t.Fatalf("RiskTrend: %v", err)
			}
			if len(points) != tt.buckets {
				t.Fatalf("got %d buckets; want %d", len(points), tt.buckets)
			}
			step := time.Hour
			if tt.bucket == "DAY" {
				step = 24 * time.Hour
			}
			var sum figures
			sumVolume := decimal.Zero
			for i, p := range points {
				if want := points[0].BucketStart.Add(time.Duration(i) * step); !p.BucketStart.Equal(want) {
					t.Errorf("bucket %d starts at %v; want %v", i, p.BucketStart, want)
				}
				want, ok := tt.want[p.BucketStart]
				if !ok {
					want = zero
				}
				if g := got(p); g != want {
					t.Errorf("bucket %v: got %+v; want %+v", p.BucketStart, g, want)
				}
				sum.tx += p.Transactions
				sum.low += p.Low
				sum.pass += p.Pass
				sum.events += p.Events
				sum.alerts += p.Alerts
				sumVolume = sumVolume.Add(p.Volume)
			}

			// The buckets add up to plain counts over the same range.
			start, end := points[0].BucketStart, tt.to
			var plain struct {
				Tx     int
				Volume decimal.Decimal
				Low    int
				Pass   int
				Events int
				Alerts int
			}
			s.scan(&plain, `SELECT
				(SELECT count(*) FROM transactions WHERE occurred_at >= ?0 AND occurred_at < ?1) AS tx,
				(SELECT coalesce(sum(amount), 0) FROM transactions WHERE occurred_at >= ?0 AND occurred_at < ?1) AS volume,
				(SELECT count(*) FROM transactions t JOIN detections d ON d.transaction_id = t.id
					WHERE t.occurred_at >= ?0 AND t.occurred_at < ?1 AND d.risk_level = 'LOW') AS low,
				(SELECT count(*) FROM transactions t JOIN detections d ON d.transaction_id = t.id
					WHERE t.occurred_at >= ?0 AND t.occurred_at < ?1 AND d.decision = 'PASS') AS pass,
				(SELECT count(*) FROM risk_events e JOIN transactions t ON t.id = e.transaction_id
					WHERE t.occurred_at >= ?0 AND t.occurred_at < ?1) AS events,
				(SELECT count(*) FROM alerts a JOIN transactions t ON t.id = a.transaction_id
					WHERE t.occurred_at >= ?0 AND t.occurred_at < ?1) AS alerts`, start, end)
			if sum.tx != plain.Tx || !sumVolume.Equal(plain.Volume) || sum.low != plain.Low || sum.pass != plain.Pass ||
				sum.events != plain.Events || sum.alerts != plain.Alerts {
				t.Errorf("sums: got tx %d volume %s low %d pass %d events %d alerts %d; want %+v",
					sum.tx, sumVolume, sum.low, sum.pass, sum.events, sum.alerts, plain)
			}
		})
	}
}

func TestRiskTrendLimits(t *testing.T) {
	ctx := context.Background()
	db, _ := pgtest.New(t)
	svc := newService(db)

	points, err := svc.RiskTrend(ctx, at(0, 0, 0), at(1000, 0, 0), "HOUR")
	if err != nil || len(points) != 1000 {
		t.Fatalf("1000 hourly buckets: got %d, %v; want 1000", len(points), err)
	}
	tests := []struct {
		name     string
		from, to time.Time
		bucket   string
		field    string
	}{
		{"1001 hourly buckets", at(0, 0, 0), at(1000, 0, 1), "HOUR", "to"},
		{"1001 daily buckets", at(0, 0, 0), at(1001*24, 0, 0), "DAY", "to"},
		{"empty range", at(10, 0, 0), at(10, 0, 0), "HOUR", "to"},
		{"reversed range", at(11, 0, 0), at(10, 0, 0), "DAY", "to"},
		{"unknown bucket", at(0, 0, 0), at(1, 0, 0), "WEEK", "bucket"},
		{"longer than a Duration", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), "DAY", "to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.RiskTrend(ctx, tt.from, tt.to, tt.bucket)
			wantInvalid(t, err, tt.field)
		})
	}
}

func TestRiskEventStats(t *testing.T) {
	ctx := context.Background()
	db, _ := pgtest.New(t)
	s := newSeeder(t, db)
	svc := newService(db)
	ptr := func(t time.Time) *time.Time { return &t }

	s.event(at(9, 0, 0), domain.RiskHigh, domain.EventOpen, "LARGE_AMOUNT", nil)
	s.event(at(9, 30, 0), domain.RiskMedium, domain.EventInvestigating, "VELOCITY", nil)
	s.event(at(10, 0, 0), domain.RiskHigh, domain.EventConfirmedFraud, "LARGE_AMOUNT", ptr(at(10, 30, 0)))
	s.event(at(11, 0, 0), domain.RiskMedium, domain.EventFalsePositive, "VELOCITY", ptr(at(12, 0, 0)))
	s.event(at(12, 0, 0), domain.RiskMedium, domain.EventClosed, "VELOCITY", nil) // closed without a verdict time
	// Escalated events are still open, whatever their handled_at says.
	s.event(at(13, 0, 0), domain.RiskHigh, domain.EventEscalated, "LARGE_AMOUNT", ptr(at(18, 0, 0)))
	// Outside the period.
	s.event(at(-1, 0, 0), domain.RiskHigh, domain.EventConfirmedFraud, "LARGE_AMOUNT", ptr(at(20, 0, 0)))
	s.event(at(24, 0, 0), domain.RiskLow, domain.EventOpen, "OTHER", nil)

	kc := func(pairs ...any) []*domain.KeyCount {
		var out []*domain.KeyCount
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, &domain.KeyCount{Key: pairs[i].(string), Count: pairs[i+1].(int)})
		}
		return out
	}
	mean := 2700.0
	tests := []struct {
		name     string
		from, to time.Time
		want     domain.RiskEventStats
	}{
		{"the day", at(0, 0, 0), at(24, 0, 0), domain.RiskEventStats{
			From: at(0, 0, 0), To: at(24, 0, 0), Total: 6,
			ByLevel:  kc("HIGH", 3, "MEDIUM", 3),
			ByStatus: kc("CLOSED", 1, "CONFIRMED_FRAUD", 1, "ESCALATED", 1, "FALSE_POSITIVE", 1, "INVESTIGATING", 1, "OPEN", 1),
			ByType:   kc("LARGE_AMOUNT", 3, "VELOCITY", 3),
			Open:     3, Handled: 3, MeanTimeToHandle: &mean,
		}},
		{"nothing handled", at(9, 0, 0), at(10, 0, 0), domain.RiskEventStats{
			From: at(9, 0, 0), To: at(10, 0, 0), Total: 2,
			ByLevel:  kc("HIGH", 1, "MEDIUM", 1),
			ByStatus: kc("INVESTIGATING", 1, "OPEN", 1),
			ByType:   kc("LARGE_AMOUNT", 1, "VELOCITY", 1),
			Open:     2,
		}},
		{"empty", at(2, 0, 0), at(3, 0, 0), domain.RiskEventStats{
			From: at(2, 0, 0), To: at(3, 0, 0), ByLevel: kc(), ByStatus: kc(), ByType: kc(),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := svc.RiskEventStats(ctx, tt.from, tt.to)
			if err != nil {
				t.Fatalf("RiskEventStats: %v", err)
			}
			if !got.From.Equal(tt.want.From) || !got.To.Equal(tt.want.To) {
				t.Errorf("period: got [%v, %v); want [%v, %v)", got.From, got.To, tt.want.From, tt.want.To)
			}
			if got.Total != tt.want.Total || got.Open != tt.want.Open || got.Handled != tt.want.Handled {
				t.Errorf("got total %d open %d handled %d; want %d %d %d",
					got.Total, got.Open, got.Handled, tt.want.Total, tt.want.Open, tt.want.Handled)
			}
			for _, c := range []struct {
				name      string
				got, want []*domain.KeyCount
			}{{"byLevel", got.ByLevel, tt.want.ByLevel}, {"byStatus", got.ByStatus, tt.want.ByStatus}, {"byType", got.ByType, tt.want.ByType}} {
				if !slices.EqualFunc(c.got, c.want, func(a, b *domain.KeyCount) bool { return *a == *b }) {
					t.Errorf("%s: got %v; want %v", c.name, keyCounts(c.got), keyCounts(c.want))
				}
			}
			switch {
			case tt.want.MeanTimeToHandle == nil && got.MeanTimeToHandle != nil:
				t.Errorf("mean time to handle: got %v; want none", *got.MeanTimeToHandle)
			case tt.want.MeanTimeToHandle != nil && (got.MeanTimeToHandle == nil || *got.MeanTimeToHandle != *tt.want.MeanTimeToHandle):
				t.Errorf("mean time to handle: got %v; want %v", got.MeanTimeToHandle, *tt.want.MeanTimeToHandle)
			}
		})
	}

	for _, tt := range []struct {
		name     string
		from, to time.Time
	}{
		{"reversed", at(10, 0, 0), at(9, 0, 0)},
		{"empty", at(10, 0, 0), at(10, 0, 0)},
		{"over 366 days", at(0, 0, 0), at(366*24, 0, 1)},
	} {
		t.Run("invalid "+tt.name, func(t *testing.T) {
			_, err := svc.RiskEventStats(ctx, tt.from, tt.to)
			wantInvalid(t, err, "to")
		})
	}
}

func keyCounts(kcs []*domain.KeyCount) []domain.KeyCount {
	out := make([]domain.KeyCount, len(kcs))
	for i, kc := range kcs {
		out[i] = *kc
	}
	return out
}

func TestSystemStatus(t *testing.T) {
	ctx := context.Background()
	db, dbURL := pgtest.New(t)
	s := newSeeder(t, db)

	s.tx(clock.Add(-time.Hour), "1", domain.RiskLow, domain.DecisionPass, clock.Add(-30*time.Second))
	s.tx(clock.Add(-time.Hour), "1", domain.RiskLow, domain.DecisionPass, clock.Add(-59*time.Second))
	s.tx(clock.Add(-time.Hour), "1", domain.RiskLow, domain.DecisionPass, clock.Add(-time.Minute)) // just out
	s.tx(clock.Add(-time.Hour), "1", domain.RiskLow, domain.DecisionPass, clock.Add(-2*time.Minute))

	metrics := monitor.NewMetrics(prometheus.NewRegistry(), func() int { return 0 })
	for ms := 1; ms <= 4; ms++ {
		metrics.Scored(&domain.Detection{RiskLevel: domain.RiskLow, Decision: domain.DecisionPass},
			time.Duration(ms)*time.Microsecond, time.Duration(ms)*time.Millisecond)
	}
	info := monitor.StatusInfo{
		Version: "1.2.3", StartedAt: clock.Add(-90 * time.Minute),
		Subscribers: func() int { return 3 }, RulesLoaded: func() int { return 5 },
	}
	migrations, err := dbmigrate.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	sorted := migrations.Sorted()
	newest := sorted[len(sorted)-1].Name

	// A second pool on the same database, closed to play a database that is down.
	down, err := store.Open(ctx, dbURL, store.PoolConfig{MaxOpen: 3, MaxIdle: 1, MaxLifetime: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	down.Close()

	tests := []struct {
		name       string
		db         *bun.DB
		reachable  bool
		lastMinute int
		migration  string
		maxOpen    int
	}{
		{"up", db, true, 2, newest, 20},
		{"down", down, false, 0, "", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := monitor.New(tt.db, func() time.Time { return clock }, metrics, info)
			got, err := svc.SystemStatus(ctx)
			if err != nil {
				t.Fatalf("SystemStatus: %v", err)
			}
			if got.Version != "1.2.3" || !got.StartedAt.Equal(info.StartedAt) || got.UptimeSeconds != 5400 {
				t.Errorf("got version %q started %v uptime %v; want 1.2.3 %v 5400", got.Version, got.StartedAt, got.UptimeSeconds, info.StartedAt)
			}
			if got.ActiveSubscriptions != 3 || got.RulesLoaded != 5 {
				t.Errorf("got subscriptions %d rules %d; want 3 5", got.ActiveSubscriptions, got.RulesLoaded)
			}
			if got.Database.Reachable != tt.reachable || got.Database.MaxOpen != tt.maxOpen {
				t.Errorf("database: got reachable %v maxOpen %d; want %v %d", got.Database.Reachable, got.Database.MaxOpen, tt.reachable, tt.maxOpen)
			}
			if got.Database.LatencyMs < 0 || (!tt.reachable && got.Database.LatencyMs != 0) {
				t.Errorf("database latency: got %v ms", got.Database.LatencyMs)
			}
			if got.TransactionsLastMinute != tt.lastMinute || got.MigrationVersion != tt.migration {
				t.Errorf("got last minute %d migration %q; want %d %q", got.TransactionsLastMinute, got.MigrationVersion, tt.lastMinute, tt.migration)
			}
			wantScoring := domain.LatencyPercentiles{Samples: 4, P50: 2, P95: 4, P99: 4}
			wantEngine := domain.LatencyPercentiles{Samples: 4, P50: 0.002, P95: 0.004, P99: 0.004}
			if *got.ScoringLatency != wantScoring || *got.EngineLatency != wantEngine {
				t.Errorf("latency: got scoring %+v engine %+v; want %+v %+v", *got.ScoringLatency, *got.EngineLatency, wantScoring, wantEngine)
			}
		})
	}
}
