package submit

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// TestGroupWritesWhatAloneWrites: the same payment written alone and by a
// group commit stores the same rows in every table, but for what names the
// user or is stamped by the database.
func TestGroupWritesWhatAloneWrites(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	users := []*domain.User{f.user}
	for i := range 2 {
		u := &domain.User{Username: fmt.Sprintf("payer%d", i), PasswordHash: "!", Role: domain.RoleUser, Status: domain.UserActive}
		if err := store.InsertUser(ctx, f.db, u); err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	newMember := func(u *domain.User) *member {
		in := Input{UserID: &u.ID, Amount: decimal.RequireFromString("12000.50"), Currency: "usd", MerchantID: ptr("m-1"),
			MerchantCategory: ptr("travel"), Channel: ptr("app"), DeviceID: ptr("fp-" + u.Username), IPAddress: ptr("203.0.113.7"),
			Location:       &domain.Location{Latitude: 31.23, Longitude: 121.47, Country: ptr("CN"), City: ptr("Shanghai")},
			IdempotencyKey: ptr("order-" + u.Username)}
		m, err := f.svc.member(ctx, f.gateway, in)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if _, err := f.svc.submitAlone(newMember(users[0])); err != nil {
		t.Fatal(err)
	}
	group := []*member{newMember(users[1]), newMember(users[2])}
	if retry, err := f.svc.submitGroup(group); err != nil || len(retry) > 0 {
		t.Fatalf("group: %v (retry %d)", err, len(retry))
	}
	for i, m := range group {
		o := <-m.done
		if o.err != nil || o.res.Alert == nil || o.res.Alert.ID == 0 || o.res.RiskEvent.TransactionID != o.res.Transaction.ID ||
			o.res.Detection.TransactionID != o.res.Transaction.ID || o.res.Transaction.DeviceID == nil {
			t.Fatalf("member %d: got %+v, %v", i, o.res, o.err)
		}
	}
	if !slices.Equal(f.notified, []int{1, 1, 1}) {
		t.Fatalf("notifier saw %v; want each alert once, from inside its transaction", f.notified)
	}
	// Each table's rows, less what names the user, the row or the clock: one distinct value means all three agree.
	for _, q := range []string{
		`SELECT to_jsonb(x) - '{id,user_id,created_at,occurred_at,device_id,device_fingerprint,device_first_seen_at,user_created_at}'::text[] FROM transactions x`,
		// The facts each transaction records: its device's first sighting and its user's creation.
		`SELECT jsonb_build_array(x.device_first_seen_at = d.first_seen_at, x.user_created_at = u.created_at)
		FROM transactions x JOIN devices d ON d.id = x.device_id JOIN users u ON u.id = x.user_id`,
		`SELECT to_jsonb(x) - '{transaction_id,user_id,created_at,latency_us,features}'::text[] FROM detections x`,
		`SELECT to_jsonb(x) - '{id,user_id,transaction_id,created_at,updated_at}'::text[] FROM risk_events x`,
		`SELECT to_jsonb(x) - '{id,event_id,user_id,transaction_id,created_at,message}'::text[] FROM alerts x`,
		`SELECT jsonb_agg(to_jsonb(x) - '{id,event_id,created_at,details}'::text[] ORDER BY id) FROM event_timeline x GROUP BY event_id`,
		`SELECT jsonb_agg(x.details - 'transactionId' - 'alertId' ORDER BY id) FROM event_timeline x GROUP BY event_id`,
		`SELECT to_jsonb(x) - '{id,target_id,details,created_at}'::text[] FROM audit_logs x WHERE action = 'transaction.scored'`,
		`SELECT to_jsonb(x) - '{transaction_id,user_id,created_at,key}'::text[] - 'request_hash' FROM idempotency_keys x`,
		`SELECT to_jsonb(x) - '{id,fingerprint,first_seen_at,last_seen_at,created_at,updated_at}'::text[] FROM devices x`,
		`SELECT jsonb_build_array(last_latitude, last_longitude, last_country, last_city) FROM users WHERE id IN (?, ?, ?)`,
		`SELECT jsonb_build_array(count(*), min(first_seen_at) = max(last_seen_at)) FROM user_devices GROUP BY user_id`,
	} {
		var rows []string
		if err := f.db.NewRaw(q, users[0].ID, users[1].ID, users[2].ID).Scan(ctx, &rows); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if slices.Sort(rows); len(rows) != 3 || len(slices.Compact(slices.Clone(rows))) != 1 {
			t.Errorf("%s: got %q, want three equal rows", q, rows)
		}
	}
}

// stages records what a StageObserver is told.
type stages struct{ read, scoring []time.Duration }

func (s *stages) Scored(*domain.Detection, time.Duration, time.Duration) {}

func (s *stages) Staged(read, scoring time.Duration) {
	s.read, s.scoring = append(s.read, read), append(s.scoring, scoring)
}

// TestStagesObserved: every committed submission reports its feature read
// and scoring time, alone or in a group, where the group's one
// read is shared equally by its members; a refused member reports nothing.
func TestStagesObserved(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	obs := &stages{}
	f.svc.observer = obs
	var users []*domain.User
	for i := range 3 {
		u := &domain.User{Username: fmt.Sprintf("staged%d", i), PasswordHash: "!", Role: domain.RoleUser, Status: domain.UserActive}
		if err := store.InsertUser(ctx, f.db, u); err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	frozen := &domain.User{Username: "frozen", PasswordHash: "!", Role: domain.RoleUser, Status: domain.UserFrozen}
	if err := store.InsertUser(ctx, f.db, frozen); err != nil {
		t.Fatal(err)
	}
	newMember := func(u *domain.User) *member {
		m, err := f.svc.member(ctx, f.gateway, Input{UserID: &u.ID, Amount: decimal.NewFromInt(25), MerchantID: ptr("m-1"), DeviceID: ptr("fp-" + u.Username)})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if _, err := f.svc.submitAlone(newMember(users[0])); err != nil {
		t.Fatal(err)
	}
	group := []*member{newMember(users[1]), newMember(frozen), newMember(users[2])}
	if retry, err := f.svc.submitGroup(group); err != nil || len(retry) > 0 {
		t.Fatalf("group: %v (retry %d)", err, len(retry))
	}
	for i, m := range group {
		if o := <-m.done; (o.err == nil) != (m.userID != frozen.ID) {
			t.Fatalf("member %d: got %+v, %v", i, o.res, o.err)
		}
	}
	if len(obs.read) != 3 || len(obs.scoring) != 3 {
		t.Fatalf("observed %d reads and %d scorings; want 3 each (one alone, two in the group)", len(obs.read), len(obs.scoring))
	}
	for i := range 3 {
		if obs.read[i] <= 0 || obs.scoring[i] <= 0 {
			t.Errorf("submission %d: read %v, scoring %v; want both measured", i, obs.read[i], obs.scoring[i])
		}
	}
	if obs.read[1] != obs.read[2] {
		t.Errorf("group members' reads: got %v and %v; want equal shares of the one round trip", obs.read[1], obs.read[2])
	}
}
