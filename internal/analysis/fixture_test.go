package analysis_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/analysis"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/pgtest"
	"github.com/smartfinance/riskgraph/internal/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// clock is "now" for the service; fixtures are placed relative to it.
var clock = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func ago(d time.Duration) time.Time { return clock.Add(-d) }

const day = 24 * time.Hour

// fixture builds a history in a fresh database and names its users and devices.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	db    *bun.DB
	svc   *analysis.Service
	ids   map[string]int64
	names map[int64]string // user ID → name
	fps   map[int64]string // device ID → fingerprint
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, _ := pgtest.New(t)
	return &fixture{t: t, ctx: context.Background(), db: db, svc: analysis.New(db, func() time.Time { return clock }),
		ids: map[string]int64{}, names: map[int64]string{}, fps: map[int64]string{}}
}

// user creates an active USER account 400 days old unless edit says otherwise.
func (f *fixture) user(name string, edit ...func(*domain.User)) int64 {
	f.t.Helper()
	u := &domain.User{Username: name, PasswordHash: "x", Role: domain.RoleUser, Status: domain.UserActive, CreatedAt: ago(400 * day)}
	for _, e := range edit {
		e(u)
	}
	if err := store.InsertUser(f.ctx, f.db, u); err != nil {
		f.t.Fatalf("insert user %s: %v", name, err)
	}
	f.ids[name], f.names[u.ID] = u.ID, name
	return u.ID
}

func (f *fixture) device(fp string, status domain.DeviceStatus) int64 {
	f.t.Helper()
	d, err := store.UpsertDevice(f.ctx, f.db, fp, ago(400*day))
	if err != nil {
		f.t.Fatalf("upsert device %s: %v", fp, err)
	}
	if status != domain.DeviceNormal {
		if _, err := store.SetDeviceStatus(f.ctx, f.db, d.ID, status); err != nil {
			f.t.Fatalf("set device status: %v", err)
		}
	}
	f.fps[d.ID] = fp
	return d.ID
}

// useDevice records that user used device from first to last.
func (f *fixture) useDevice(userID, deviceID int64, first, last time.Time) {
	f.t.Helper()
	for _, at := range []time.Time{first, last} {
		if err := store.LinkUserDevice(f.ctx, f.db, userID, deviceID, at); err != nil {
			f.t.Fatalf("link device: %v", err)
		}
	}
}

func (f *fixture) login(userID int64, ip string, at time.Time, success bool, edit ...func(*domain.LoginLog)) {
	f.t.Helper()
	l := &domain.LoginLog{UserID: &userID, Username: f.names[userID], Success: success, IPAddress: ip, CreatedAt: at}
	for _, e := range edit {
		e(l)
	}
	if err := store.InsertLoginLog(f.ctx, f.db, l); err != nil {
		f.t.Fatalf("insert login: %v", err)
	}
}

func (f *fixture) tx(userID int64, amount string, at time.Time, edit ...func(*domain.Transaction)) int64 {
	f.t.Helper()
	t := &domain.Transaction{UserID: userID, Amount: decimal.RequireFromString(amount), Currency: "CNY",
		Status: domain.TxApproved, SubmittedBy: userID, OccurredAt: at}
	for _, e := range edit {
		e(t)
	}
	if err := store.InsertTransaction(f.ctx, f.db, t); err != nil {
		f.t.Fatalf("insert transaction: %v", err)
	}
	return t.ID
}

// detect stores a detection of a transaction, scored at its occurrence time.
func (f *fixture) detect(userID, txID int64, level domain.RiskLevel, at time.Time, rules []domain.MatchedRule, features map[string]any) {
	f.t.Helper()
	if features == nil {
		features = map[string]any{}
	}
	raw, err := json.Marshal(features)
	if err != nil {
		f.t.Fatal(err)
	}
	if rules == nil {
		rules = []domain.MatchedRule{}
	}
	d := &domain.Detection{TransactionID: txID, UserID: userID, RiskLevel: level, Decision: domain.DecisionReview,
		Reason: "test", MatchedRules: rules, Features: raw, CreatedAt: at}
	if err := store.InsertDetection(f.ctx, f.db, d); err != nil {
		f.t.Fatalf("insert detection: %v", err)
	}
}

// event opens a risk event on a transaction in status, with a timeline entry
// for each status it passed through before.
func (f *fixture) event(userID, txID int64, status domain.EventStatus, passedThrough ...domain.EventStatus) int64 {
	f.t.Helper()
	e := &domain.RiskEvent{UserID: userID, TransactionID: txID, Type: "RISK", Level: domain.RiskMedium, Status: status, Title: "test"}
	if err := store.InsertRiskEvent(f.ctx, f.db, e); err != nil {
		f.t.Fatalf("insert event: %v", err)
	}
	for _, s := range append(passedThrough, status) {
		to := string(s)
		if err := store.InsertTimeline(f.ctx, f.db, &domain.TimelineEntry{EventID: e.ID, Kind: domain.TimelineAction,
			Action: "TEST", ToStatus: &to, Details: json.RawMessage("{}")}); err != nil {
			f.t.Fatalf("insert timeline: %v", err)
		}
	}
	return e.ID
}

func ptr[T any](v T) *T { return &v }
