package main

// Authorization through graph edges: an object a caller may not look up at the
// root must not reach them through a related field or a mutation's payload
// either (resolvers/visibility.go: "Related objects reached through the graph
// obey the same visibility as top-level look-ups").

import (
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

// A payment system reads the results of what it submits, never the
// investigation: riskEvent and alert are FORBIDDEN to it and
// Transaction.riskEvent is null for it. Replaying a submission (same
// idempotencyKey) must not become a way to read analysts' notes either.
func TestServiceNeverReadsInvestigationNotes(t *testing.T) {
	e := newEnv(t)
	alice := e.user(t, "alice", domain.RoleUser)
	gateway := e.user(t, "gateway", domain.RoleService)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	in := map[string]any{"userId": alice.User.ID, "amount": 12000, "idempotencyKey": "order-1"}
	first := e.submit(t, gateway.AccessToken, in)
	if first.RiskEvent == nil || first.Alert == nil {
		t.Fatalf("a 12000 transaction: got event %v alert %v, want both", first.RiskEvent, first.Alert)
	}
	const eventNote, alertNote = "suspect an insider at the gateway", "merchant under review"
	e.handle(t, analyst.AccessToken, first.RiskEvent.ID, map[string]any{"action": "COMMENT", "note": eventNote})
	e.must(t, analyst.AccessToken, `mutation($id: ID!, $note: String) { handleAlert(id: $id, input: {action: ACKNOWLEDGE, note: $note}) { id } }`,
		map[string]any{"id": first.Alert.ID, "note": alertNote}, nil)

	replay := e.post(t, gateway.AccessToken, `mutation($in: SubmitTransactionInput!) { submitTransaction(input: $in) {
		transaction { id }
		riskEvent { status timeline { note } handlingRecords { note } alerts { handleNote } }
		alert { status handleNote } } }`, map[string]any{"in": in})
	if len(replay.Errors) > 0 {
		t.Fatalf("replay: unexpected errors %+v", replay.Errors)
	}
	for _, note := range []string{eventNote, alertNote} {
		if strings.Contains(string(replay.Data), note) {
			t.Errorf("submitTransaction replay/SERVICE: the answer shows the analyst's note %q: %s", note, replay.Data)
		}
	}
}
