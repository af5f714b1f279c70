package pubsub

import (
	"context"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// fixture holds the rows an alert refers to.
type fixture struct {
	userID, transactionID, eventID int64
}

func newFixture(t *testing.T, db *bun.DB) fixture {
	t.Helper()
	ctx := t.Context()
	var f fixture
	if err := db.NewRaw("INSERT INTO users (username, password_hash) VALUES ('u1', 'x') RETURNING id").Scan(ctx, &f.userID); err != nil {
		t.Fatalf("insert user: %v", err)
	}
	if err := db.NewRaw(`INSERT INTO transactions (user_id, amount, currency, status, submitted_by, occurred_at)
		VALUES (?, 10, 'CNY', 'APPROVED', ?, now()) RETURNING id`, f.userID, f.userID).Scan(ctx, &f.transactionID); err != nil {
		t.Fatalf("insert transaction: %v", err)
	}
	if err := db.NewRaw(`INSERT INTO risk_events (user_id, transaction_id, type, level, risk_score, title)
		VALUES (?, ?, 'AMOUNT', 'HIGH', 80, 't') RETURNING id`, f.userID, f.transactionID).Scan(ctx, &f.eventID); err != nil {
		t.Fatalf("insert risk event: %v", err)
	}
	return f
}

// insertAlert inserts an alert without notifying anyone.
func (f fixture) insertAlert(t *testing.T, db bun.IDB, level domain.RiskLevel, title string) *domain.Alert {
	t.Helper()
	a := new(domain.Alert)
	if err := db.NewRaw(`INSERT INTO alerts (event_id, user_id, transaction_id, level, title, message)
		VALUES (?, ?, ?, ?, ?, 'message') RETURNING *`, f.eventID, f.userID, f.transactionID, level, title).Scan(t.Context(), a); err != nil {
		t.Fatalf("insert alert: %v", err)
	}
	return a
}

// raiseAlert inserts an alert and notifies it, in tx, as the submit pipeline does.
func (f fixture) raiseAlert(t *testing.T, tx bun.IDB, level domain.RiskLevel, title string) *domain.Alert {
	t.Helper()
	a := f.insertAlert(t, tx, level, title)
	if err := NotifyAlert(t.Context(), tx, a); err != nil {
		t.Fatalf("NotifyAlert: %v", err)
	}
	return a
}

func begin(t *testing.T, db *bun.DB) bun.Tx {
	t.Helper()
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	t.Cleanup(func() { tx.Rollback() }) //nolint:errcheck // already ended on the usual path
	return tx
}

// instance is one server's share of the fan-out: a listener feeding a hub.
type instance struct {
	hub      *Hub
	listener *Listener
	// rules gets a value per onRules call.
	rules chan struct{}
	// sessions gets each session change, resyncs a value per SessionHooks.Resync call.
	sessions chan SessionChange
	resyncs  chan struct{}
}

// startInstance runs a listener until the test ends and waits until it is ready.
func startInstance(t *testing.T, db *bun.DB, dbURL string) *instance {
	t.Helper()
	in := &instance{hub: NewHub(), rules: make(chan struct{}, 64), sessions: make(chan SessionChange, 64), resyncs: make(chan struct{}, 64)}
	in.listener = NewListener(dbURL, db, in.hub, Reloads{Rules: func(context.Context) { in.rules <- struct{}{} }}, slog.New(slog.NewTextHandler(t.Output(), nil)))
	in.listener.WatchSessions(SessionHooks{
		Changed: func(c SessionChange) { in.sessions <- c },
		Resync:  func(context.Context) { in.resyncs <- struct{}{} },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.listener.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := recv(t, done, "Run after cancel"); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-in.listener.Ready():
	case err := <-done:
		t.Fatalf("Run returned before ready: %v", err)
	case <-time.After(wait):
		t.Fatalf("listener not ready within %v", wait)
	}
	recv(t, in.rules, "onRules on connect")
	recv(t, in.resyncs, "Resync on connect")
	return in
}

// barrier commits a rules notification and waits until every instance has
// handled it. Each listener handles notifications in commit order, so
// afterwards every notification committed earlier has reached the hubs.
func barrier(t *testing.T, db *bun.DB, instances ...*instance) {
	t.Helper()
	if err := NotifyRulesChanged(t.Context(), db, 0); err != nil {
		t.Fatalf("NotifyRulesChanged: %v", err)
	}
	for _, in := range instances {
		recv(t, in.rules, "barrier")
	}
}

func checkAlert(t *testing.T, got, want *domain.Alert) {
	t.Helper()
	if got.ID != want.ID || got.EventID != want.EventID || got.UserID != want.UserID ||
		got.TransactionID != want.TransactionID || got.Level != want.Level || got.Status != want.Status ||
		got.Title != want.Title || got.Message != want.Message || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("got alert %+v; want %+v", got, want)
	}
}

func TestAlertReachesEveryInstanceAfterCommit(t *testing.T) {
	db, dbURL := pgtest.New(t)
	f := newFixture(t, db)
	a, b := startInstance(t, db, dbURL), startInstance(t, db, dbURL)
	subs := []<-chan *domain.Alert{
		a.hub.Subscribe(t.Context(), domain.RiskMedium, 16),
		b.hub.Subscribe(t.Context(), domain.RiskMedium, 16),
	}

	tests := []struct {
		name   string
		commit bool
	}{
		{"rolled back", false},
		{"committed", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx := begin(t, db)
			want := f.raiseAlert(t, tx, domain.RiskHigh, tt.name)
			barrier(t, db, a, b)
			for i, sub := range subs {
				if got := buffered(sub); len(got) != 0 {
					t.Fatalf("instance %d: got ids %v before the transaction ended; want none", i, got)
				}
			}

			end := tx.Rollback
			if tt.commit {
				end = tx.Commit
			}
			if err := end(); err != nil {
				t.Fatalf("end transaction: %v", err)
			}
			for i, sub := range subs {
				if tt.commit {
					checkAlert(t, recv(t, sub, "alert after commit"), want)
				}
				barrier(t, db, a, b)
				if got := buffered(sub); len(got) != 0 {
					t.Errorf("instance %d: got further ids %v; want none", i, got)
				}
			}
		})
	}
}

// Identity values are taken at INSERT and seen at COMMIT, so alerts can
// arrive with a lower id than one already published; they still count.
func TestAlertsCommittedOutOfIDOrder(t *testing.T) {
	db, dbURL := pgtest.New(t)
	f := newFixture(t, db)
	in := startInstance(t, db, dbURL)
	sub := in.hub.Subscribe(t.Context(), domain.RiskLow, 16)

	first, second := begin(t, db), begin(t, db)
	older := f.raiseAlert(t, first, domain.RiskHigh, "older")
	newer := f.raiseAlert(t, second, domain.RiskHigh, "newer")
	for _, tx := range []bun.Tx{second, first} {
		if err := tx.Commit(); err != nil {
			t.Fatalf("commit: %v", err)
		}
	}
	barrier(t, db, in)
	if got, want := buffered(sub), []int64{newer.ID, older.ID}; !slices.Equal(got, want) {
		t.Errorf("got ids %v; want %v (in commit order)", got, want)
	}
}

// terminateListeners ends the listener connections on db's database and
// waits until they are gone.
func terminateListeners(t *testing.T, db *bun.DB) {
	t.Helper()
	var terminated []bool
	if err := db.NewRaw(`SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
		WHERE application_name = ? AND datname = current_database()`, applicationName).Scan(t.Context(), &terminated); err != nil {
		t.Fatalf("terminate listener: %v", err)
	}
	if !slices.Equal(terminated, []bool{true}) {
		t.Fatalf("got terminated %v; want one listener connection ended", terminated)
	}
}

func TestListenerCatchesUpAfterReconnect(t *testing.T) {
	db, dbURL := pgtest.New(t)
	f := newFixture(t, db)
	in := startInstance(t, db, dbURL)
	sub := in.hub.Subscribe(t.Context(), domain.RiskLow, 16)

	// Never notified, as if its notification had been lost: only the catch-up can deliver it.
	lost := f.insertAlert(t, db, domain.RiskHigh, "lost")
	terminateListeners(t, db)
	// Raised while the listener is down or reconnecting: it arrives live or
	// by catch-up, possibly both ways, and must be published once.
	racing := f.raiseAlert(t, db, domain.RiskMedium, "racing")
	recv(t, in.rules, "onRules after reconnect")
	// Session changes may have been missed too.
	recv(t, in.resyncs, "Resync after reconnect")
	after := f.raiseAlert(t, db, domain.RiskLow, "after")

	for _, want := range []*domain.Alert{lost, racing, after} {
		checkAlert(t, recv(t, sub, want.Title), want)
	}
	barrier(t, db, in)
	if got := buffered(sub); len(got) != 0 {
		t.Errorf("got further ids %v; want each alert once", got)
	}
}

func TestRulesChangedReachesEveryInstance(t *testing.T) {
	db, dbURL := pgtest.New(t)
	a, b := startInstance(t, db, dbURL), startInstance(t, db, dbURL)
	err := db.RunInTx(t.Context(), nil, func(ctx context.Context, tx bun.Tx) error {
		return NotifyRulesChanged(ctx, tx, 42)
	})
	if err != nil {
		t.Fatalf("NotifyRulesChanged: %v", err)
	}
	recv(t, a.rules, "onRules on instance a")
	recv(t, b.rules, "onRules on instance b")
}

func TestNotifyAlertTruncatesLongText(t *testing.T) {
	db, dbURL := pgtest.New(t)
	f := newFixture(t, db)
	in := startInstance(t, db, dbURL)
	sub := in.hub.Subscribe(t.Context(), domain.RiskLow, 16)

	a := f.insertAlert(t, db, domain.RiskHigh, "long")
	a.Message = strings.Repeat("可疑交易 <", 3000)
	if err := NotifyAlert(t.Context(), db, a); err != nil {
		t.Fatalf("NotifyAlert: %v", err)
	}
	got := recv(t, sub, "truncated alert")
	if got.ID != a.ID || got.Title != a.Title {
		t.Errorf("got id %d title %q; want %d %q", got.ID, got.Title, a.ID, a.Title)
	}
	if body, ok := strings.CutSuffix(got.Message, ellipsis); !ok || !strings.HasPrefix(a.Message, body) {
		t.Errorf("got message %.30q… (%d bytes); want a prefix of the original ending in %q", got.Message, len(got.Message), ellipsis)
	}
}

func TestRunReturnsWhenContextEnds(t *testing.T) {
	db, dbURL := pgtest.New(t)
	tests := []struct {
		name  string
		url   string
		ready bool
	}{
		{"connected", dbURL, true},
		// Nothing listens on port 1: Run is retrying when cancelled.
		{"reconnecting", "postgres://postgres@127.0.0.1:1/none?sslmode=disable", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logged := make(logSignal, 1)
			l := NewListener(tt.url, db, NewHub(), Reloads{}, slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), logged), nil)))
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- l.Run(ctx) }()
			if tt.ready {
				select {
				case <-l.Ready():
				case <-time.After(wait):
					t.Fatalf("listener not ready within %v", wait)
				}
			} else {
				// Each failed attempt logs before backing off; after two it is in the retry loop.
				recv(t, logged, "first reconnect warning")
				recv(t, logged, "second reconnect warning")
			}
			cancel()
			if err := recv(t, done, "Run after cancel"); err != nil {
				t.Errorf("got Run error %v; want nil", err)
			}
			if tt.ready {
				waitNoListener(t, db)
			}
		})
	}
}

// logSignal gets a value for each log record written, when it has room.
type logSignal chan struct{}

func (s logSignal) Write(p []byte) (int, error) {
	select {
	case s <- struct{}{}:
	default:
	}
	return len(p), nil
}

// waitNoListener waits until the database shows no listener connection.
func waitNoListener(t *testing.T, db *bun.DB) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		n, err := db.NewSelect().TableExpr("pg_stat_activity").
			Where("application_name = ? AND datname = current_database()", applicationName).Count(t.Context())
		if err != nil {
			t.Fatalf("count listener connections: %v", err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d listener connections %v after Run returned; want 0", n, wait)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRunRejectsBadURL(t *testing.T) {
	l := NewListener("postgres://%zz", nil, NewHub(), Reloads{}, nil)
	if err := l.Run(t.Context()); err == nil {
		t.Error("got nil error for an unparseable URL; want one")
	}
}
