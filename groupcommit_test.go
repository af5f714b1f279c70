package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/pgtest"
)

const bulkMutation = `mutation($in: [SubmitTransactionInput!]!) { submitTransactions(inputs: $in) {
	index error { code message field }
	payload { transaction { id userId amount } detection { riskLevel features } alert { id } }
} }`

type bulkResult struct {
	Index int
	Error *struct {
		Code, Message string
		Field         *string
	}
	Payload *struct {
		Transaction struct{ ID, UserID, Amount string }
		Detection   struct {
			RiskLevel string
			Features  map[string]any
		}
		Alert *struct{ ID string }
	}
}

// txCount10m is the velocity the rules saw for the item.
func (r bulkResult) txCount10m() int {
	return int(r.Payload.Detection.Features["user"].(map[string]any)["txCount10m"].(float64))
}

func (e *testEnv) bulk(t *testing.T, token string, items []map[string]any) []bulkResult {
	t.Helper()
	var out struct{ SubmitTransactions []bulkResult }
	e.must(t, token, bulkMutation, map[string]any{"in": items}, &out)
	if len(out.SubmitTransactions) != len(items) {
		t.Fatalf("bulk: got %d results for %d inputs", len(out.SubmitTransactions), len(items))
	}
	for i, r := range out.SubmitTransactions {
		if r.Index != i || (r.Error == nil) == (r.Payload == nil) {
			t.Fatalf("bulk result %d: got index %d, error %+v, payload %+v; want its own index and one of the two", i, r.Index, r.Error, r.Payload)
		}
	}
	return out.SubmitTransactions
}

// batches reads riskgraph_submit_batch_size from /metrics: how many groups
// ran and how many submissions they held.
func (e *testEnv) batches(t *testing.T) (groups, members int) {
	t.Helper()
	resp, err := e.srv.Client().Get(e.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, _ := strings.Cut(sc.Text(), " ")
		n, _ := strconv.ParseFloat(value, 64)
		switch name {
		case "riskgraph_submit_batch_size_count":
			groups = int(n)
		case "riskgraph_submit_batch_size_sum":
			members = int(n)
		}
	}
	return groups, members
}

// storedVelocity is each user's txCount10m in the stored feature snapshots, in commit order.
func (e *testEnv) storedVelocity(t *testing.T) map[string][]int {
	t.Helper()
	var rows []struct {
		UserID int64
		Count  int
	}
	if err := e.db.NewRaw(`SELECT user_id, (features->'user'->>'txCount10m')::int AS count FROM detections ORDER BY user_id, transaction_id`).
		Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	out := map[string][]int{}
	for _, r := range rows {
		id := strconv.FormatInt(r.UserID, 10)
		out[id] = append(out[id], r.Count)
	}
	return out
}

// TestGroupCommitCountsEachUserInOrder: 64 concurrent submissions over 8
// users, then the same again as one bulk call (which forms its groups
// deterministically: 8 groups of one item per user), are counted exactly
// as if serialized: each user's stored velocity runs 1..8, then 9..16.
func TestGroupCommitCountsEachUserInOrder(t *testing.T) {
	e := newEnv(t)
	e.clock.AdvanceToHour(12)
	gateway := e.user(t, "gateway", domain.RoleService)
	admin := e.user(t, "root", domain.RoleAdmin)
	var users []string
	for i := range 8 {
		users = append(users, e.user(t, fmt.Sprintf("payer%d", i), domain.RoleUser).User.ID)
	}
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.submit(t, gateway.AccessToken, map[string]any{"userId": users[i%8], "amount": 5, "merchantId": "m-" + strconv.Itoa(i%3)})
		}()
	}
	wg.Wait()
	groups, members := e.batches(t)
	t.Logf("64 concurrent submissions: %d groups (mean size %.1f)", groups, float64(members)/float64(max(groups, 1)))
	if members != 64 {
		t.Fatalf("batch size histogram: %d submissions in %d groups, want 64 submissions", members, groups)
	}
	want := []int{1, 2, 3, 4, 5, 6, 7, 8}
	for _, u := range users {
		if got := e.storedVelocity(t)[u]; !slices.Equal(got, want) {
			t.Fatalf("user %s's stored txCount10m in commit order: got %v, want %v", u, got, want)
		}
	}

	var items []map[string]any
	for i := range 64 {
		items = append(items, map[string]any{"userId": users[i%8], "amount": 5})
	}
	results := e.bulk(t, admin.AccessToken, items)
	for i, r := range results {
		if r.Error != nil || r.Payload.Transaction.UserID != users[i%8] || r.txCount10m() != 9+i/8 {
			t.Fatalf("bulk item %d: got %+v, want user %s's transaction %d", i, r, users[i%8], 9+i/8)
		}
	}
	if g, m := e.batches(t); g-groups != 8 || m-members != 64 {
		t.Fatalf("bulk of 64 over 8 users: %d groups of %d submissions in all, want 8 groups of 8", g-groups, m-members)
	}
	for _, u := range users {
		if got := e.storedVelocity(t)[u]; len(got) != 16 || !slices.Equal(got[8:], []int{9, 10, 11, 12, 13, 14, 15, 16}) {
			t.Fatalf("user %s's stored txCount10m in commit order: got %v, want 1..16", u, got)
		}
	}
}

// TestGroupCommitPoisonedMember: members that fail — an unknown data source
// (found before the write) or a row the database refuses (which fails the
// group's write, after which each member goes alone) — fail alone; their
// batch-mates are committed with everything a submission writes.
func TestGroupCommitPoisonedMember(t *testing.T) {
	e := newEnv(t)
	e.clock.AdvanceToHour(12)
	admin := e.user(t, "root", domain.RoleAdmin)
	var users []string
	for i := range 5 {
		users = append(users, e.user(t, fmt.Sprintf("payer%d", i), domain.RoleUser).User.ID)
	}
	// A constraint only this test's database has: the payee "poison" is refused by PostgreSQL.
	if _, err := e.db.ExecContext(context.Background(),
		`ALTER TABLE transactions ADD CONSTRAINT no_poison CHECK (merchant_id IS DISTINCT FROM 'poison') NOT VALID`); err != nil {
		t.Fatal(err)
	}
	groups, members := e.batches(t)
	results := e.bulk(t, admin.AccessToken, []map[string]any{
		{"userId": users[0], "amount": 12000, "deviceId": "fp-shared", "location": map[string]any{"latitude": 31.2, "longitude": 121.5, "country": "CN"}},
		{"userId": users[1], "amount": 20, "sourceId": "999999"},
		{"userId": users[2], "amount": 30, "deviceId": "fp-shared", "idempotencyKey": "k-2"},
		{"userId": users[3], "amount": 40, "merchantId": "poison"},
		{"userId": users[4], "amount": 50, "merchantId": "m-1"},
	})
	if g, m := e.batches(t); g-groups < 1 || m-members < 5 {
		t.Fatalf("batch histogram: %d groups of %d, want the five in one group", g-groups, m-members)
	}
	if r := results[1]; r.Error == nil || r.Error.Code != "BAD_USER_INPUT" || r.Error.Field == nil || *r.Error.Field != "sourceId" {
		t.Fatalf("unknown source: got %+v, want BAD_USER_INPUT on sourceId", r)
	}
	if r := results[3]; r.Error == nil || r.Error.Code != "INTERNAL" || r.Error.Message != "internal error" {
		t.Fatalf("refused row: got %+v, want INTERNAL without the database's message", r)
	}
	for _, i := range []int{0, 2, 4} {
		if r := results[i]; r.Error != nil || r.Payload.Transaction.UserID != users[i] {
			t.Fatalf("batch-mate %d: got %+v, want its transaction", i, r)
		}
	}
	for query, want := range map[string]int{
		"SELECT count(*) FROM transactions":                                       3,
		"SELECT count(*) FROM detections":                                         3,
		"SELECT count(*) FROM audit_logs WHERE action = 'transaction.scored'":     3,
		"SELECT count(*) FROM risk_events":                                        1,
		"SELECT count(*) FROM alerts":                                             1,
		"SELECT count(*) FROM idempotency_keys WHERE key = 'k-2'":                 1,
		"SELECT count(*) FROM devices WHERE fingerprint = 'fp-shared'":            1,
		"SELECT count(*) FROM user_devices":                                       2,
		"SELECT count(*) FROM users WHERE last_country = 'CN'":                    1,
		"SELECT count(*) FROM transactions WHERE device_id IS NOT NULL":           2,
		"SELECT count(*) FROM event_timeline WHERE kind IN ('DETECTION','ALERT')": 2,
	} {
		if got := e.count(t, query); got != want {
			t.Errorf("%s: got %d, want %d", query, got, want)
		}
	}
	// The event's timeline starts with its detection, then its alert, as a single submission's does.
	var kinds []string
	if err := e.db.NewRaw(`SELECT action FROM event_timeline ORDER BY id`).Scan(context.Background(), &kinds); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(kinds, []string{"DETECTED", "ALERT_RAISED"}) {
		t.Fatalf("timeline: got %v, want DETECTED then ALERT_RAISED", kinds)
	}
	if a := results[0].Payload.Alert; a == nil || results[0].Payload.Detection.RiskLevel != "MEDIUM" {
		t.Fatalf("large amount: got %+v, want a MEDIUM detection with its alert", results[0].Payload)
	}
}

// TestGroupCommitIdempotency: a key is used once whether its replays come
// in the same bulk call, in later calls or concurrently, and a key reused
// for another body is a CONFLICT even within one call.
func TestGroupCommitIdempotency(t *testing.T) {
	e := newEnv(t)
	e.clock.AdvanceToHour(12)
	gateway := e.user(t, "gateway", domain.RoleService)
	a := e.user(t, "alice", domain.RoleUser).User.ID
	b := e.user(t, "bob", domain.RoleUser).User.ID
	c := e.user(t, "carol", domain.RoleUser).User.ID
	first := e.bulk(t, gateway.AccessToken, []map[string]any{
		{"userId": a, "amount": 10, "idempotencyKey": "k1"},
		{"userId": b, "amount": 10, "idempotencyKey": "k2"},
		{"userId": a, "amount": 10, "idempotencyKey": "k1"}, // a replay in the same call
		{"userId": c, "amount": 10, "idempotencyKey": "k2"}, // the same key for another body
		{"userId": c, "amount": 11},
	})
	if first[0].Error != nil || first[2].Error != nil || first[2].Payload.Transaction.ID != first[0].Payload.Transaction.ID {
		t.Fatalf("replay within a call: got %+v and %+v, want the same transaction", first[0], first[2])
	}
	if r := first[3]; r.Error == nil || r.Error.Code != "CONFLICT" {
		t.Fatalf("key reused for another body: got %+v, want CONFLICT", r)
	}
	if first[1].Error != nil || first[4].Error != nil {
		t.Fatalf("other items: got %+v and %+v, want both written", first[1], first[4])
	}
	// Replays in a later call, with a new submission in the same group; then concurrent single replays.
	again := e.bulk(t, gateway.AccessToken, []map[string]any{
		{"userId": b, "amount": 10, "idempotencyKey": "k2"},
		{"userId": c, "amount": 12, "idempotencyKey": "k3"},
		{"userId": a, "amount": 10, "idempotencyKey": "k1"},
	})
	if again[0].Error != nil || again[0].Payload.Transaction.ID != first[1].Payload.Transaction.ID ||
		again[2].Error != nil || again[2].Payload.Transaction.ID != first[0].Payload.Transaction.ID || again[1].Error != nil {
		t.Fatalf("replays in a later call: got %+v, want k2 and k1's first transactions and k3 written", again)
	}
	ids := make(chan string, 10)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := map[string]any{"userId": []string{a, b, c}[i%3], "amount": 10, "idempotencyKey": "k4-" + strconv.Itoa(i%3)}
			ids <- e.submit(t, gateway.AccessToken, in).Transaction.ID
		}()
	}
	wg.Wait()
	close(ids)
	distinct := map[string]bool{}
	for id := range ids {
		distinct[id] = true
	}
	if len(distinct) != 3 {
		t.Fatalf("10 concurrent submissions with 3 keys: got %d transactions, want 3", len(distinct))
	}
	if got := e.count(t, "SELECT count(*) FROM transactions"); got != 7 {
		t.Fatalf("transactions: got %d, want 7 (k1, k2, c's, k3 and three k4 keys)", got)
	}
}

// TestBulkSubmitResults: one result per input, in input order, each with
// its payload or the error submitTransaction would give; the cap on inputs.
func TestBulkSubmitResults(t *testing.T) {
	db, url := pgtest.New(t)
	e := newEnvOnWith(t, db, url, func(c *config) { c.Limits.MaxBulkSubmissions = 6 })
	e.clock.AdvanceToHour(12)
	gateway := e.user(t, "gateway", domain.RoleService)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	alice := e.user(t, "alice", domain.RoleUser)
	bob := e.user(t, "bob", domain.RoleUser)
	frozen := e.user(t, "frank", domain.RoleUser)
	if _, err := e.db.ExecContext(context.Background(), "UPDATE users SET status = 'FROZEN' WHERE id = ?", frozen.User.ID); err != nil {
		t.Fatal(err)
	}
	results := e.bulk(t, gateway.AccessToken, []map[string]any{
		{"userId": alice.User.ID, "amount": 10},
		{"userId": bob.User.ID, "amount": -1},
		{"userId": "424242", "amount": 10},
		{"userId": frozen.User.ID, "amount": 10},
		{"userId": analyst.User.ID, "amount": 10},
		{"userId": bob.User.ID, "amount": "20.50"},
	})
	want := []struct{ code, field string }{{}, {"BAD_USER_INPUT", "amount"}, {"NOT_FOUND", ""}, {"FORBIDDEN", ""}, {"NOT_FOUND", ""}, {}}
	for i, w := range want {
		r := results[i]
		if w.code == "" {
			if r.Error != nil {
				t.Fatalf("item %d: got error %+v, want its payload", i, r.Error)
			}
			continue
		}
		if r.Error == nil || r.Error.Code != w.code || (w.field != "") != (r.Error.Field != nil) || (r.Error.Field != nil && *r.Error.Field != w.field) {
			t.Fatalf("item %d: got %+v, want %s on %q", i, r, w.code, w.field)
		}
	}
	if results[0].Payload.Transaction.UserID != alice.User.ID || results[5].Payload.Transaction.Amount != "20.50" {
		t.Fatalf("payloads: got %+v and %+v", results[0].Payload, results[5].Payload)
	}
	if got := e.count(t, "SELECT count(*) FROM transactions"); got != 2 {
		t.Fatalf("transactions: got %d, want 2", got)
	}
	// A customer submits only for themselves, item by item; the cap counts inputs.
	own := e.bulk(t, alice.AccessToken, []map[string]any{{"amount": 1}, {"userId": bob.User.ID, "amount": 1}})
	if own[0].Error != nil || own[0].Payload.Transaction.UserID != alice.User.ID || own[1].Error == nil || own[1].Error.Code != "NOT_FOUND" {
		t.Fatalf("customer's bulk: got %+v", own)
	}
	seven := make([]map[string]any, 7)
	for i := range seven {
		seven[i] = map[string]any{"userId": alice.User.ID, "amount": 1}
	}
	res := e.mustFail(t, gateway.AccessToken, bulkMutation, map[string]any{"in": seven}, "BAD_USER_INPUT")
	if res.Errors[0].Extensions["field"] != "inputs" {
		t.Fatalf("over the cap: got %+v, want the error on inputs", res.Errors)
	}
	e.mustFail(t, analyst.AccessToken, bulkMutation, map[string]any{"in": seven[:1]}, "FORBIDDEN")
	if got := e.count(t, "SELECT count(*) FROM transactions"); got != 3 {
		t.Fatalf("transactions: got %d, want 3", got)
	}
}

// TestBulkAlertsReachSubscribersAfterCommit: a group commit's alerts are
// delivered once it commits — the subscriber reads each alert's transaction
// from the database — one notification each.
func TestBulkAlertsReachSubscribersAfterCommit(t *testing.T) {
	e := newEnv(t)
	e.clock.AdvanceToHour(12)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	admin := e.user(t, "root", domain.RoleAdmin)
	conn := e.subscribe(t, analyst.AccessToken, `subscription { alertRaised(minLevel: MEDIUM) { id level transaction { id amount } } }`)
	e.waitSubscribers(t, 1)
	var items []map[string]any
	for i := range 3 {
		items = append(items, map[string]any{"userId": e.user(t, fmt.Sprintf("payer%d", i), domain.RoleUser).User.ID, "amount": 12000 + i})
	}
	results := e.bulk(t, admin.AccessToken, items)
	want := map[string]string{}
	for _, r := range results {
		if r.Error != nil || r.Payload.Alert == nil {
			t.Fatalf("bulk item: got %+v, want a MEDIUM alert", r)
		}
		want[r.Payload.Alert.ID] = r.Payload.Transaction.ID
	}
	for range 3 {
		msg := readWS(t, conn)
		var got struct {
			Data struct {
				AlertRaised struct {
					ID          string
					Transaction *struct{ ID, Amount string }
				}
			}
		}
		if msg.Type != "next" || json.Unmarshal(msg.Payload, &got) != nil {
			t.Fatalf("got %+v, want an alert", msg)
		}
		a := got.Data.AlertRaised
		if a.Transaction == nil || want[a.ID] != a.Transaction.ID {
			t.Fatalf("alert %s: got transaction %+v, want %s read back", a.ID, a.Transaction, want[a.ID])
		}
		delete(want, a.ID)
	}
}
