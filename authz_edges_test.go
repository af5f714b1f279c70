package main

// Authorization through graph edges: an object a caller may not look up at the
// root must not reach them through a related field or a mutation's payload
// either (resolvers/visibility.go: "Related objects reached through the graph
// obey the same visibility as top-level look-ups").

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// Data sources are ANALYST and ADMIN only (dataSource, dataSources), so
// Transaction.source is null for customers and payment systems.
func TestTransactionSourceIsStaffOnly(t *testing.T) {
	e := newEnv(t)
	alice := e.user(t, "alice", domain.RoleUser)
	gateway := e.user(t, "gateway", domain.RoleService)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	admin := e.user(t, "root", domain.RoleAdmin)
	var src struct{ CreateDataSource struct{ ID string } }
	e.must(t, admin.AccessToken, `mutation { createDataSource(input: {name: "core-banking", kind: DATABASE,
		config: {host: "10.0.0.5", user: "etl", password: "hunter2"}}) { id } }`, nil, &src)
	tx := e.submit(t, gateway.AccessToken, map[string]any{"userId": alice.User.ID, "amount": 20, "sourceId": src.CreateDataSource.ID})

	q := `query($id: ID!) { transaction(id: $id) { id source { id name config } } }`
	type view struct {
		Transaction struct {
			ID     string
			Source *struct{ ID string }
		}
	}
	var staff view
	e.must(t, analyst.AccessToken, q, map[string]any{"id": tx.Transaction.ID}, &staff)
	if staff.Transaction.Source == nil || staff.Transaction.Source.ID != src.CreateDataSource.ID {
		t.Fatalf("ANALYST: source got %+v, want %s", staff.Transaction.Source, src.CreateDataSource.ID)
	}
	for _, c := range []struct {
		name  string
		token string
	}{{"USER", alice.AccessToken}, {"SERVICE", gateway.AccessToken}} {
		var got view
		e.must(t, c.token, q, map[string]any{"id": tx.Transaction.ID}, &got)
		if got.Transaction.ID != tx.Transaction.ID || got.Transaction.Source != nil {
			t.Errorf("Transaction.source/%s: got %+v, want null (dataSource is ANALYST/ADMIN only)", c.name, got.Transaction.Source)
		}
	}
}

// A payment system reads the results of what it submitted without
// analyst-only content (DESIGN.md "Roles"), through every path: the submit
// answer, its idempotent replay, transaction(id) and transactions. Never the
// case (riskEvent, alert: the alert's message names the customer), analysts'
// notes, an analyst's verdict label, the feature vector (the customer's
// history from every channel), rules in trial or the customer's profile.
func TestServiceSeesNoAnalystContent(t *testing.T) {
	e := newEnv(t)
	alice := e.user(t, "alice", domain.RoleUser)
	gateway := e.user(t, "gateway", domain.RoleService)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	admin := e.user(t, "root", domain.RoleAdmin)
	e.must(t, admin.AccessToken, upsertRule, map[string]any{"in": map[string]any{"name": "trial rule", "condition": "amount >= 500", "score": 10, "shadow": true}}, nil)
	// The customer's history through another channel: merchant and place the gateway never saw.
	e.submit(t, alice.AccessToken, map[string]any{"amount": 30, "merchantId": "m-elsewhere", "location": map[string]any{"latitude": 48.85, "longitude": 2.35, "city": "Paris"}})

	const view = `fragment T on Transaction { id userId user { username } device { id } source { id } riskEvent { id title }
		label { label source note labelledBy { username } }
		detection { decision riskLevel reason features shadowRules { name } modelContributions { feature } matchedRules { name } } }`
	submit := view + ` mutation($in: SubmitTransactionInput!) { submitTransaction(input: $in) { transaction { ...T }
		detection { decision features shadowRules { name } }
		riskEvent { id title timeline { note } handlingRecords { note } suggestions { reason } alerts { message handleNote } user { username } }
		alert { id message handleNote user { username } } } }`
	in := map[string]any{"userId": alice.User.ID, "amount": 12000, "deviceId": "fp-alice", "idempotencyKey": "order-1"}
	first := e.post(t, gateway.AccessToken, submit, map[string]any{"in": in})
	if len(first.Errors) > 0 {
		t.Fatalf("submit: %+v", first.Errors)
	}
	var got struct {
		SubmitTransaction struct {
			Transaction struct{ ID string }
			Detection   struct {
				Decision    string
				Features    map[string]any
				ShadowRules []struct{ Name string }
			}
			RiskEvent, Alert *struct{ ID string }
		}
	}
	if err := json.Unmarshal(first.Data, &got); err != nil {
		t.Fatal(err)
	}
	sub := got.SubmitTransaction
	if sub.Detection.Decision != "PASS" || len(sub.Detection.Features) != 0 || len(sub.Detection.ShadowRules) != 0 || sub.RiskEvent != nil || sub.Alert != nil {
		t.Fatalf("submit answer to SERVICE: got %s, want the decision with no features, trial rules or case", first.Data)
	}

	// The case is worked: notes, a verdict with its label.
	event := e.eventOf(t, analyst.AccessToken, sub.Transaction.ID)
	const eventNote, alertNote, verdictNote = "suspect an insider at the gateway", "merchant under review", "card stolen in Lyon"
	e.handle(t, analyst.AccessToken, event, map[string]any{"action": "COMMENT", "note": eventNote})
	var alerts struct {
		RiskEvent struct{ Alerts []struct{ ID string } }
	}
	e.must(t, analyst.AccessToken, `query($id: ID!) { riskEvent(id: $id) { alerts { id } } }`, map[string]any{"id": event}, &alerts)
	e.must(t, analyst.AccessToken, `mutation($id: ID!, $note: String) { handleAlert(id: $id, input: {action: ACKNOWLEDGE, note: $note}) { id } }`,
		map[string]any{"id": alerts.RiskEvent.Alerts[0].ID, "note": alertNote}, nil)
	e.handle(t, analyst.AccessToken, event, map[string]any{"action": "START"})
	e.handle(t, analyst.AccessToken, event, map[string]any{"action": "CONFIRM_FRAUD", "note": verdictNote})

	answers := map[string]gqlResponse{
		"submitTransaction replay": e.post(t, gateway.AccessToken, submit, map[string]any{"in": in}),
		"transaction(id)":          e.post(t, gateway.AccessToken, view+` query($id: ID!) { transaction(id: $id) { ...T } }`, map[string]any{"id": sub.Transaction.ID}),
		"transactions":             e.post(t, gateway.AccessToken, view+` { transactions(first: 100) { totalCount edges { node { ...T } } } }`, nil),
		"me":                       e.post(t, gateway.AccessToken, view+` { me { transactions { edges { node { ...T } } } } }`, nil),
	}
	for name, res := range answers {
		if len(res.Errors) > 0 {
			t.Errorf("%s/SERVICE: errors %+v", name, res.Errors)
			continue
		}
		for _, secret := range []string{"alice", eventNote, alertNote, verdictNote, "m-elsewhere", "Paris", "trial rule", `"FRAUD"`, "ANALYST", "txCount"} {
			if strings.Contains(string(res.Data), secret) {
				t.Errorf("%s/SERVICE: the answer shows analyst-only %q: %s", name, secret, res.Data)
			}
		}
	}
	var list struct{ Transactions struct{ TotalCount int } }
	json.Unmarshal(answers["transactions"].Data, &list) //nolint:errcheck // checked above
	if list.Transactions.TotalCount != 1 {
		t.Errorf("transactions/SERVICE: got %d, want 1 (only what it submitted)", list.Transactions.TotalCount)
	}
	// Staff still see it all.
	staff := e.post(t, analyst.AccessToken, view+` query($id: ID!) { transaction(id: $id) { ...T } }`, map[string]any{"id": sub.Transaction.ID})
	for _, want := range []string{"alice", verdictNote, "trial rule", "txCount"} {
		if !strings.Contains(string(staff.Data), want) {
			t.Errorf("transaction(id)/ANALYST: %q missing from %s", want, staff.Data)
		}
	}
}

// eventOf reads, as staff, the risk event a transaction opened.
func (e *testEnv) eventOf(t *testing.T, staffToken, txID string) string {
	t.Helper()
	var out struct {
		Transaction struct{ RiskEvent *struct{ ID string } }
	}
	e.must(t, staffToken, `query($id: ID!) { transaction(id: $id) { riskEvent { id } } }`, map[string]any{"id": txID}, &out)
	if out.Transaction.RiskEvent == nil {
		t.Fatalf("transaction %s opened no risk event", txID)
	}
	return out.Transaction.RiskEvent.ID
}
