package main

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// txIDs lists a transaction connection's node IDs and its total.
type txConn struct {
	TotalCount int
	PageInfo   struct {
		HasNextPage bool
		EndCursor   string
	}
	Edges []struct{ Node struct{ ID, UserID string } }
}

func (c txConn) ids() []string {
	out := make([]string, len(c.Edges))
	for i, ed := range c.Edges {
		out[i] = ed.Node.ID
	}
	return out
}

// TestTransactionFilters narrows transactions by device (our Device.id),
// merchant, status and the detection's minimum score, and events by score.
func TestTransactionFilters(t *testing.T) {
	e := newEnv(t)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	alice := e.user(t, "alice", domain.RoleUser)
	bob := e.user(t, "bob", domain.RoleVIP)
	a1 := e.submit(t, alice.AccessToken, map[string]any{"amount": 10, "merchantId": "m-1", "deviceId": "fp-a"})
	a2 := e.submit(t, alice.AccessToken, map[string]any{"amount": 20, "merchantId": "m-2", "deviceId": "fp-b"})
	a3 := e.submit(t, alice.AccessToken, map[string]any{"amount": 12000, "merchantId": "m-1", "deviceId": "fp-a"})
	b1 := e.submit(t, bob.AccessToken, map[string]any{"amount": 30, "merchantId": "m-1", "deviceId": "fp-a"})
	ctx := context.Background()
	// Scores and statuses fixed in place, so the filters, not the rules, are under test.
	for _, f := range []struct {
		id            string
		score         float64
		level, status string
	}{
		{a1.Transaction.ID, 10, "LOW", "APPROVED"},
		{a2.Transaction.ID, 79.99, "MEDIUM", "PENDING_REVIEW"},
		{a3.Transaction.ID, 80, "HIGH", "APPROVED"},
		{b1.Transaction.ID, 95, "HIGH", "PENDING_REVIEW"},
	} {
		if _, err := e.db.NewRaw("UPDATE detections SET risk_score = ?, risk_level = ? WHERE transaction_id = ?", f.score, f.level, f.id).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.NewRaw("UPDATE transactions SET status = ? WHERE id = ?", f.status, f.id).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var dev struct {
		Transaction struct{ Device struct{ ID string } }
	}
	e.must(t, analyst.AccessToken, `query($id: ID!) { transaction(id: $id) { device { id } } }`, map[string]any{"id": a1.Transaction.ID}, &dev)
	deviceA := dev.Transaction.Device.ID

	q := `query($f: TransactionFilter) { transactions(filter: $f, first: 100) { totalCount edges { node { id userId } } } }`
	for _, tt := range []struct {
		name   string
		token  string
		filter map[string]any
		want   []string
	}{
		{"deviceId", analyst.AccessToken, map[string]any{"deviceId": deviceA}, []string{b1.Transaction.ID, a3.Transaction.ID, a1.Transaction.ID}},
		{"deviceId, a customer's own only", alice.AccessToken, map[string]any{"deviceId": deviceA}, []string{a3.Transaction.ID, a1.Transaction.ID}},
		{"merchantId", analyst.AccessToken, map[string]any{"merchantId": "m-2"}, []string{a2.Transaction.ID}},
		{"status", analyst.AccessToken, map[string]any{"status": "PENDING_REVIEW"}, []string{b1.Transaction.ID, a2.Transaction.ID}},
		{"minScore is inclusive", analyst.AccessToken, map[string]any{"minScore": 80}, []string{b1.Transaction.ID, a3.Transaction.ID}},
		{"all together", analyst.AccessToken, map[string]any{"deviceId": deviceA, "merchantId": "m-1", "status": "APPROVED", "minScore": 50}, []string{a3.Transaction.ID}},
		{"with the detection filters", analyst.AccessToken, map[string]any{"minScore": 5, "riskLevel": "MEDIUM"}, []string{a2.Transaction.ID}},
		{"an unknown device", analyst.AccessToken, map[string]any{"deviceId": "999999"}, []string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out struct{ Transactions txConn }
			e.must(t, tt.token, q, map[string]any{"f": tt.filter}, &out)
			if got := out.Transactions.ids(); !slices.Equal(got, tt.want) || out.Transactions.TotalCount != len(tt.want) {
				t.Errorf("got %v (total %d); want %v", got, out.Transactions.TotalCount, tt.want)
			}
		})
	}
	t.Run("a bad status", func(t *testing.T) {
		e.mustFail(t, analyst.AccessToken, q, map[string]any{"f": map[string]any{"status": "LOST"}}, "BAD_USER_INPUT")
	})

	// Events: a3 (12000) opened one; its score is the event's own.
	if _, err := e.db.NewRaw("UPDATE risk_events SET risk_score = 55 WHERE transaction_id = ?", a3.Transaction.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	evq := `query($min: Float) { riskEvents(filter: {minScore: $min}, first: 100) { totalCount edges { node { riskScore transaction { id } } } } }`
	for _, tt := range []struct {
		min  float64
		want int
	}{{55, 1}, {55.01, 0}} {
		var out struct {
			RiskEvents struct {
				TotalCount int
				Edges      []struct {
					Node struct {
						RiskScore   float64
						Transaction struct{ ID string }
					}
				}
			}
		}
		e.must(t, analyst.AccessToken, evq, map[string]any{"min": tt.min}, &out)
		if out.RiskEvents.TotalCount != tt.want || len(out.RiskEvents.Edges) != tt.want {
			t.Errorf("riskEvents minScore %v: got %d; want %d", tt.min, out.RiskEvents.TotalCount, tt.want)
		}
		for _, ed := range out.RiskEvents.Edges {
			if ed.Node.RiskScore < tt.min || ed.Node.Transaction.ID != a3.Transaction.ID {
				t.Errorf("riskEvents minScore %v: got %+v", tt.min, ed.Node)
			}
		}
	}
}

// TestDeviceTransactions: staff read every user's transactions on a device,
// a customer only their own; pages follow the cursor; a payment system can't
// reach the device at all.
func TestDeviceTransactions(t *testing.T) {
	e := newEnv(t)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	alice := e.user(t, "alice", domain.RoleUser)
	bob := e.user(t, "bob", domain.RoleVIP)
	gateway := e.user(t, "gateway", domain.RoleService)
	a1 := e.submit(t, alice.AccessToken, map[string]any{"amount": 10, "deviceId": "shared"})
	b1 := e.submit(t, bob.AccessToken, map[string]any{"amount": 20, "deviceId": "shared"})
	g1 := e.submit(t, gateway.AccessToken, map[string]any{"userId": alice.User.ID, "amount": 30, "deviceId": "shared"})
	e.submit(t, alice.AccessToken, map[string]any{"amount": 40, "deviceId": "other"})
	var dev struct {
		Transaction struct{ Device struct{ ID string } }
	}
	e.must(t, analyst.AccessToken, `query($id: ID!) { transaction(id: $id) { device { id } } }`, map[string]any{"id": a1.Transaction.ID}, &dev)

	q := `query($id: ID!, $first: Int, $after: String) { device(id: $id) {
		transactions(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id userId } } } } }`
	list := func(t *testing.T, token string, first int, after string) txConn {
		t.Helper()
		vars := map[string]any{"id": dev.Transaction.Device.ID, "first": first}
		if after != "" {
			vars["after"] = after
		}
		var out struct{ Device struct{ Transactions txConn } }
		e.must(t, token, q, vars, &out)
		return out.Device.Transactions
	}
	for _, tt := range []struct {
		name  string
		token string
		want  []string
	}{
		{"ANALYST: everyone's", analyst.AccessToken, []string{g1.Transaction.ID, b1.Transaction.ID, a1.Transaction.ID}},
		{"USER: her own, whoever submitted them", alice.AccessToken, []string{g1.Transaction.ID, a1.Transaction.ID}},
		{"VIP: his own", bob.AccessToken, []string{b1.Transaction.ID}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := list(t, tt.token, 100, ""); !slices.Equal(got.ids(), tt.want) || got.TotalCount != len(tt.want) {
				t.Errorf("got %v (total %d); want %v", got.ids(), got.TotalCount, tt.want)
			}
		})
	}
	t.Run("pages", func(t *testing.T) {
		var got []string
		after := ""
		for range 3 {
			p := list(t, analyst.AccessToken, 1, after)
			got = append(got, p.ids()...)
			if !p.PageInfo.HasNextPage {
				break
			}
			after = p.PageInfo.EndCursor
		}
		if want := []string{g1.Transaction.ID, b1.Transaction.ID, a1.Transaction.ID}; !slices.Equal(got, want) {
			t.Errorf("got %v; want %v", got, want)
		}
	})
	t.Run("SERVICE", func(t *testing.T) {
		// No path to a device: device(id) is refused, Transaction.device is null.
		e.mustFail(t, gateway.AccessToken, q, map[string]any{"id": dev.Transaction.Device.ID}, "FORBIDDEN")
		var out struct {
			Transaction struct{ Device *struct{ ID string } }
		}
		e.must(t, gateway.AccessToken, `query($id: ID!) { transaction(id: $id) { device { id transactions { totalCount } } } }`,
			map[string]any{"id": g1.Transaction.ID}, &out)
		if out.Transaction.Device != nil {
			t.Errorf("got device %+v; want null", out.Transaction.Device)
		}
	})
}

// TestMatchedRuleLinksItsRule: a matched rule leads to the rule (staff
// only, like rule(id)), null once the rule is gone; a detection has an ID.
func TestMatchedRuleLinksItsRule(t *testing.T) {
	e := newEnv(t)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	admin := e.user(t, "root", domain.RoleAdmin)
	alice := e.user(t, "alice", domain.RoleUser)
	var created struct{ UpsertRule struct{ ID string } }
	e.must(t, admin.AccessToken, `mutation { upsertRule(input: {name: "odd cents", code: "R777", condition: "amount == 13.37", score: 5}) { id } }`, nil, &created)
	res := e.submit(t, alice.AccessToken, map[string]any{"amount": 12000, "merchantId": "m-1"})
	odd := e.submit(t, alice.AccessToken, map[string]any{"amount": 13.37, "merchantId": "m-1"})

	q := `query($id: ID!) { transaction(id: $id) { detection { id matchedRules { ruleId name rule { id name code } } } } }`
	type view struct {
		Transaction struct {
			Detection struct {
				ID           string
				MatchedRules []struct {
					RuleID, Name string
					Rule         *struct {
						ID, Name string
						Code     *string
					}
				}
			}
		}
	}
	var got view
	e.must(t, analyst.AccessToken, q, map[string]any{"id": res.Transaction.ID}, &got)
	d := got.Transaction.Detection
	if d.ID != res.Transaction.ID {
		t.Errorf("detection id: got %q; want its transaction's %q", d.ID, res.Transaction.ID)
	}
	if len(d.MatchedRules) == 0 {
		t.Fatal("no matched rules")
	}
	for _, m := range d.MatchedRules {
		if m.Rule == nil || m.Rule.ID != m.RuleID || m.Rule.Name != m.Name {
			t.Errorf("matched rule %s %q: got rule %+v", m.RuleID, m.Name, m.Rule)
		}
	}
	// A customer reads her matched rules but not the rules themselves.
	denied := e.post(t, alice.AccessToken, q, map[string]any{"id": res.Transaction.ID})
	if denied.code() != "FORBIDDEN" {
		t.Errorf("USER: got %+v; want FORBIDDEN on rule", denied.Errors)
	}
	var partial view
	if err := json.Unmarshal(denied.Data, &partial); err != nil || len(partial.Transaction.Detection.MatchedRules) == 0 || partial.Transaction.Detection.MatchedRules[0].Rule != nil {
		t.Errorf("USER: got %s; want the matched rules with rule null", denied.Data)
	}
	// A deleted rule: the match keeps its record, the link is null.
	if _, err := e.db.NewRaw("DELETE FROM rules WHERE id = ?", created.UpsertRule.ID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	var gone view
	e.must(t, analyst.AccessToken, q, map[string]any{"id": odd.Transaction.ID}, &gone)
	found := false
	for _, m := range gone.Transaction.Detection.MatchedRules {
		if m.RuleID == created.UpsertRule.ID {
			found = true
			if m.Rule != nil || m.Name != "odd cents" {
				t.Errorf("deleted rule: got %+v; want its name and rule null", m)
			}
		}
	}
	if !found {
		t.Errorf("the deleted rule's match is missing: %+v", gone.Transaction.Detection.MatchedRules)
	}
}

// TestRuleCode: a caller-chosen code, unique, validated, usable to look the
// rule up; rules record who created and last changed them.
func TestRuleCode(t *testing.T) {
	e := newEnv(t)
	admin := e.user(t, "root", domain.RoleAdmin)
	admin2 := e.user(t, "root2", domain.RoleAdmin)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	upsert := `mutation($in: RuleInput!) { upsertRule(input: $in) { id code version createdBy { username } updatedBy { username } } }`
	type rule struct {
		ID, Code  string
		Version   int
		CreatedBy *struct{ Username string }
		UpdatedBy *struct{ Username string }
	}
	var created struct{ UpsertRule rule }
	e.must(t, admin.AccessToken, upsert, map[string]any{"in": map[string]any{"name": "big", "code": "R001", "condition": "amount > 50000", "score": 10}}, &created)
	r := created.UpsertRule
	if r.Code != "R001" || r.CreatedBy == nil || r.CreatedBy.Username != "root" || r.UpdatedBy == nil || r.UpdatedBy.Username != "root" {
		t.Fatalf("created: got %+v", r)
	}

	t.Run("lookup by code or id", func(t *testing.T) {
		for _, vars := range []map[string]any{{"code": "R001"}, {"id": r.ID}} {
			var out struct{ Rule *struct{ ID, Code string } }
			e.must(t, analyst.AccessToken, `query($id: ID, $code: String) { rule(id: $id, code: $code) { id code } }`, vars, &out)
			if out.Rule == nil || out.Rule.ID != r.ID || out.Rule.Code != "R001" {
				t.Errorf("%v: got %+v", vars, out.Rule)
			}
		}
		// As an unknown id.
		e.mustFail(t, analyst.AccessToken, `{ rule(code: "R404") { id } }`, nil, "NOT_FOUND")
		for _, q := range []string{`{ rule { id } }`, `query($id: ID!) { rule(id: $id, code: "R001") { id } }`} {
			e.mustFail(t, analyst.AccessToken, q, map[string]any{"id": r.ID}, "BAD_USER_INPUT")
		}
	})
	t.Run("unique", func(t *testing.T) {
		res := e.mustFail(t, admin.AccessToken, upsert, map[string]any{"in": map[string]any{"name": "other", "code": "R001", "condition": "amount > 1", "score": 1}}, "CONFLICT")
		if res.Errors[0].Extensions["field"] != "code" {
			t.Errorf("got %+v; want a conflict on code", res.Errors)
		}
		var other struct{ UpsertRule rule }
		e.must(t, admin.AccessToken, upsert, map[string]any{"in": map[string]any{"name": "other", "code": "R002", "condition": "amount > 1", "score": 1}}, &other)
		// Taking another rule's code on update is refused the same way.
		e.mustFail(t, admin.AccessToken, upsert, map[string]any{"in": map[string]any{"id": other.UpsertRule.ID, "name": "other", "code": "R001", "condition": "amount > 1", "score": 1}}, "CONFLICT")
	})
	t.Run("validated", func(t *testing.T) {
		for _, code := range []string{"", "r001", "1R", "R 1", "R/1", "RÜ1", "RABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"} {
			res := e.mustFail(t, admin.AccessToken, upsert, map[string]any{"in": map[string]any{"name": "bad " + code, "code": code, "condition": "amount > 1", "score": 1}}, "BAD_USER_INPUT")
			if res.Errors[0].Extensions["field"] != "code" {
				t.Errorf("%q: got %+v; want an error on code", code, res.Errors)
			}
		}
		for _, code := range []string{"R", "R-01_X", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"} {
			var ok struct{ UpsertRule rule }
			e.must(t, admin.AccessToken, upsert, map[string]any{"in": map[string]any{"name": "good " + code, "code": code, "condition": "amount > 1", "score": 1}}, &ok)
			if ok.UpsertRule.Code != code {
				t.Errorf("%q: got %q", code, ok.UpsertRule.Code)
			}
		}
	})
	t.Run("update keeps the code and records the editor", func(t *testing.T) {
		var updated struct{ UpsertRule rule }
		e.must(t, admin2.AccessToken, upsert, map[string]any{"in": map[string]any{"id": r.ID, "name": "big", "condition": "amount > 60000", "score": 10}}, &updated)
		u := updated.UpsertRule
		if u.Code != "R001" || u.Version != 2 || u.CreatedBy == nil || u.CreatedBy.Username != "root" || u.UpdatedBy == nil || u.UpdatedBy.Username != "root2" {
			t.Errorf("got %+v; want R001, version 2, created by root, updated by root2", u)
		}
		var renamed struct{ UpsertRule rule }
		e.must(t, admin2.AccessToken, upsert, map[string]any{"in": map[string]any{"id": r.ID, "code": "R010", "name": "big", "condition": "amount > 60000", "score": 10}}, &renamed)
		if renamed.UpsertRule.Code != "R010" || renamed.UpsertRule.Version != 3 {
			t.Errorf("code change: got %+v; want R010 at version 3", renamed.UpsertRule)
		}
	})
	t.Run("seed rules have no creator", func(t *testing.T) {
		var out struct {
			Rules []struct {
				Builtin   bool
				Code      *string
				CreatedBy *struct{ Username string }
			}
		}
		e.must(t, analyst.AccessToken, `{ rules { builtin code createdBy { username } } }`, nil, &out)
		for _, r := range out.Rules {
			if r.Builtin && (r.CreatedBy != nil || r.Code != nil) {
				t.Errorf("seed rule: got %+v; want no code and no creator", r)
			}
		}
	})
	t.Run("switched by code", func(t *testing.T) { // R010 since the update above
		var out struct {
			SetRuleEnabled struct {
				ID, Code string
				Enabled  bool
			}
		}
		e.must(t, admin.AccessToken, `mutation { setRuleEnabled(code: "R010", enabled: false) { id code enabled } }`, nil, &out)
		if out.SetRuleEnabled.ID != r.ID || out.SetRuleEnabled.Enabled {
			t.Fatalf("disabled by code: got %+v", out.SetRuleEnabled)
		}
		e.mustFail(t, admin.AccessToken, `mutation { setRuleEnabled(code: "R404", enabled: true) { id } }`, nil, "NOT_FOUND")
		e.mustFail(t, admin.AccessToken, `mutation { setRuleEnabled(enabled: true) { id } }`, nil, "BAD_USER_INPUT")
		e.must(t, admin.AccessToken, `mutation($id: ID!) { setRuleEnabled(id: $id, enabled: true) { enabled } }`, map[string]any{"id": r.ID}, nil)
	})
}
