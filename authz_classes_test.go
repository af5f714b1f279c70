package main

// Issue 11's authorization, secrets, costly-work and signal-poisoning classes:
// who may act on whom, what a label's source may be, which data-source
// secrets ever leave, how many heavy jobs run at once, and who counts as
// another user of a device. The matrices in authz_matrix_test.go pin every cell; these
// tests play the reported attacks and their variants end to end.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/backtest"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

const backtestSlots = backtest.Slots

// The report: the gateway submits a large payment for the admin's user ID, an
// analyst confirms fraud with freezeUser, the admin is frozen. Case actions
// reach customers only, payments are customers' only, and no role acts on an
// account of an equal or higher role.
func TestCaseActionsFreezeCustomersOnly(t *testing.T) {
	e := newEnv(t)
	gateway := e.user(t, "gateway", domain.RoleService)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	admin := e.user(t, "root", domain.RoleAdmin)
	other := e.user(t, "root2", domain.RoleAdmin)
	vip := e.user(t, "vip", domain.RoleVIP)

	// No payment is anyone's but a customer's: staff and service IDs answer like a missing one.
	const pay = `mutation($in: SubmitTransactionInput!) { submitTransaction(input: $in) { transaction { id } } }`
	missing := e.mustFail(t, gateway.AccessToken, pay, map[string]any{"in": map[string]any{"userId": "999999999", "amount": 12000}}, "NOT_FOUND")
	for _, c := range []struct{ who, token, target string }{
		{"gateway for the admin", gateway.AccessToken, admin.User.ID},
		{"gateway for an analyst", gateway.AccessToken, analyst.User.ID},
		{"gateway for itself", gateway.AccessToken, gateway.User.ID},
		{"admin for another admin", admin.AccessToken, other.User.ID},
		{"admin for itself", admin.AccessToken, admin.User.ID},
	} {
		res := e.mustFail(t, c.token, pay, map[string]any{"in": map[string]any{"userId": c.target, "amount": 12000}}, "NOT_FOUND")
		if res.Errors[0].Message != missing.Errors[0].Message {
			t.Errorf("%s: message %q differs from a missing user's %q", c.who, res.Errors[0].Message, missing.Errors[0].Message)
		}
	}
	if n := e.count(t, "SELECT count(*) FROM transactions"); n != 0 {
		t.Fatalf("transactions stored for non-customers: %d", n)
	}

	// A case opened while its user was a customer, who then became staff.
	mole := e.user(t, "mole", domain.RoleUser)
	tx := e.submit(t, gateway.AccessToken, map[string]any{"userId": mole.User.ID, "amount": 12000, "deviceId": "fp-mole"}).Transaction.ID
	event := e.eventOf(t, analyst.AccessToken, tx)
	e.must(t, admin.AccessToken, `mutation($id: ID!) { updateUserRole(id: $id, role: ANALYST) { role } }`, map[string]any{"id": mole.User.ID}, nil)
	e.handle(t, analyst.AccessToken, event, map[string]any{"action": "START"})
	for _, flags := range []map[string]any{{"freezeUser": true}, {"blacklistDevice": true}, {"freezeUser": true, "blacklistDevice": true}} {
		in := map[string]any{"action": "CONFIRM_FRAUD"}
		for k, v := range flags {
			in[k] = v
		}
		for _, handler := range []session{analyst, admin} {
			e.mustFail(t, handler.AccessToken, handleEvent, map[string]any{"id": event, "in": in}, "FORBIDDEN")
		}
	}
	var after struct {
		RiskEvent   struct{ Status string }
		Transaction struct{ Device struct{ Status string } }
		User        struct{ Status string }
	}
	e.must(t, admin.AccessToken, `query($e: ID!, $t: ID!, $u: ID!) { riskEvent(id: $e) { status } transaction(id: $t) { device { status } } user(id: $u) { status } }`,
		map[string]any{"e": event, "t": tx, "u": mole.User.ID}, &after)
	if after.RiskEvent.Status != "INVESTIGATING" || after.Transaction.Device.Status != "NORMAL" || after.User.Status != "ACTIVE" {
		t.Fatalf("after refused case actions: got %+v, want the event INVESTIGATING, the device NORMAL, the user ACTIVE", after)
	}
	// The verdict alone stands; only the action on a staff account is refused.
	e.handle(t, analyst.AccessToken, event, map[string]any{"action": "CONFIRM_FRAUD"})

	// A customer is frozen and their sessions end.
	tx = e.submit(t, gateway.AccessToken, map[string]any{"userId": vip.User.ID, "amount": 12000, "deviceId": "fp-vip"}).Transaction.ID
	event = e.eventOf(t, analyst.AccessToken, tx)
	e.handle(t, analyst.AccessToken, event, map[string]any{"action": "START"})
	e.handle(t, analyst.AccessToken, event, map[string]any{"action": "CONFIRM_FRAUD", "freezeUser": true, "blacklistDevice": true})
	e.mustFail(t, vip.AccessToken, meQuery, nil, "UNAUTHENTICATED")

	// Admins act only below themselves: not on another admin, and never make one.
	for _, c := range []struct {
		what, query string
		vars        map[string]any
	}{
		{"freeze another admin", `mutation($id: ID!) { updateUserStatus(id: $id, status: FROZEN) { id } }`, map[string]any{"id": other.User.ID}},
		{"disable another admin", `mutation($id: ID!) { updateUserStatus(id: $id, status: DISABLED) { id } }`, map[string]any{"id": other.User.ID}},
		{"demote another admin", `mutation($id: ID!) { updateUserRole(id: $id, role: USER) { id } }`, map[string]any{"id": other.User.ID}},
		{"promote to admin", `mutation($id: ID!) { updateUserRole(id: $id, role: ADMIN) { id } }`, map[string]any{"id": mole.User.ID}},
		{"create an admin", `mutation { createUser(input: {username: "root3", password: "correct horse battery", role: ADMIN}) { id } }`, nil},
	} {
		if got := e.post(t, admin.AccessToken, c.query, c.vars).code(); got != "FORBIDDEN" {
			t.Errorf("%s: got %q, want FORBIDDEN", c.what, got)
		}
	}
	e.must(t, other.AccessToken, meQuery, nil, nil) // still active
	if n := e.count(t, "SELECT count(*) FROM users WHERE role = 'ADMIN'"); n != 2 {
		t.Fatalf("admins: got %d, want 2", n)
	}
	// Below them, admins still manage staff: freezing a rogue analyst works.
	e.must(t, admin.AccessToken, `mutation($id: ID!) { updateUserStatus(id: $id, status: FROZEN) { id } }`, map[string]any{"id": mole.User.ID}, nil)
}

// The report: as the gateway, labelTransaction(…, LEGITIMATE, source: "ANALYST")
// overwrote an analyst's fraud verdict, which trains the model. The source
// follows the caller's role; a feed never replaces a verdict; a payment system
// labels only what it submitted and never reads an analyst's verdict.
func TestLabelSourceFromRole(t *testing.T) {
	e := newEnv(t)
	gateway := e.user(t, "gateway", domain.RoleService)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	alice := e.user(t, "alice", domain.RoleUser)
	tx := e.submit(t, gateway.AccessToken, map[string]any{"userId": alice.User.ID, "amount": 12000}).Transaction.ID
	event := e.eventOf(t, analyst.AccessToken, tx)
	e.handle(t, analyst.AccessToken, event, map[string]any{"action": "START"})
	e.handle(t, analyst.AccessToken, event, map[string]any{"action": "CONFIRM_FRAUD", "note": "stolen card"})

	label := `mutation($id: ID!, $s: String) { labelTransaction(id: $id, label: LEGITIMATE, source: $s) { label source } }`
	e.mustFail(t, gateway.AccessToken, label, map[string]any{"id": tx, "s": "ANALYST"}, "FORBIDDEN")
	e.mustFail(t, gateway.AccessToken, label, map[string]any{"id": tx, "s": "ANALYST_2"}, "FORBIDDEN")
	e.mustFail(t, gateway.AccessToken, label, map[string]any{"id": tx}, "CONFLICT")
	e.mustFail(t, gateway.AccessToken, label, map[string]any{"id": tx, "s": "CHARGEBACK"}, "CONFLICT")
	var stored struct{ Source, Label string }
	if err := e.db.NewRaw(`SELECT source, label FROM transaction_labels WHERE transaction_id = ?`, tx).Scan(context.Background(), &stored.Source, &stored.Label); err != nil {
		t.Fatal(err)
	}
	if stored.Source != "ANALYST" || stored.Label != "FRAUD" {
		t.Fatalf("the verdict after the gateway's attempts: got %+v, want ANALYST FRAUD", stored)
	}
	// The gateway never reads the verdict.
	var view struct {
		Transaction struct{ Label *struct{ Label string } }
	}
	e.must(t, gateway.AccessToken, `query($id: ID!) { transaction(id: $id) { label { label } } }`, map[string]any{"id": tx}, &view)
	if view.Transaction.Label != nil {
		t.Fatalf("SERVICE reads the analyst's verdict: %+v", view.Transaction.Label)
	}

	// Its own transactions take its feed's labels, CHARGEBACK by default, and it reads them back.
	own := e.submit(t, gateway.AccessToken, map[string]any{"userId": alice.User.ID, "amount": 20}).Transaction.ID
	var out struct {
		LabelTransaction struct{ Label, Source string }
	}
	e.must(t, gateway.AccessToken, `mutation($id: ID!) { labelTransaction(id: $id, label: FRAUD) { label source } }`, map[string]any{"id": own}, &out)
	if out.LabelTransaction.Source != "CHARGEBACK" {
		t.Fatalf("SERVICE default source: got %s, want CHARGEBACK", out.LabelTransaction.Source)
	}
	e.must(t, gateway.AccessToken, `query($id: ID!) { transaction(id: $id) { label { label } } }`, map[string]any{"id": own}, &view)
	if view.Transaction.Label == nil || view.Transaction.Label.Label != "FRAUD" {
		t.Fatalf("SERVICE reading its own feed's label: got %+v", view.Transaction.Label)
	}
	// Another payment system's transactions, and the customer's own, are not its to label.
	other := e.user(t, "gateway2", domain.RoleService)
	e.mustFail(t, other.AccessToken, label, map[string]any{"id": own, "s": "CHARGEBACK"}, "NOT_FOUND")
	mine := e.submit(t, alice.AccessToken, map[string]any{"amount": 20}).Transaction.ID
	e.mustFail(t, gateway.AccessToken, label, map[string]any{"id": mine}, "NOT_FOUND")
	// Staff write verdicts only, and a verdict replaces a feed's label.
	e.mustFail(t, analyst.AccessToken, label, map[string]any{"id": own, "s": "CHARGEBACK"}, "FORBIDDEN")
	e.must(t, analyst.AccessToken, label, map[string]any{"id": own}, &out)
	if out.LabelTransaction.Source != "ANALYST" || out.LabelTransaction.Label != "LEGITIMATE" {
		t.Fatalf("analyst over a feed's label: got %+v, want ANALYST LEGITIMATE", out.LabelTransaction)
	}
}

// The report: a config {"webhook": "https://…?token=S1", "sasl": {"pass": "S2"}}
// came back in clear, to analysts too. Secrets are found by key at any depth
// and inside strings (URL passwords, query and fragment values, DSN pairs,
// bearer credentials); they are write-only: admins see "***", analysts no
// config at all, and "***" sent back keeps the stored secret — at its host only.
func TestDataSourceSecretsWriteOnly(t *testing.T) {
	e := newEnv(t)
	admin := e.user(t, "root", domain.RoleAdmin)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	config := map[string]any{
		"webhook": "https://hooks.example/in?token=S1",
		"sasl":    map[string]any{"mechanism": "PLAIN", "user": "feed", "pass": "S2"},
		"brokers": []any{map[string]any{"url": "kafka://b1:9092", "API_KEY": "S3"}},
		"notify":  "post to https://api.example/v1/hook?sig=S4&sv=2024#access_token=S5 on failure",
		"db":      "host=ledger user=etl password=S6 sslmode=require",
		"replica": "postgres://ro:S7@replica:5432/ledger",
		"headers": map[string]any{"X-Trace": "on", "Proxy": "Bearer S8"},
	}
	secrets := []string{"S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8"}
	var created struct {
		CreateDataSource struct {
			ID     string
			Config map[string]any
		}
	}
	e.must(t, admin.AccessToken, `mutation($c: JSON) { createDataSource(input: {name: "ledger", kind: STREAM, config: $c}) { id config } }`,
		map[string]any{"c": config}, &created)
	id := created.CreateDataSource.ID

	reads := map[string]gqlResponse{
		"createDataSource/ADMIN": {Data: mustJSON(t, created)},
		"dataSource/ADMIN":       e.post(t, admin.AccessToken, `query($id: ID!) { dataSource(id: $id) { config } }`, map[string]any{"id": id}),
		"dataSources/ADMIN":      e.post(t, admin.AccessToken, `{ dataSources { config } }`, nil),
		"dataSource/ANALYST":     e.post(t, analyst.AccessToken, `query($id: ID!) { dataSource(id: $id) { name config } }`, map[string]any{"id": id}),
		"auditLogs/ADMIN":        e.post(t, admin.AccessToken, `{ auditLogs(first: 100) { edges { node { details } } } }`, nil),
	}
	for name, res := range reads {
		for _, s := range secrets {
			if strings.Contains(string(res.Data), s) {
				t.Errorf("%s shows the secret %s: %s", name, s, res.Data)
			}
		}
	}
	if !strings.Contains(string(reads["dataSource/ANALYST"].Data), `"config":{}`) {
		t.Errorf("analysts see no config: got %s", reads["dataSource/ANALYST"].Data)
	}
	shown := created.CreateDataSource.Config
	if shown["sasl"].(map[string]any)["user"] != "feed" || shown["replica"] != "postgres://ro:***@replica:5432/ledger" {
		t.Errorf("admins see the config's shape, secrets hidden: got %v", shown)
	}

	// Sending back what was shown, with an edit, keeps every secret.
	shown["headers"].(map[string]any)["X-Trace"] = "off"
	e.must(t, admin.AccessToken, `mutation($id: ID!, $c: JSON) { updateDataSource(id: $id, input: {config: $c}) { id } }`,
		map[string]any{"id": id, "c": shown}, nil)
	var stored string
	if err := e.db.NewRaw(`SELECT config::text FROM data_sources WHERE id = ?`, id).Scan(context.Background(), &stored); err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if !strings.Contains(stored, s) {
			t.Errorf("sending back the shown config lost the secret %s: %s", s, stored)
		}
	}
	if !strings.Contains(stored, `"X-Trace": "off"`) {
		t.Errorf("the edit was not stored: %s", stored)
	}
	// A URL's "***" never carries its secret to another host, or where none was.
	for _, c := range []map[string]any{
		{"replica": "postgres://ro:***@evil.example:5432/ledger"},
		{"notify": "post to https://evil.example/v1/hook?sig=***"},
		{"sasl": map[string]any{"pass": "***"}, "extra": map[string]any{"token": "***"}},
	} {
		e.mustFail(t, admin.AccessToken, `mutation($id: ID!, $c: JSON) { updateDataSource(id: $id, input: {config: $c}) { id } }`,
			map[string]any{"id": id, "c": c}, "BAD_USER_INPUT")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// The report: backtestRule with a costly condition burns 10 s per request with
// no concurrency cap. Backtests (2 places) and training (1) take places shared
// by every instance; a caller finding them taken gets RATE_LIMITED with
// retryAfter, and a replay stops at its time budget with truncated set.
func TestBacktestConcurrencyCap(t *testing.T) {
	e := newEnv(t)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	admin := e.user(t, "root", domain.RoleAdmin)
	alice := e.user(t, "alice", domain.RoleUser)
	for range 30 {
		e.submit(t, admin.AccessToken, map[string]any{"userId": alice.User.ID, "amount": 20})
	}
	ctx := context.Background()
	replay := `query($c: String!, $from: Time!, $to: Time!) { backtestRule(input: {condition: $c, from: $from, to: $to}) { evaluated hits truncated } }`
	vars := func(cond string) map[string]any {
		return map[string]any{"c": cond, "from": e.clock.Now().Add(-time.Hour), "to": e.clock.Now().Add(time.Hour)}
	}
	const costly = `len(repeat("a", 100000)) > 0`

	// Every place taken (as by jobs on other instances): refused at once, with when to retry.
	var held []func()
	for range backtestSlots {
		release, ok, err := store.TryJobSlot(ctx, e.db, store.JobBacktest, backtestSlots)
		if err != nil || !ok {
			t.Fatalf("taking a backtest place: ok %v, err %v", ok, err)
		}
		held = append(held, release)
	}
	res := e.mustFail(t, analyst.AccessToken, replay, vars(costly), "RATE_LIMITED")
	if res.Errors[0].Extensions["retryAfter"] == nil {
		t.Errorf("RATE_LIMITED without retryAfter: %+v", res.Errors[0])
	}
	release, ok, err := store.TryJobSlot(ctx, e.db, store.JobTraining, 1)
	if err != nil || !ok {
		t.Fatalf("taking the training place: ok %v, err %v", ok, err)
	}
	e.mustFail(t, admin.AccessToken, `mutation { trainModel { id } }`, nil, "RATE_LIMITED")
	release()
	held[0]() // one place frees: one backtest runs
	var out struct {
		BacktestRule struct {
			Evaluated, Hits int
			Truncated       bool
		}
	}
	e.must(t, analyst.AccessToken, replay, vars(costly), &out)
	if out.BacktestRule.Evaluated != 30 || out.BacktestRule.Hits != 30 || out.BacktestRule.Truncated {
		t.Fatalf("backtest with a free place: got %+v, want 30 evaluated and hit", out.BacktestRule)
	}
	for _, r := range held[1:] {
		r()
	}

	// A burst: each answer is a result or RATE_LIMITED, never an error, and the places come back.
	var wg sync.WaitGroup
	codes := make(chan string, 8)
	for range 8 {
		wg.Go(func() { codes <- e.post(t, analyst.AccessToken, replay, vars(costly)).code() })
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != "" && c != "RATE_LIMITED" {
			t.Errorf("burst answer: got %q, want a result or RATE_LIMITED", c)
		}
	}
	for range backtestSlots {
		release, ok, err := store.TryJobSlot(ctx, e.db, store.JobBacktest, backtestSlots)
		if err != nil || !ok {
			t.Fatalf("after the burst a place is still taken: ok %v, err %v", ok, err)
		}
		defer release()
	}
}

// The report: three throwaway accounts paying with another customer's device
// fingerprint made that customer's next payment MEDIUM (device ring). Other
// users count toward a device's user counts only if they came to it no later
// than a day after the user being scored did — never before their account
// existed, however they backdate — so newcomers flag themselves, not the
// established customer, while a ring's accounts, arriving together, still
// count each other.
func TestDeviceRingResistsFreshAccounts(t *testing.T) {
	e := newEnv(t)
	admin := e.user(t, "root", domain.RoleAdmin) // submits, and reads the feature vector
	victim := e.user(t, "vic", domain.RoleUser)
	if _, err := e.db.ExecContext(context.Background(), `UPDATE users SET created_at = now() - interval '90 days' WHERE id = ?`, victim.User.ID); err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	pay := func(user string, at time.Time, device string) submitted {
		t.Helper()
		return e.submit(t, admin.AccessToken, map[string]any{"userId": user, "amount": 100, "deviceId": device, "occurredAt": at.Format(time.RFC3339Nano)})
	}
	for _, ago := range []time.Duration{20 * 24 * time.Hour, 6 * 24 * time.Hour, 2 * time.Hour} {
		pay(victim.User.ID, now.Add(-ago), "fp-vic")
	}

	// Three fresh accounts borrow the fingerprint: by paying now, by paying
	// backdated to before the victim's first use, and by logging in with it.
	fresh := func(name string) session { return e.user(t, name, domain.RoleUser) }
	pay(fresh("throwaway1").User.ID, now.Add(-30*time.Minute), "fp-vic")
	pay(fresh("throwaway2").User.ID, now.Add(-25*24*time.Hour), "fp-vic")
	pay(fresh("throwaway2b").User.ID, now.Add(-20*time.Minute), "fp-vic")
	fresh("throwaway3")
	e.must(t, "", loginMutation, map[string]any{"in": map[string]any{"username": "throwaway3", "password": "correct horse battery", "deviceId": "fp-vic"}}, nil)
	pay(fresh("throwaway4").User.ID, now.Add(-10*time.Minute), "fp-vic")

	res := pay(victim.User.ID, now, "fp-vic")
	if got := res.feature("device.userCount7d"); got != 1.0 {
		t.Errorf("victim: device.userCount7d got %v, want 1 (newcomers don't count)", got)
	}
	if got := res.feature("device.userCount24h"); got != 1.0 {
		t.Errorf("victim: device.userCount24h got %v, want 1", got)
	}
	if got := res.feature("device.userCount"); got != 1.0 {
		t.Errorf("victim: device.userCount got %v, want 1", got)
	}
	if res.Detection.RiskLevel != "LOW" || slices.Contains(res.ruleNames(), "device ring") {
		t.Fatalf("victim's payment: got %s %v, want LOW without device ring", res.Detection.RiskLevel, res.ruleNames())
	}

	// The newcomers are the ones flagged: the next one sees everyone before it.
	next := pay(fresh("throwaway5").User.ID, now.Add(time.Minute), "fp-vic")
	if got := next.feature("device.userCount7d"); got != 5.0 {
		t.Errorf("newcomer: device.userCount7d got %v, want 5 (the victim, 3 newcomers paying in 7 days, itself)", got)
	}
	if !slices.Contains(next.ruleNames(), "device ring") {
		t.Errorf("newcomer: rules %v, want device ring", next.ruleNames())
	}

	// A ring opened together counts each other, whoever pays.
	var ring []string
	for i := range 4 {
		ring = append(ring, fresh(fmt.Sprintf("ring%d", i)).User.ID)
		pay(ring[i], now.Add(time.Duration(i-10)*time.Minute), "fp-farm")
	}
	first := pay(ring[0], now, "fp-farm")
	if got := first.feature("device.userCount7d"); got != 4.0 || !slices.Contains(first.ruleNames(), "device ring") {
		t.Errorf("the ring's first account paying again: userCount7d %v, rules %v; want 4 and device ring", got, first.ruleNames())
	}
}
