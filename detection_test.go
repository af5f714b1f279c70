package main

import (
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/domain"
)

func TestLabelsAndBacktest(t *testing.T) {
	e := newEnv(t)
	gateway := e.user(t, "gateway", domain.RoleService)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	alice := e.user(t, "alice", domain.RoleUser)
	bob := e.user(t, "bob", domain.RoleUser)
	start := e.clock.Now().Add(-time.Minute)
	sub := func(user string, amount string) submitted {
		return e.submit(t, gateway.AccessToken, map[string]any{"userId": user, "amount": amount})
	}
	a := sub(alice.User.ID, "12000") // MEDIUM; confirmed fraud below
	b := sub(bob.User.ID, "15000")   // MEDIUM; false positive below
	c := sub(alice.User.ID, "9500")  // LOW; chargeback says fraud
	sub(bob.User.ID, "50")           // LOW; unlabelled
	d := sub(bob.User.ID, "9800")    // LOW; analyst says legitimate

	e.handle(t, analyst.AccessToken, a.RiskEvent.ID, map[string]any{"action": "START"})
	e.handle(t, analyst.AccessToken, a.RiskEvent.ID, map[string]any{"action": "CONFIRM_FRAUD", "note": "stolen card"})
	e.handle(t, analyst.AccessToken, b.RiskEvent.ID, map[string]any{"action": "START"})
	e.handle(t, analyst.AccessToken, b.RiskEvent.ID, map[string]any{"action": "MARK_FALSE_POSITIVE"})
	label := `mutation($id: ID!, $l: Label!, $s: String) { labelTransaction(id: $id, label: $l, source: $s) { label source labelledBy { username } } }`
	var chargeback struct {
		LabelTransaction struct{ Label, Source string }
	}
	e.must(t, gateway.AccessToken, label, map[string]any{"id": c.Transaction.ID, "l": "FRAUD", "s": "CHARGEBACK"}, &chargeback)
	if chargeback.LabelTransaction.Label != "FRAUD" || chargeback.LabelTransaction.Source != "CHARGEBACK" {
		t.Fatalf("chargeback label: got %+v", chargeback.LabelTransaction)
	}
	e.must(t, analyst.AccessToken, label, map[string]any{"id": d.Transaction.ID, "l": "LEGITIMATE"}, nil)
	e.mustFail(t, alice.AccessToken, label, map[string]any{"id": c.Transaction.ID, "l": "LEGITIMATE"}, "FORBIDDEN")
	e.mustFail(t, analyst.AccessToken, label, map[string]any{"id": c.Transaction.ID, "l": "FRAUD", "s": "bad source!"}, "BAD_USER_INPUT")

	var labelled struct {
		Transaction struct {
			Label struct {
				Label, Source, Note string
				LabelledBy          struct{ Username string }
			}
		}
	}
	e.must(t, analyst.AccessToken, `query($id: ID!) { transaction(id: $id) { label { label source note labelledBy { username } } } }`,
		map[string]any{"id": a.Transaction.ID}, &labelled)
	if l := labelled.Transaction.Label; l.Label != "FRAUD" || l.Source != "ANALYST" || l.Note != "stolen card" || l.LabelledBy.Username != "ana" {
		t.Fatalf("verdict label: got %+v", l)
	}

	var bt struct {
		BacktestRule struct {
			Expression                               string
			Evaluated, Hits                          int
			HitRate                                  float64
			LabelledFraud, LabelledLegitimate        int
			FraudCaught, LegitimateHit, AddedFlagged int
			Precision, Recall                        *float64
			AddedFlaggedVolume                       string
			SampleHits                               []struct{ ID string }
			Truncated                                bool
		}
	}
	query := `query($in: BacktestInput!) { backtestRule(input: $in) { expression evaluated hits hitRate labelledFraud labelledLegitimate
		fraudCaught legitimateHit precision recall addedFlagged addedFlaggedVolume sampleHits { id } truncated } }`
	e.must(t, analyst.AccessToken, query, map[string]any{"in": map[string]any{"condition": `{"amount": {"$gte": 9000}}`, "score": 40,
		"from": start, "to": e.clock.Now().Add(time.Minute)}}, &bt)
	r := bt.BacktestRule
	if r.Expression != "amount >= 9000" || r.Evaluated != 5 || r.Hits != 4 || r.HitRate != 0.8 || r.LabelledFraud != 2 || r.LabelledLegitimate != 2 ||
		r.FraudCaught != 2 || r.LegitimateHit != 2 || *r.Precision != 0.5 || *r.Recall != 1 || r.AddedFlagged != 2 ||
		r.AddedFlaggedVolume != "19300.00" || len(r.SampleHits) != 4 || r.Truncated {
		t.Fatalf("backtest: got %+v", r)
	}
	// A backtest changes nothing.
	if n := e.count(t, "SELECT count(*) FROM rules"); n != 5 {
		t.Fatalf("rules after a backtest: %d, want 5", n)
	}
	e.mustFail(t, analyst.AccessToken, query, map[string]any{"in": map[string]any{"condition": "amount >", "from": start, "to": e.clock.Now()}}, "BAD_USER_INPUT")
	e.mustFail(t, alice.AccessToken, query, map[string]any{"in": map[string]any{"condition": "amount > 1", "from": start, "to": e.clock.Now()}}, "FORBIDDEN")
}
