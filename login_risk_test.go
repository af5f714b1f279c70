package main

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// Login risk (issue 14): logins are scored by the LOGIN rules, a MEDIUM/HIGH
// login opens a LOGIN risk event and alert, and recordLogin feeds logins in
// event time.

var (
	shanghai = map[string]any{"latitude": 31.2304, "longitude": 121.4737, "country": "CN", "city": "Shanghai"}
	newYork  = map[string]any{"latitude": 40.7128, "longitude": -74.0060, "country": "US", "city": "New York"}
)

const recordLoginMutation = `mutation($in: RecordLoginInput!) { recordLogin(input: $in) {
	id success createdAt location { city }
	detection { riskScore riskLevel matchedRules { name score type } } } }`

type recordedLogin struct {
	ID        string
	Success   bool
	CreatedAt time.Time
	Location  *struct{ City string }
	Detection *loginDetection
}

type loginDetection struct {
	RiskScore    float64
	RiskLevel    string
	MatchedRules []struct {
		Name, Type string
		Score      int
	}
}

func (d *loginDetection) names() []string {
	var out []string
	for _, m := range d.MatchedRules {
		out = append(out, m.Name)
	}
	return out
}

func (e *testEnv) recordLogin(t *testing.T, token string, in map[string]any) recordedLogin {
	t.Helper()
	var out struct{ RecordLogin recordedLogin }
	e.must(t, token, recordLoginMutation, map[string]any{"in": in}, &out)
	return out.RecordLogin
}

const (
	travelRule        = "login from a different place within a short time"
	unknownDeviceRule = "unknown device at login"
)

// A login from New York 30 seconds after one from Shanghai (recorded by the
// gateway; the New York one an interactive login the gateway makes for the
// customer, stating where they are) opens a LOGIN risk event and raises an alert that reaches an
// analyst's alertRaised subscription; the interactive login itself still succeeds.
func TestLoginFromNewYorkAfterShanghaiOpensLoginEventAndAlert(t *testing.T) {
	e := newEnv(t)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	gateway := e.user(t, "gateway", domain.RoleService)
	traveler := e.user(t, "traveler", domain.RoleUser)

	conn := e.subscribe(t, analyst.AccessToken, `subscription { alertRaised(minLevel: MEDIUM) {
		id level title transaction { id } event { id kind loginLog { id location { city } } } } }`)
	e.waitSubscribers(t, 1)

	shanghaiAt := e.clock.Now().Add(-30 * time.Second).UTC().Truncate(time.Millisecond)
	first := e.recordLogin(t, gateway.AccessToken, map[string]any{"userId": traveler.User.ID, "occurredAt": shanghaiAt,
		"location": shanghai, "deviceId": "phone-1", "ipAddress": "203.0.113.7"})
	if first.Detection == nil || first.Detection.RiskLevel != "LOW" || !slices.Equal(first.Detection.names(), []string{unknownDeviceRule}) {
		t.Fatalf("Shanghai login: got detection %+v, want LOW with only %q", first.Detection, unknownDeviceRule)
	}
	if !first.CreatedAt.Equal(shanghaiAt) {
		t.Fatalf("Shanghai login: createdAt %v, want occurredAt %v", first.CreatedAt, shanghaiAt)
	}

	var login struct {
		Login struct{ AccessToken string }
	}
	// The gateway logs the customer in on their behalf: only a service states a login's location.
	e.must(t, gateway.AccessToken, `mutation($in: LoginInput!) { login(input: $in) { accessToken } }`, map[string]any{"in": map[string]any{
		"username": "traveler", "password": "correct horse battery", "deviceId": "phone-1", "location": newYork}}, &login)
	if login.Login.AccessToken == "" {
		t.Fatal("New York login: no access token")
	}

	var logs struct {
		Me struct {
			LoginLogs []struct {
				ID        string
				Location  *struct{ City string }
				Detection *loginDetection
			}
		}
	}
	e.must(t, login.Login.AccessToken, `{ me { loginLogs(first: 1) { id location { city }
		detection { riskScore riskLevel matchedRules { name score type } } } } }`, nil, &logs)
	nyc := logs.Me.LoginLogs[0]
	if nyc.Location == nil || nyc.Location.City != "New York" || nyc.Detection == nil {
		t.Fatalf("New York login log: got %+v", nyc)
	}
	// The device is known now (the recorded login used it), so only the travel rule fires.
	if d := nyc.Detection; d.RiskScore != 40 || d.RiskLevel != "MEDIUM" || !slices.Equal(d.names(), []string{travelRule}) || d.MatchedRules[0].Type != "GEO" {
		t.Fatalf("New York login: got detection %+v, want 40 MEDIUM with only %q", d, travelRule)
	}

	var events struct {
		RiskEvents struct {
			Edges []struct {
				Node struct {
					ID, Kind, Level, Status, Type string
					Transaction                   *struct{ ID string }
					LoginLog                      *struct{ ID string }
					Alerts                        []struct{ ID, Level string }
					Timeline                      []struct{ Kind, Action string }
					Suggestions                   []struct{ Action string }
				}
			}
		}
	}
	e.must(t, analyst.AccessToken, `query($u: ID!) { riskEvents(filter: {userId: $u}) { edges { node {
		id kind level status type transaction { id } loginLog { id } alerts { id level } timeline { kind action } suggestions { action } } } } }`,
		map[string]any{"u": traveler.User.ID}, &events)
	if len(events.RiskEvents.Edges) != 1 {
		t.Fatalf("risk events: got %d, want 1 (the New York login's)", len(events.RiskEvents.Edges))
	}
	ev := events.RiskEvents.Edges[0].Node
	if ev.Kind != "LOGIN" || ev.Level != "MEDIUM" || ev.Status != "OPEN" || ev.Type != "GEO" || ev.Transaction != nil ||
		ev.LoginLog == nil || ev.LoginLog.ID != nyc.ID || len(ev.Alerts) != 1 || ev.Alerts[0].Level != "MEDIUM" {
		t.Fatalf("risk event: got %+v, want an OPEN MEDIUM LOGIN event on login %s with one alert", ev, nyc.ID)
	}
	// Suggestions read the login's device and rules where a payment's event reads its transaction's.
	if len(ev.Suggestions) == 0 {
		t.Fatal("suggestions: got none for the LOGIN event")
	}
	if len(ev.Timeline) != 2 || ev.Timeline[0].Action != "DETECTED" || ev.Timeline[1].Action != "ALERT_RAISED" {
		t.Fatalf("timeline: got %+v, want DETECTED then ALERT_RAISED", ev.Timeline)
	}

	// Listed under every order, an amount order included (a LOGIN event's amount is 0).
	for _, field := range []string{"CREATED_AT", "SCORE", "AMOUNT"} {
		var listed struct {
			RiskEvents struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID string } }
			}
		}
		e.must(t, analyst.AccessToken, `query($u: ID!, $f: OrderField!) { riskEvents(filter: {userId: $u}, orderBy: {field: $f}) {
			totalCount edges { node { id } } } }`, map[string]any{"u": traveler.User.ID, "f": field}, &listed)
		if listed.RiskEvents.TotalCount != 1 || len(listed.RiskEvents.Edges) != 1 || listed.RiskEvents.Edges[0].Node.ID != ev.ID {
			t.Fatalf("riskEvents by %s: got %+v, want the LOGIN event", field, listed.RiskEvents)
		}
	}

	msg := readWS(t, conn)
	var got struct {
		Data struct {
			AlertRaised struct {
				ID, Level   string
				Transaction *struct{ ID string }
				Event       struct {
					ID, Kind string
					LoginLog *struct {
						ID       string
						Location struct{ City string }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(msg.Payload, &got); err != nil {
		t.Fatal(err)
	}
	a := got.Data.AlertRaised
	if msg.Type != "next" || a.ID != ev.Alerts[0].ID || a.Level != "MEDIUM" || a.Transaction != nil || a.Event.ID != ev.ID ||
		a.Event.Kind != "LOGIN" || a.Event.LoginLog == nil || a.Event.LoginLog.Location.City != "New York" {
		t.Fatalf("alertRaised: got %s %+v, want the LOGIN event's alert %s", msg.Type, a, ev.Alerts[0].ID)
	}

	// An analyst's verdict settles a LOGIN event like any other: there is no
	// transaction to settle or label, and its alert is resolved.
	var handled struct {
		HandleRiskEvent struct {
			Status string
			Alerts []struct{ Status string }
		}
	}
	e.must(t, analyst.AccessToken, `mutation($id: ID!) { handleRiskEvent(id: $id, input: {action: START}) { status } }`, map[string]any{"id": ev.ID}, nil)
	e.must(t, analyst.AccessToken, `mutation($id: ID!) { handleRiskEvent(id: $id, input: {action: CONFIRM_FRAUD, note: "not them", blacklistDevice: true}) {
		status alerts { status } } }`, map[string]any{"id": ev.ID}, &handled)
	if handled.HandleRiskEvent.Status != "CONFIRMED_FRAUD" || handled.HandleRiskEvent.Alerts[0].Status != "RESOLVED" {
		t.Fatalf("verdict: got %+v, want CONFIRMED_FRAUD with its alert RESOLVED", handled.HandleRiskEvent)
	}
	// The login's device is the one blacklisted.
	if n := e.count(t, "SELECT count(*) FROM devices WHERE fingerprint = 'phone-1' AND status = 'BLACKLISTED'"); n != 1 {
		t.Fatalf("phone-1 blacklisted: got %d, want 1", n)
	}
}

// A failed login is not scored: it answers exactly as before, opens nothing
// and its log entry carries no detection.
func TestFailedLoginIsNotScored(t *testing.T) {
	e := newEnv(t)
	gateway := e.user(t, "gateway", domain.RoleService)
	traveler := e.user(t, "traveler", domain.RoleUser)
	e.recordLogin(t, gateway.AccessToken, map[string]any{"userId": traveler.User.ID, "location": shanghai})
	res := e.mustFail(t, "", loginMutation, map[string]any{"in": map[string]any{
		"username": "traveler", "password": "wrong password!", "location": newYork, "deviceId": "stolen"}}, "UNAUTHENTICATED")
	if msg := res.Errors[0].Message; msg != "invalid username or password, or the account is not active" {
		t.Fatalf("failed login: got %q", msg)
	}
	if n := e.count(t, "SELECT count(*) FROM risk_events WHERE user_id = ?", traveler.User.ID); n != 0 {
		t.Fatalf("risk events after a failed login: got %d, want 0", n)
	}
	if n := e.count(t, "SELECT count(*) FROM login_logs WHERE user_id = ? AND NOT success AND risk_level IS NULL", traveler.User.ID); n != 1 {
		t.Fatalf("failed login logs without a detection: got %d, want 1", n)
	}
}

// An unknown device at login scores (+20, LOW: no event alone); once the
// user has used it, the next login from it doesn't.
func TestUnknownDeviceAtLoginScores(t *testing.T) {
	e := newEnv(t)
	gateway := e.user(t, "gateway", domain.RoleService)
	alice := e.user(t, "alice", domain.RoleUser)
	first := e.recordLogin(t, gateway.AccessToken, map[string]any{"userId": alice.User.ID, "deviceId": "laptop-7"})
	if d := first.Detection; d == nil || d.RiskScore != 20 || d.RiskLevel != "LOW" || !slices.Equal(d.names(), []string{unknownDeviceRule}) ||
		d.MatchedRules[0].Score != 20 || d.MatchedRules[0].Type != "DEVICE" {
		t.Fatalf("first login on laptop-7: got %+v, want 20 LOW by %q", first.Detection, unknownDeviceRule)
	}
	again := e.recordLogin(t, gateway.AccessToken, map[string]any{"userId": alice.User.ID, "deviceId": "laptop-7"})
	if d := again.Detection; d == nil || d.RiskScore != 0 || len(d.MatchedRules) != 0 {
		t.Fatalf("second login on laptop-7: got %+v, want 0 with no rule", again.Detection)
	}
	// A device someone else used is still unknown to this user.
	bob := e.user(t, "bob", domain.RoleUser)
	other := e.recordLogin(t, gateway.AccessToken, map[string]any{"userId": bob.User.ID, "deviceId": "laptop-7"})
	if d := other.Detection; d == nil || !slices.Equal(d.names(), []string{unknownDeviceRule}) {
		t.Fatalf("bob on alice's laptop-7: got %+v, want %q", other.Detection, unknownDeviceRule)
	}
	if n := e.count(t, "SELECT count(*) FROM risk_events"); n != 0 {
		t.Fatalf("risk events: got %d, want 0 (an unknown device alone is LOW)", n)
	}
}

// A backfilled recordLogin abroad becomes the previous location of the
// next payment in event time: a payment from Shanghai 10 minutes after a
// New York login fires impossible travel. A login backfilled before the
// user's last location doesn't move it back.
func TestRecordedLoginAbroadMakesNextPaymentImpossibleTravel(t *testing.T) {
	e := newEnv(t)
	gateway := e.user(t, "gateway", domain.RoleService)
	alice := e.user(t, "alice", domain.RoleUser)
	now := e.clock.Now().UTC().Truncate(time.Second)

	home := e.submit(t, gateway.AccessToken, map[string]any{"userId": alice.User.ID, "amount": 20, "location": shanghai,
		"occurredAt": now.Add(-3 * time.Hour)})
	if slices.Contains(home.ruleNames(), "impossible travel") {
		t.Fatalf("first payment: got %v, want no impossible travel", home.ruleNames())
	}
	e.recordLogin(t, gateway.AccessToken, map[string]any{"userId": alice.User.ID, "location": newYork,
		"occurredAt": now.Add(-10 * time.Minute)})
	// An older login (before the Shanghai payment) must not become the last location.
	e.recordLogin(t, gateway.AccessToken, map[string]any{"userId": alice.User.ID,
		"location":   map[string]any{"latitude": 48.8566, "longitude": 2.3522, "country": "FR", "city": "Paris"},
		"occurredAt": now.Add(-5 * time.Hour)})

	var me struct {
		User struct{ LastLocation struct{ City string } }
	}
	e.must(t, alice.AccessToken, `query($id: ID!) { user(id: $id) { lastLocation { city } } }`, map[string]any{"id": alice.User.ID}, &me)
	if me.User.LastLocation.City != "New York" {
		t.Fatalf("last location: got %q, want New York (the newest in event time)", me.User.LastLocation.City)
	}

	admin := e.user(t, "root", domain.RoleAdmin) // sees the feature vector, which a payment system doesn't
	pay := e.submit(t, admin.AccessToken, map[string]any{"userId": alice.User.ID, "amount": 20, "location": shanghai, "occurredAt": now})
	if !slices.Contains(pay.ruleNames(), "impossible travel") {
		t.Fatalf("payment 10 minutes after the New York login: got rules %v, want impossible travel", pay.ruleNames())
	}
	geo, _ := pay.Detection.Features["geo"].(map[string]any)
	if geo["prevCountry"] != "US" {
		t.Fatalf("previous location: got %v, want the recorded US login", geo["prevCountry"])
	}
}

// recordLogin's input is checked: a future occurredAt, a bad address or
// location answer BAD_USER_INPUT; a staff account as the subject answers as
// a missing user.
func TestRecordLoginInput(t *testing.T) {
	e := newEnv(t)
	gateway := e.user(t, "gateway", domain.RoleService)
	alice := e.user(t, "alice", domain.RoleUser)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	for _, tt := range []struct {
		name string
		in   map[string]any
		code string
	}{
		{"future", map[string]any{"userId": alice.User.ID, "occurredAt": e.clock.Now().Add(time.Hour)}, "BAD_USER_INPUT"},
		{"too old", map[string]any{"userId": alice.User.ID, "occurredAt": e.clock.Now().Add(-31 * 24 * time.Hour)}, "BAD_USER_INPUT"},
		{"bad ip", map[string]any{"userId": alice.User.ID, "ipAddress": "not an address"}, "BAD_USER_INPUT"},
		{"bad latitude", map[string]any{"userId": alice.User.ID, "location": map[string]any{"latitude": 91, "longitude": 0}}, "BAD_USER_INPUT"},
		{"staff subject", map[string]any{"userId": analyst.User.ID}, "NOT_FOUND"},
		{"missing user", map[string]any{"userId": "999999"}, "NOT_FOUND"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.mustFail(t, gateway.AccessToken, recordLoginMutation, map[string]any{"in": tt.in}, tt.code)
		})
	}
	failed := e.recordLogin(t, gateway.AccessToken, map[string]any{"userId": alice.User.ID, "success": false, "location": newYork})
	if failed.Success || failed.Detection != nil {
		t.Fatalf("recorded failure: got %+v, want success false and no detection", failed)
	}
}

// LOGIN rules are rules like any other: listed with their scope, and a rule
// created with scope LOGIN scores logins, not payments.
func TestLoginScopedRule(t *testing.T) {
	e := newEnv(t)
	admin := e.user(t, "root", domain.RoleAdmin)
	gateway := e.user(t, "gateway", domain.RoleService)
	alice := e.user(t, "alice", domain.RoleUser)
	var rules struct {
		Rules []struct{ Name, Scope string }
	}
	e.must(t, admin.AccessToken, `{ rules { name scope } }`, nil, &rules)
	scopes := map[string]string{}
	for _, r := range rules.Rules {
		scopes[r.Name] = r.Scope
	}
	if scopes[travelRule] != "LOGIN" || scopes[unknownDeviceRule] != "LOGIN" || scopes["impossible travel"] != "TRANSACTION" {
		t.Fatalf("seeded scopes: got %v", scopes)
	}
	var created struct {
		UpsertRule struct{ ID, Scope string }
	}
	e.must(t, admin.AccessToken, `mutation { upsertRule(input: {name: "night login", condition: "hour >= 0", score: 45}) { id scope } }`, nil, &created)
	if created.UpsertRule.Scope != "TRANSACTION" {
		t.Fatalf("created rule scope: got %q, want TRANSACTION by default", created.UpsertRule.Scope)
	}
	// Moving it to LOGIN is a change like any other: a new version that keeps its scope.
	var moved struct {
		UpsertRule struct {
			Scope    string
			Version  int
			Versions []struct {
				Version int
				Scope   string
			}
		}
	}
	e.must(t, admin.AccessToken, `mutation($id: ID!) { upsertRule(input: {id: $id, name: "night login", condition: "hour >= 0", score: 45, scope: LOGIN}) {
		scope version versions { version scope } } }`, map[string]any{"id": created.UpsertRule.ID}, &moved)
	if m := moved.UpsertRule; m.Scope != "LOGIN" || m.Version != 2 || len(m.Versions) != 2 || m.Versions[0].Scope != "LOGIN" || m.Versions[1].Scope != "TRANSACTION" {
		t.Fatalf("moved rule: got %+v, want LOGIN at version 2 with version 1 TRANSACTION", m)
	}
	e.mustFail(t, admin.AccessToken, `mutation { upsertRule(input: {name: "bad", condition: "hour >= 0", score: 1, scope: SESSION}) { id } }`, nil, "GRAPHQL_VALIDATION_FAILED")
	l := e.recordLogin(t, gateway.AccessToken, map[string]any{"userId": alice.User.ID})
	if l.Detection == nil || !slices.Equal(l.Detection.names(), []string{"night login"}) || l.Detection.RiskLevel != "MEDIUM" {
		t.Fatalf("login: got %+v, want MEDIUM by night login", l.Detection)
	}
	pay := e.submit(t, gateway.AccessToken, map[string]any{"userId": alice.User.ID, "amount": 20})
	if slices.Contains(pay.ruleNames(), "night login") {
		t.Fatalf("payment: got %v, a LOGIN rule scored a payment", pay.ruleNames())
	}
}

// TestLoginRulesReadLists: a LOGIN rule reads the block lists like a payment
// rule, over the login's address.
func TestLoginRulesReadLists(t *testing.T) {
	e := newEnv(t)
	admin := e.user(t, "root", domain.RoleAdmin)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	gateway := e.user(t, "gateway", domain.RoleService)
	alice := e.user(t, "alice", domain.RoleUser)
	list := e.newList(t, analyst.AccessToken, "blocked_login_ips", "CIDR", "BLOCK")
	e.addEntries(t, analyst.AccessToken, list, map[string]any{"value": "198.51.100.0/24"})
	e.must(t, admin.AccessToken, `mutation { upsertRule(input: {name: "login from a blocked network", scope: LOGIN,
		condition: "inList(\"blocked_login_ips\", ipAddress)", score: 80}) { id } }`, nil, nil)
	for _, tt := range []struct {
		ip  string
		hit bool
	}{{"198.51.100.23", true}, {"198.51.101.23", false}} {
		l := e.recordLogin(t, gateway.AccessToken, map[string]any{"userId": alice.User.ID, "ipAddress": tt.ip})
		if hit := l.Detection != nil && slices.Contains(l.Detection.names(), "login from a blocked network"); hit != tt.hit {
			t.Errorf("login from %s: got %+v, want hit=%v", tt.ip, l.Detection, tt.hit)
		}
	}
}
