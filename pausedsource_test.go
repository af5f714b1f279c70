package main

import (
	"testing"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// TestPausedSourceRefusesSubmissions: payments through a PAUSED data source
// are refused (BAD_USER_INPUT on sourceId, nothing stored) until it is
// resumed; a replayed idempotency key still answers what was acknowledged.
func TestPausedSourceRefusesSubmissions(t *testing.T) {
	e := newEnv(t)
	alice := e.user(t, "alice", domain.RoleUser)
	gateway := e.user(t, "gateway", domain.RoleService)
	admin := e.user(t, "root", domain.RoleAdmin)
	var src struct{ CreateDataSource struct{ ID string } }
	e.must(t, admin.AccessToken, `mutation { createDataSource(input: {name: "card-feed", kind: API}) { id } }`, nil, &src)
	id := src.CreateDataSource.ID
	setStatus := func(status string) {
		e.must(t, admin.AccessToken, `mutation($id: ID!, $s: DataSourceStatus) { updateDataSource(id: $id, input: {status: $s}) { status } }`,
			map[string]any{"id": id, "s": status}, nil)
	}
	in := func(key string) map[string]any {
		return map[string]any{"in": map[string]any{"userId": alice.User.ID, "amount": 20, "sourceId": id, "idempotencyKey": key}}
	}
	first := e.submit(t, gateway.AccessToken, map[string]any{"userId": alice.User.ID, "amount": 20, "sourceId": id, "idempotencyKey": "k1"})

	setStatus("PAUSED")
	res := e.mustFail(t, gateway.AccessToken, submitMutation, in("k2"), "BAD_USER_INPUT")
	if res.Errors[0].Extensions["field"] != "sourceId" {
		t.Fatalf("paused source: got %+v, want the error on sourceId", res.Errors)
	}
	if n := e.count(t, "SELECT count(*) FROM transactions"); n != 1 {
		t.Fatalf("transactions after the refusal: got %d, want 1", n)
	}
	var replay struct {
		SubmitTransaction struct{ Transaction struct{ ID string } }
	}
	e.must(t, gateway.AccessToken, submitMutation, in("k1"), &replay)
	if replay.SubmitTransaction.Transaction.ID != first.Transaction.ID {
		t.Fatalf("replay through a paused source: got %s, want the acknowledged %s", replay.SubmitTransaction.Transaction.ID, first.Transaction.ID)
	}

	setStatus("ACTIVE")
	e.must(t, gateway.AccessToken, submitMutation, in("k2"), nil)
	if n := e.count(t, "SELECT count(*) FROM transactions"); n != 2 {
		t.Fatalf("transactions after resuming: got %d, want 2", n)
	}
}
