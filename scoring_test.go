package main

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/domain"
)

const submitMutation = `mutation($in: SubmitTransactionInput!) { submitTransaction(input: $in) {
	transaction { id userId amount currency status occurredAt deviceFingerprint }
	detection { riskScore riskLevel decision ruleScore mlScore reason latencyMicros features
		matchedRules { ruleId name version score type action reason } }
	riskEvent { id type level status title timeline { kind action } }
	alert { id level status title }
} }`

type submitted struct {
	Transaction struct {
		ID, UserID, Amount, Currency, Status, DeviceFingerprint string
		OccurredAt                                              time.Time
	}
	Detection struct {
		RiskScore     float64
		RiskLevel     string
		Decision      string
		RuleScore     int
		MLScore       *float64
		Reason        string
		LatencyMicros int
		Features      map[string]any
		MatchedRules  []struct {
			RuleID, Name, Type, Action, Reason string
			Version, Score                     int
		}
	}
	RiskEvent *struct {
		ID, Type, Level, Status, Title string
		Timeline                       []struct{ Kind, Action string }
	}
	Alert *struct{ ID, Level, Status, Title string }
}

func (s submitted) ruleNames() []string {
	var names []string
	for _, m := range s.Detection.MatchedRules {
		names = append(names, m.Name)
	}
	sort.Strings(names)
	return names
}

func (e *testEnv) submit(t *testing.T, token string, in map[string]any) submitted {
	t.Helper()
	var out struct{ SubmitTransaction submitted }
	e.must(t, token, submitMutation, map[string]any{"in": in}, &out)
	return out.SubmitTransaction
}

func (e *testEnv) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatalf("count %q: %v", query, err)
	}
	return n
}

func TestLargeAmountOpensMediumEventAndAlert(t *testing.T) {
	e := newEnv(t)
	alice := e.user(t, "alice", domain.RoleUser)
	res := e.submit(t, alice.AccessToken, map[string]any{"amount": "12000", "merchantId": "m-1"})

	d := res.Detection
	if d.RuleScore != 50 || d.RiskScore != 50 || d.RiskLevel != "MEDIUM" || d.Decision != "PASS" || d.MLScore != nil {
		t.Fatalf("detection: got rule %d risk %v %s %s ml %v; want 50, 50, MEDIUM, PASS, null", d.RuleScore, d.RiskScore, d.RiskLevel, d.Decision, d.MLScore)
	}
	if got := res.ruleNames(); len(got) != 1 || got[0] != "large amount" || d.MatchedRules[0].Version != 1 {
		t.Fatalf("matched rules: got %+v", d.MatchedRules)
	}
	if res.Transaction.Amount != "12000.00" || res.Transaction.Currency != "CNY" || res.Transaction.Status != "APPROVED" || res.Transaction.UserID != alice.User.ID {
		t.Fatalf("transaction: got %+v", res.Transaction)
	}
	if res.RiskEvent == nil || res.RiskEvent.Level != "MEDIUM" || res.RiskEvent.Status != "OPEN" || res.RiskEvent.Type != "AMOUNT" {
		t.Fatalf("risk event: got %+v", res.RiskEvent)
	}
	if len(res.RiskEvent.Timeline) != 0 {
		t.Fatalf("the customer sees the investigation timeline: %+v", res.RiskEvent.Timeline)
	}
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	var ev struct {
		RiskEvent struct {
			Timeline []struct{ Kind, Action string }
		}
	}
	e.must(t, analyst.AccessToken, `query($id: ID!) { riskEvent(id: $id) { timeline { kind action } } }`, map[string]any{"id": res.RiskEvent.ID}, &ev)
	if tl := ev.RiskEvent.Timeline; len(tl) != 2 || tl[0].Kind != "DETECTION" || tl[1].Kind != "ALERT" {
		t.Fatalf("timeline: got %+v", tl)
	}
	if res.Alert == nil || res.Alert.Level != "MEDIUM" || res.Alert.Status != "NEW" {
		t.Fatalf("alert: got %+v", res.Alert)
	}
	if d.Features["amount"] != 12000.0 || d.Features["user.txCount10m"] != nil && d.Features["user"] == nil {
		t.Fatalf("features snapshot: got %v", d.Features)
	}
	if n := e.count(t, "SELECT count(*) FROM risk_events"); n != 1 {
		t.Fatalf("risk events: got %d, want 1", n)
	}
	if n := e.count(t, "SELECT count(*) FROM alerts"); n != 1 {
		t.Fatalf("alerts: got %d, want 1", n)
	}
	if n := e.count(t, "SELECT count(*) FROM audit_logs WHERE action = 'transaction.scored'"); n != 1 {
		t.Fatalf("audit entries: got %d, want 1", n)
	}

	// A small one passes quietly: LOW, no event.
	small := e.submit(t, alice.AccessToken, map[string]any{"amount": 99.5})
	if small.Detection.RiskLevel != "LOW" || small.Detection.RuleScore != 0 || small.RiskEvent != nil || small.Alert != nil {
		t.Fatalf("small transaction: got %+v", small)
	}
}

func TestVelocityAndLargeAmountTogetherReject(t *testing.T) {
	e := newEnv(t)
	admin := e.user(t, "root", domain.RoleAdmin) // reads the feature vector and the case, which a payment system may not
	bob := e.user(t, "bob", domain.RoleVIP)
	for i := 1; i <= 4; i++ {
		res := e.submit(t, admin.AccessToken, map[string]any{"userId": bob.User.ID, "amount": 10})
		if res.Detection.RuleScore != 0 {
			t.Fatalf("transaction %d: rule score %d, want 0", i, res.Detection.RuleScore)
		}
	}
	fifth := e.submit(t, admin.AccessToken, map[string]any{"userId": bob.User.ID, "amount": 10})
	if got := fifth.ruleNames(); len(got) != 1 || got[0] != "high velocity" || fifth.Detection.RuleScore != 30 {
		t.Fatalf("5th transaction: got %v score %d, want high velocity 30", got, fifth.Detection.RuleScore)
	}
	if fifth.Detection.Features["user"].(map[string]any)["txCount10m"] != 5.0 {
		t.Fatalf("txCount10m: got %v, want 5", fifth.Detection.Features["user"])
	}
	both := e.submit(t, admin.AccessToken, map[string]any{"userId": bob.User.ID, "amount": "15000.00"})
	d := both.Detection
	if d.RuleScore != 80 || d.RiskLevel != "HIGH" || d.Decision != "REJECT" || both.Transaction.Status != "DECLINED" {
		t.Fatalf("velocity + large: got %d %s %s %s, want 80 HIGH REJECT DECLINED", d.RuleScore, d.RiskLevel, d.Decision, both.Transaction.Status)
	}
	if both.Alert == nil || both.Alert.Level != "HIGH" || both.RiskEvent.Type != "AMOUNT" {
		t.Fatalf("alert/event: got %+v %+v", both.Alert, both.RiskEvent)
	}

	// Ten minutes later the window has emptied.
	e.clock.Advance(11 * time.Minute)
	later := e.submit(t, admin.AccessToken, map[string]any{"userId": bob.User.ID, "amount": 10})
	if later.Detection.RuleScore != 0 {
		t.Fatalf("after the window: rule score %d, want 0", later.Detection.RuleScore)
	}
}

func TestDeviceRules(t *testing.T) {
	e := newEnv(t)
	alice := e.user(t, "alice", domain.RoleUser)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	first := e.submit(t, alice.AccessToken, map[string]any{"amount": 20, "deviceId": "fp-alice-1"})
	if first.Detection.Features["device"].(map[string]any)["new"] != true {
		t.Fatalf("first use of a device: device.new got %v, want true", first.Detection.Features["device"])
	}
	again := e.submit(t, alice.AccessToken, map[string]any{"amount": 20, "deviceId": "fp-alice-1"})
	if again.Detection.Features["device"].(map[string]any)["new"] != false {
		t.Fatalf("second use of a device: device.new got %v, want false", again.Detection.Features["device"])
	}

	var tx struct {
		Transaction struct{ Device struct{ ID string } }
	}
	e.must(t, analyst.AccessToken, `query($id: ID!) { transaction(id: $id) { device { id } } }`, map[string]any{"id": first.Transaction.ID}, &tx)
	setStatus := `mutation($id: ID!, $s: DeviceStatus!) { setDeviceStatus(id: $id, status: $s) { status } }`
	e.must(t, analyst.AccessToken, setStatus, map[string]any{"id": tx.Transaction.Device.ID, "s": "ABNORMAL"}, nil)
	abnormal := e.submit(t, alice.AccessToken, map[string]any{"amount": 20, "deviceId": "fp-alice-1"})
	if got := abnormal.ruleNames(); len(got) != 1 || got[0] != "abnormal device" || abnormal.Detection.RuleScore != 20 {
		t.Fatalf("abnormal device: got %v %d, want abnormal device +20", got, abnormal.Detection.RuleScore)
	}

	e.must(t, analyst.AccessToken, setStatus, map[string]any{"id": tx.Transaction.Device.ID, "s": "BLACKLISTED"}, nil)
	// Over SMALL_AMOUNT, so no card-testing rule joins in.
	blacklisted := e.submit(t, alice.AccessToken, map[string]any{"amount": 20, "deviceId": "fp-alice-1"})
	d := blacklisted.Detection
	if d.Decision != "REJECT" || d.RiskLevel != "HIGH" || blacklisted.Transaction.Status != "DECLINED" {
		t.Fatalf("blacklisted device: got %s %s, want REJECT HIGH", d.Decision, d.RiskLevel)
	}
	if got := blacklisted.ruleNames(); len(got) != 1 || got[0] != "blacklisted device" || d.MatchedRules[0].Action != "REJECT" {
		t.Fatalf("blacklisted device rules: got %+v", d.MatchedRules)
	}
}

func TestImpossibleTravel(t *testing.T) {
	e := newEnv(t)
	alice := e.user(t, "alice", domain.RoleUser)
	// The payment system reports alice's login in Shanghai: only a SERVICE
	// caller's stated location is taken as a fact (TestLoginClientFactsFromConnection).
	gateway := e.user(t, "gateway", domain.RoleService)
	e.must(t, gateway.AccessToken, loginMutation, map[string]any{"in": map[string]any{"username": "alice", "password": "correct horse battery",
		"location": map[string]any{"latitude": 31.2304, "longitude": 121.4737, "country": "CN", "city": "Shanghai"}}}, nil)

	e.clock.Advance(30 * time.Minute)
	token := e.refresh(t, alice.RefreshToken) // the 15-minute access token has expired
	res := e.submit(t, token.AccessToken, map[string]any{"amount": 100,
		"location": map[string]any{"latitude": 52.52, "longitude": 13.405, "country": "DE", "city": "Berlin"}})
	if got := res.ruleNames(); len(got) != 1 || got[0] != "impossible travel" || res.Detection.RuleScore != 40 {
		t.Fatalf("Shanghai→Berlin in 30 min: got %v %d, want impossible travel +40 (features %v)", got, res.Detection.RuleScore, res.Detection.Features["geo"])
	}
	geo := res.Detection.Features["geo"].(map[string]any)
	if km := geo["distanceKm"].(float64); km < 8000 || km > 8800 {
		t.Fatalf("distance: got %v km, want ≈8,400", km)
	}
	if res.Detection.RiskLevel != "MEDIUM" || res.RiskEvent.Type != "GEO" {
		t.Fatalf("level/type: got %s %s", res.Detection.RiskLevel, res.RiskEvent.Type)
	}

	// Twelve hours later the same trip is an ordinary flight.
	e.clock.Advance(12 * time.Hour)
	token = e.refresh(t, token.RefreshToken)
	home := e.submit(t, token.AccessToken, map[string]any{"amount": 100,
		"location": map[string]any{"latitude": 31.2304, "longitude": 121.4737, "city": "Shanghai"}})
	if home.Detection.RuleScore != 0 {
		t.Fatalf("flight home after 12h: got %v, want no rule", home.ruleNames())
	}
	var me struct {
		Me struct{ LastLocation struct{ City string } }
	}
	e.must(t, token.AccessToken, `{ me { lastLocation { city } } }`, nil, &me)
	if me.Me.LastLocation.City != "Shanghai" {
		t.Fatalf("last location: got %q, want Shanghai", me.Me.LastLocation.City)
	}
}

const upsertRule = `mutation($in: RuleInput!) { upsertRule(input: $in) { id name version condition expression enabled } }`

type ruleOut struct {
	ID, Name, Condition, Expression string
	Version                         int
	Enabled                         bool
}

func (e *testEnv) ruleID(t *testing.T, token, name string) string {
	t.Helper()
	var out struct{ Rules []struct{ ID, Name string } }
	e.must(t, token, `{ rules { id name } }`, nil, &out)
	for _, r := range out.Rules {
		if r.Name == name {
			return r.ID
		}
	}
	t.Fatalf("no rule %q in %+v", name, out.Rules)
	return ""
}

func TestRuleManagementChangesScoring(t *testing.T) {
	e := newEnv(t)
	admin := e.user(t, "root", domain.RoleAdmin)
	alice := e.user(t, "alice", domain.RoleUser)
	large := e.ruleID(t, admin.AccessToken, "large amount")

	// Disabled: no longer matches.
	e.must(t, admin.AccessToken, `mutation($id: ID!) { setRuleEnabled(id: $id, enabled: false) { enabled version } }`, map[string]any{"id": large}, nil)
	if res := e.submit(t, alice.AccessToken, map[string]any{"amount": 20000}); res.Detection.RuleScore != 0 {
		t.Fatalf("disabled rule matched: %v", res.ruleNames())
	}
	e.must(t, admin.AccessToken, `mutation($id: ID!) { setRuleEnabled(id: $id, enabled: true) { enabled } }`, map[string]any{"id": large}, nil)

	// Edited: a new version, and detections record which version matched.
	var edited struct{ UpsertRule ruleOut }
	e.must(t, admin.AccessToken, upsertRule, map[string]any{"in": map[string]any{"id": large, "name": "large amount",
		"condition": "amount >= 5000", "score": 55}}, &edited)
	if edited.UpsertRule.Version != 4 {
		t.Fatalf("version after disable, enable, edit: got %d, want 4", edited.UpsertRule.Version)
	}
	res := e.submit(t, alice.AccessToken, map[string]any{"amount": 6000})
	if len(res.Detection.MatchedRules) != 1 || res.Detection.MatchedRules[0].Version != 4 || res.Detection.RuleScore != 55 {
		t.Fatalf("edited rule: got %+v, want version 4 scoring 55", res.Detection.MatchedRules)
	}
	var versions struct {
		Rule struct {
			Versions []struct {
				Version   int
				Condition string
			}
		}
	}
	e.must(t, admin.AccessToken, `query($id: ID!) { rule(id: $id) { versions { version condition } } }`, map[string]any{"id": large}, &versions)
	if v := versions.Rule.Versions; len(v) != 4 || v[0].Condition != "amount >= 5000" || v[3].Condition != "amount >= 10000" {
		t.Fatalf("versions: got %+v", v)
	}

	// A seed-004 JSON condition works.
	var created struct{ UpsertRule ruleOut }
	e.must(t, admin.AccessToken, upsertRule, map[string]any{"in": map[string]any{"name": "json large",
		"condition": `{"amount": {"$gt": 100000}}`, "score": 10, "type": "AMOUNT"}}, &created)
	if created.UpsertRule.Expression != "amount > 100000" || created.UpsertRule.Version != 1 {
		t.Fatalf("JSON rule: got %+v", created.UpsertRule)
	}
	hit := e.submit(t, alice.AccessToken, map[string]any{"amount": 100000.01})
	if got := hit.ruleNames(); len(got) != 2 || got[0] != "json large" || hit.Detection.RuleScore != 65 {
		t.Fatalf("JSON rule hit: got %v %d, want [json large, large amount] 65", got, hit.Detection.RuleScore)
	}

	// A bad condition is refused with the compiler's message, and customers can't manage rules.
	bad := e.mustFail(t, admin.AccessToken, upsertRule, map[string]any{"in": map[string]any{"name": "broken", "condition": "amount >>= 3", "score": 5}}, "BAD_USER_INPUT")
	if bad.Errors[0].Extensions["field"] != "condition" {
		t.Fatalf("bad condition: got %+v", bad.Errors[0])
	}
	e.mustFail(t, alice.AccessToken, upsertRule, map[string]any{"in": map[string]any{"name": "x", "condition": "amount > 1", "score": 5}}, "FORBIDDEN")

	// Hit statistics count the matches, without a counter row in the payment path.
	var stats struct {
		Rule struct {
			HitCount  int
			LastHitAt *time.Time
		}
	}
	e.must(t, admin.AccessToken, `query($id: ID!) { rule(id: $id) { hitCount lastHitAt } }`, map[string]any{"id": large}, &stats)
	if stats.Rule.HitCount != 2 || stats.Rule.LastHitAt == nil {
		t.Fatalf("hit stats: got %+v, want 2 hits", stats.Rule)
	}
}

func TestConcurrentBurstIsCountedExactly(t *testing.T) {
	e := newEnv(t)
	admin := e.user(t, "root", domain.RoleAdmin) // reads the feature vector, which a payment system may not
	carol := e.user(t, "carol", domain.RoleUser)
	const n = 20
	results := make([]submitted, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = e.submit(t, admin.AccessToken, map[string]any{"userId": carol.User.ID, "amount": 5})
		}()
	}
	wg.Wait()
	hits := 0
	counts := map[float64]int{}
	for _, r := range results {
		if len(r.Detection.MatchedRules) == 1 && r.Detection.MatchedRules[0].Name == "high velocity" {
			hits++
		}
		counts[r.Detection.Features["user"].(map[string]any)["txCount10m"].(float64)]++
	}
	if hits != 16 {
		t.Fatalf("velocity hits: got %d, want 16 (the 5th to the 20th)", hits)
	}
	for k := 1; k <= n; k++ {
		if counts[float64(k)] != 1 {
			t.Fatalf("txCount10m values: got %v, want each of 1..20 once", counts)
		}
	}
}

func TestIdempotentSubmission(t *testing.T) {
	e := newEnv(t)
	gateway := e.user(t, "gateway", domain.RoleService)
	dan := e.user(t, "dan", domain.RoleUser)
	in := map[string]any{"userId": dan.User.ID, "amount": "12000.00", "idempotencyKey": "order-42"}
	ids := make(chan string, 10)
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids <- e.submit(t, gateway.AccessToken, in).Transaction.ID
		}()
	}
	wg.Wait()
	close(ids)
	first := ""
	for id := range ids {
		if first == "" {
			first = id
		}
		if id != first {
			t.Fatalf("replays returned different transactions: %s and %s", first, id)
		}
	}
	for table, want := range map[string]int{"transactions": 1, "detections": 1, "risk_events": 1, "alerts": 1} {
		if got := e.count(t, "SELECT count(*) FROM "+table); got != want {
			t.Errorf("%s rows: got %d, want %d", table, got, want)
		}
	}
	replay := e.submit(t, gateway.AccessToken, in)
	if replay.Detection.RuleScore != 50 || replay.Detection.RiskLevel != "MEDIUM" || replay.RiskEvent != nil || replay.Alert != nil {
		t.Fatalf("replay result: got %+v, want the MEDIUM detection and no case (a payment system never sees one)", replay)
	}
	e.mustFail(t, gateway.AccessToken, submitMutation, map[string]any{"in": map[string]any{"userId": dan.User.ID, "amount": "12000.01", "idempotencyKey": "order-42"}}, "CONFLICT")
	// Keys are per caller: the customer may use the same key for their own transaction.
	var own struct{ Login session }
	e.must(t, "", loginMutation, map[string]any{"in": map[string]any{"username": "dan", "password": "correct horse battery"}}, &own)
	if other := e.submit(t, own.Login.AccessToken, map[string]any{"amount": 1, "idempotencyKey": "order-42"}); other.Transaction.ID == first {
		t.Fatal("another caller's key returned the first caller's transaction")
	}
}

func TestSubmitValidation(t *testing.T) {
	e := newEnv(t)
	gateway := e.user(t, "gateway", domain.RoleService)
	alice := e.user(t, "alice", domain.RoleUser)
	bob := e.user(t, "bob", domain.RoleUser)
	now := e.clock.Now()
	tests := []struct {
		name  string
		in    map[string]any
		field string
	}{
		{"zero amount", map[string]any{"amount": 0}, "amount"},
		{"negative amount", map[string]any{"amount": "-5"}, "amount"},
		{"three decimals", map[string]any{"amount": "10.005"}, "amount"},
		{"too large", map[string]any{"amount": "1000000000000.01"}, "amount"},
		{"currency", map[string]any{"amount": 1, "currency": "XYZ"}, "currency"},
		{"ip", map[string]any{"amount": 1, "ipAddress": "999.1.1.1"}, "ipAddress"},
		{"latitude", map[string]any{"amount": 1, "location": map[string]any{"latitude": 100, "longitude": 0}}, "location.latitude"},
		{"too old", map[string]any{"amount": 1, "occurredAt": now.Add(-31 * 24 * time.Hour)}, "occurredAt"},
		{"future", map[string]any{"amount": 1, "occurredAt": now.Add(6 * time.Minute)}, "occurredAt"},
		{"long key", map[string]any{"amount": 1, "idempotencyKey": string(make([]byte, 256))}, "idempotencyKey"},
		{"merchant chars", map[string]any{"amount": 1, "merchantId": "m\x00; DROP"}, "merchantId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in["userId"] = alice.User.ID
			res := e.mustFail(t, gateway.AccessToken, submitMutation, map[string]any{"in": tt.in}, "BAD_USER_INPUT")
			if res.Errors[0].Extensions["field"] != tt.field {
				t.Fatalf("field: got %v, want %s (%s)", res.Errors[0].Extensions["field"], tt.field, res.Errors[0].Message)
			}
		})
	}
	e.mustFail(t, gateway.AccessToken, submitMutation, map[string]any{"in": map[string]any{"amount": "abc", "userId": alice.User.ID}}, "BAD_USER_INPUT")
	e.mustFail(t, gateway.AccessToken, submitMutation, map[string]any{"in": map[string]any{"amount": 1}}, "BAD_USER_INPUT")
	e.mustFail(t, alice.AccessToken, submitMutation, map[string]any{"in": map[string]any{"amount": 1, "userId": bob.User.ID}}, "NOT_FOUND")
	if n := e.count(t, "SELECT count(*) FROM transactions"); n != 0 {
		t.Fatalf("rejected input wrote %d transactions", n)
	}

	admin := e.user(t, "root", domain.RoleAdmin)
	e.must(t, admin.AccessToken, `mutation($id: ID!) { updateUserStatus(id: $id, status: FROZEN) { status } }`, map[string]any{"id": bob.User.ID}, nil)
	frozen := e.mustFail(t, gateway.AccessToken, submitMutation, map[string]any{"in": map[string]any{"amount": 1, "userId": bob.User.ID}}, "FORBIDDEN")
	if frozen.Errors[0].Message != "user account is frozen: transactions are rejected" {
		t.Fatalf("frozen message: got %q", frozen.Errors[0].Message)
	}
}

func TestBackfillUsesEventTime(t *testing.T) {
	e := newEnv(t)
	admin := e.user(t, "root", domain.RoleAdmin) // reads the feature vector, which a payment system may not
	erin := e.user(t, "erin", domain.RoleUser)
	base := e.clock.Now().Add(-48 * time.Hour).Truncate(time.Second)
	// Replayed out of order: the 5th in event time arrives first and sees nothing before it.
	late := e.submit(t, admin.AccessToken, map[string]any{"userId": erin.User.ID, "amount": 1, "occurredAt": base.Add(4 * time.Minute)})
	if late.Detection.Features["user"].(map[string]any)["txCount10m"] != 1.0 {
		t.Fatalf("first arrival: txCount10m %v, want 1", late.Detection.Features["user"])
	}
	for i := range 4 {
		e.submit(t, admin.AccessToken, map[string]any{"userId": erin.User.ID, "amount": 1, "occurredAt": base.Add(time.Duration(i) * time.Minute)})
	}
	fifth := e.submit(t, admin.AccessToken, map[string]any{"userId": erin.User.ID, "amount": 1, "occurredAt": base.Add(5 * time.Minute)})
	if got := fifth.ruleNames(); len(got) != 1 || got[0] != "high velocity" {
		t.Fatalf("6th in event time: got %v, want high velocity", got)
	}
	if !fifth.Transaction.OccurredAt.Equal(base.Add(5 * time.Minute)) {
		t.Fatalf("occurredAt: got %v", fifth.Transaction.OccurredAt)
	}
	// Live traffic two days later sees none of it in its 10-minute window.
	live := e.submit(t, admin.AccessToken, map[string]any{"userId": erin.User.ID, "amount": 1})
	u := live.Detection.Features["user"].(map[string]any)
	if u["txCount10m"] != 1.0 || u["txCount7d"] != 7.0 {
		t.Fatalf("live after backfill: got %v, want txCount10m 1 and txCount7d 7", u)
	}
}

func TestTransactionVisibility(t *testing.T) {
	e := newEnv(t)
	alice := e.user(t, "alice", domain.RoleUser)
	bob := e.user(t, "bob", domain.RoleUser)
	gateway := e.user(t, "gateway", domain.RoleService)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	mine := e.submit(t, alice.AccessToken, map[string]any{"amount": 12000})
	e.submit(t, bob.AccessToken, map[string]any{"amount": 15})

	q := `query($id: ID!) { transaction(id: $id) { id user { username } riskEvent { id } detection { decision } } }`
	e.mustFail(t, bob.AccessToken, q, map[string]any{"id": mine.Transaction.ID}, "NOT_FOUND")
	var viaService struct {
		Transaction struct {
			User      *struct{ Username string }
			RiskEvent *struct{ ID string }
			Detection struct{ Decision string }
		}
	}
	// A payment system reads what it submitted, never what the customer did elsewhere.
	e.mustFail(t, gateway.AccessToken, q, map[string]any{"id": mine.Transaction.ID}, "NOT_FOUND")
	viaGateway := e.submit(t, gateway.AccessToken, map[string]any{"userId": alice.User.ID, "amount": 12000})
	e.must(t, gateway.AccessToken, q, map[string]any{"id": viaGateway.Transaction.ID}, &viaService)
	if viaService.Transaction.User != nil || viaService.Transaction.RiskEvent != nil || viaService.Transaction.Detection.Decision != "PASS" {
		t.Fatalf("service view: got %+v, want the result without user or event", viaService.Transaction)
	}
	list := `{ transactions { totalCount } riskEvents { totalCount } alerts { totalCount } }`
	var counts struct {
		Transactions, RiskEvents, Alerts struct{ TotalCount int }
	}
	e.must(t, bob.AccessToken, list, nil, &counts)
	if counts.Transactions.TotalCount != 1 || counts.RiskEvents.TotalCount != 0 || counts.Alerts.TotalCount != 0 {
		t.Fatalf("bob's lists: got %+v, want 1/0/0", counts)
	}
	e.must(t, analyst.AccessToken, list, nil, &counts)
	if counts.Transactions.TotalCount != 3 || counts.RiskEvents.TotalCount != 2 || counts.Alerts.TotalCount != 2 {
		t.Fatalf("analyst's lists: got %+v, want 3/2/2", counts)
	}
	var gatewayList struct{ Transactions struct{ TotalCount int } }
	e.must(t, gateway.AccessToken, `{ transactions { totalCount } }`, nil, &gatewayList)
	if gatewayList.Transactions.TotalCount != 1 {
		t.Fatalf("gateway's list: got %d, want 1 (what it submitted)", gatewayList.Transactions.TotalCount)
	}
	e.mustFail(t, gateway.AccessToken, `{ riskEvents { totalCount } }`, nil, "FORBIDDEN")
	var filtered struct{ Transactions struct{ TotalCount int } }
	e.must(t, analyst.AccessToken, `{ transactions(filter: {riskLevel: MEDIUM, minAmount: "10000"}) { totalCount } }`, nil, &filtered)
	if filtered.Transactions.TotalCount != 2 {
		t.Fatalf("filtered: got %d, want 2", filtered.Transactions.TotalCount)
	}
	// Amount bounds are inclusive: 15 and the two of 12000.
	for _, tt := range []struct {
		min, max string
		want     int
	}{{"15", "12000", 3}, {"15.01", "12000", 2}, {"0.01", "11999.99", 1}, {"16", "11999.99", 0}} {
		e.must(t, analyst.AccessToken, `query($min: Decimal, $max: Decimal) { transactions(filter: {minAmount: $min, maxAmount: $max}) { totalCount } }`,
			map[string]any{"min": tt.min, "max": tt.max}, &filtered)
		if filtered.Transactions.TotalCount != tt.want {
			t.Errorf("amounts from %s to %s: got %d, want %d", tt.min, tt.max, filtered.Transactions.TotalCount, tt.want)
		}
	}
	var audit struct{ AuditLogs struct{ TotalCount int } }
	admin := e.user(t, "root", domain.RoleAdmin)
	e.must(t, admin.AccessToken, `{ auditLogs(filter: {action: "transaction.scored"}) { totalCount } }`, nil, &audit)
	if audit.AuditLogs.TotalCount != 3 {
		t.Fatalf("audit of decisions: got %d, want 3", audit.AuditLogs.TotalCount)
	}
}
