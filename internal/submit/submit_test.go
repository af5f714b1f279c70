package submit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/pgtest"
	"github.com/smartfinance/riskgraph/internal/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

type builtinRules struct{ rs *engine.RuleSet }

func (r builtinRules) Current() *engine.RuleSet                 { return r.rs }
func (r builtinRules) RecordHits(_ []engine.Match, _ time.Time) {}

// fixture is a service on its own database, with one connection in the pool
// so that every submission reuses the connection the previous one returned.
type fixture struct {
	db      *bun.DB
	svc     *Service
	gateway auth.Principal
	user    *domain.User
	// notified is what the notifier saw of the alert table from inside the transaction.
	notified []int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, _ := pgtest.New(t)
	db.SetMaxOpenConns(1)
	// A shadow rule that matches everything: recorded, never scored.
	rules := append(engine.BuiltinRules(), engine.Rule{ID: 100, Name: "shadow probe", Condition: "amount > 0", Score: 90, Shadow: true})
	rs, err := engine.Compile(rules)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db}
	ctx := context.Background()
	gateway := &domain.User{Username: "gateway", PasswordHash: "!", Role: domain.RoleService, Status: domain.UserActive}
	f.user = &domain.User{Username: "erin", PasswordHash: "!", Role: domain.RoleUser, Status: domain.UserActive}
	for _, u := range []*domain.User{gateway, f.user} {
		if err := store.InsertUser(ctx, db, u); err != nil {
			t.Fatal(err)
		}
	}
	f.gateway = auth.Principal{UserID: gateway.ID, Role: domain.RoleService}
	notify := func(ctx context.Context, tx bun.IDB, alerts []*domain.Alert) error {
		for _, a := range alerts {
			var n int
			if err := tx.NewSelect().Model((*domain.Alert)(nil)).Where("id = ?", a.ID).ColumnExpr("count(*)").Scan(ctx, &n); err != nil {
				return err
			}
			f.notified = append(f.notified, n)
		}
		return nil
	}
	f.svc = New(Options{DB: db, Rules: builtinRules{rs}, Config: engine.DefaultConfig(), Notify: notify,
		Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return f
}

func (f *fixture) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRiskySubmissionWritesEverythingInOneTransaction(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := Input{UserID: &f.user.ID, Amount: decimal.RequireFromString("12000"), DeviceID: ptr("fp-erin"),
		Location: &domain.Location{Latitude: 31.23, Longitude: 121.47, City: ptr("Shanghai")}, IdempotencyKey: ptr("order-1")}
	res, err := f.svc.Submit(ctx, f.gateway, in)
	if err != nil {
		t.Fatal(err)
	}
	tx, d, ev, a := res.Transaction, res.Detection, res.RiskEvent, res.Alert
	if tx.ID == 0 || tx.DeviceID == nil || tx.CreatedAt.IsZero() || d.TransactionID != tx.ID || d.CreatedAt.IsZero() {
		t.Fatalf("transaction and detection: got %+v, %+v", tx, d)
	}
	if ev == nil || a == nil || ev.ID == 0 || ev.TransactionID != tx.ID || ev.Level != domain.RiskMedium || ev.Version != 1 ||
		a.EventID != ev.ID || a.Status != domain.AlertNew || a.Title != ev.Title || a.CreatedAt.IsZero() {
		t.Fatalf("event and alert: got %+v, %+v", ev, a)
	}
	var stored domain.Detection
	if err := f.db.NewSelect().Model(&stored).Where("transaction_id = ?", tx.ID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if stored.RuleScore != 50 || len(stored.MatchedRules) != 1 || len(stored.ShadowRules) != 1 || stored.ShadowRules[0].Name != "shadow probe" {
		t.Errorf("stored detection: got rule score %d, matched %+v, shadow %+v; want 50, large amount, shadow probe",
			stored.RuleScore, stored.MatchedRules, stored.ShadowRules)
	}
	if len(f.notified) != 1 || f.notified[0] != 1 {
		t.Errorf("notifier saw the alert %v times from inside the transaction; want once", f.notified)
	}

	var timeline []*domain.TimelineEntry
	if err := f.db.NewSelect().Model(&timeline).Where("event_id = ?", ev.ID).Order("id").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if len(timeline) != 2 || timeline[0].Kind != domain.TimelineDetection || timeline[1].Kind != domain.TimelineAlert ||
		*timeline[0].ToStatus != "OPEN" || *timeline[1].ToStatus != "NEW" || timeline[1].Note != a.Title {
		t.Fatalf("timeline: got %+v", timeline)
	}
	var detected struct {
		TransactionID int64    `json:"transactionId"`
		Decision      string   `json:"decision"`
		MatchedRules  []string `json:"matchedRules"`
	}
	var raised struct {
		AlertID int64  `json:"alertId"`
		Level   string `json:"level"`
	}
	if json.Unmarshal(timeline[0].Details, &detected) != nil || detected.TransactionID != tx.ID || detected.Decision != "PASS" ||
		len(detected.MatchedRules) != 1 || json.Unmarshal(timeline[1].Details, &raised) != nil || raised.AlertID != a.ID || raised.Level != "MEDIUM" {
		t.Errorf("timeline details: got %s and %s", timeline[0].Details, timeline[1].Details)
	}

	for _, c := range []struct {
		query string
		args  []any
	}{
		{"SELECT count(*) FROM user_devices WHERE user_id = ? AND device_id = ?", []any{f.user.ID, *tx.DeviceID}},
		{"SELECT count(*) FROM users WHERE id = ? AND last_city = 'Shanghai' AND last_location_at = ?", []any{f.user.ID, tx.OccurredAt}},
		{"SELECT count(*) FROM audit_logs WHERE action = 'transaction.scored' AND target_id = ?", []any{fmt.Sprint(tx.ID)}},
		{"SELECT count(*) FROM idempotency_keys WHERE key = 'order-1' AND transaction_id = ?", []any{tx.ID}},
	} {
		if got := f.count(t, c.query, c.args...); got != 1 {
			t.Errorf("%s: got %d, want 1", c.query, got)
		}
	}

	replay, err := f.svc.Submit(ctx, f.gateway, in)
	if err != nil || replay.Transaction.ID != tx.ID || replay.Alert == nil || replay.Alert.ID != a.ID {
		t.Fatalf("replay: got %+v, %v; want transaction %d and alert %d", replay, err, tx.ID, a.ID)
	}
}

func TestFailedSubmissionLeavesNothingAndAHealthyConnection(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.Submit(ctx, f.gateway, Input{UserID: &f.user.ID, Amount: decimal.NewFromInt(10), SourceID: ptr(int64(999)),
		DeviceID: ptr("fp-new"), IdempotencyKey: ptr("order-2")})
	if apperr.CodeOf(err) != apperr.BadInput {
		t.Fatalf("unknown source: got %v; want BAD_USER_INPUT", err)
	}
	_, err = f.svc.Submit(ctx, f.gateway, Input{UserID: ptr(int64(1 << 40)), Amount: decimal.NewFromInt(10)})
	if apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("unknown user: got %v; want NOT_FOUND", err)
	}
	for _, table := range []string{"transactions", "detections", "devices", "audit_logs", "idempotency_keys"} {
		if got := f.count(t, "SELECT count(*) FROM "+table); got != 0 {
			t.Errorf("%s: got %d rows after failed submissions, want 0", table, got)
		}
	}
	// The pool's only connection went back clean: the key is free and writes work.
	res, err := f.svc.Submit(ctx, f.gateway, Input{UserID: &f.user.ID, Amount: decimal.NewFromInt(10), IdempotencyKey: ptr("order-2")})
	if err != nil || res.Transaction.ID == 0 || res.Alert != nil {
		t.Fatalf("submission after failures: got %+v, %v", res, err)
	}
}
