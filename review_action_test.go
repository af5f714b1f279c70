package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// A REVIEW rule holds a payment for review whatever the active model says;
// the same rule as SCORE is fused with the model as DESIGN pins, so a model
// that never saw the pattern vetoes it.
func TestReviewRuleHoldsWhateverTheModel(t *testing.T) {
	e := newEnv(t)
	e.clock.AdvanceToHour(12)
	admin := e.user(t, "root", domain.RoleAdmin)
	gateway := e.user(t, "gateway", domain.RoleService)
	erin := e.user(t, "erin", domain.RoleUser)

	// A model that has learnt only "large is fraud" scores a small payment low.
	for i := range 24 {
		e.submit(t, gateway.AccessToken, map[string]any{"userId": erin.User.ID, "amount": fmt.Sprint(5 + (i*7%24)*700)}) // large ones spread over time
	}
	if _, err := e.db.ExecContext(t.Context(), `INSERT INTO transaction_labels (user_id, transaction_id, label, source)
		SELECT user_id, id, CASE WHEN amount > 8000 THEN 'FRAUD' ELSE 'LEGITIMATE' END, 'TEST' FROM transactions`); err != nil {
		t.Fatal(err)
	}
	var trained struct{ TrainModel struct{ ID string } }
	e.must(t, admin.AccessToken, `mutation { trainModel { id } }`, nil, &trained)
	e.must(t, admin.AccessToken, `mutation($id: ID!) { activateModel(id: $id) { active } }`, map[string]any{"id": trained.TrainModel.ID}, nil)

	var rule struct{ UpsertRule struct{ ID string } }
	e.must(t, admin.AccessToken, `mutation($in: RuleInput!) { upsertRule(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"name": "jewellery at lunch", "condition": `merchantCategory == "jewellery"`, "score": 60, "action": "REVIEW"}}, &rule)
	var stored struct{ Rule struct{ Action string } }
	e.must(t, admin.AccessToken, `query($id: ID!) { rule(id: $id) { action } }`, map[string]any{"id": rule.UpsertRule.ID}, &stored)
	if stored.Rule.Action != "REVIEW" {
		t.Fatalf("stored action: got %q, want REVIEW", stored.Rule.Action)
	}

	detect := `mutation($in: SubmitTransactionInput!) { submitTransaction(input: $in) { detection {
		riskScore ruleScore mlScore riskLevel decision reason } } }`
	type detection struct {
		RiskScore, RuleScore float64
		MLScore              *float64
		RiskLevel, Decision  string
		Reason               string
	}
	e.clock.Advance(11 * time.Minute) // out of the history's velocity window
	submit := func() detection {
		var out struct{ SubmitTransaction struct{ Detection detection } }
		e.must(t, gateway.AccessToken, detect, map[string]any{"in": map[string]any{
			"userId": erin.User.ID, "amount": "50", "merchantCategory": "jewellery"}}, &out)
		return out.SubmitTransaction.Detection
	}
	d := submit()
	if d.MLScore == nil || *d.MLScore >= 10 {
		t.Fatalf("model score: got %v, want one under 10 (the model never saw the pattern)", *d.MLScore)
	}
	if d.RuleScore != 60 || d.RiskScore != 60 || d.RiskLevel != "MEDIUM" || d.Decision != "REVIEW" ||
		!strings.Contains(d.Reason, "jewellery at lunch (+60, review)") || !strings.Contains(d.Reason, "held for review by rule") {
		t.Fatalf("REVIEW rule with a low model score: got %+v, want rule 60, risk 60, MEDIUM, REVIEW", d)
	}

	// The same rule as SCORE: fused 0.6·60 + 0.4·model, under MEDIUM.
	e.must(t, admin.AccessToken, `mutation($in: RuleInput!) { upsertRule(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"id": rule.UpsertRule.ID, "name": "jewellery at lunch", "condition": `merchantCategory == "jewellery"`, "score": 60, "action": "SCORE"}}, nil)
	d = submit()
	if want := 0.6*60 + 0.4**d.MLScore; d.RuleScore != 60 || d.RiskScore > want+0.01 || d.RiskScore < want-0.01 || d.RiskLevel != "LOW" || d.Decision != "PASS" {
		t.Fatalf("SCORE rule with a low model score: got %+v, want risk %v, LOW, PASS", d, want)
	}

	e.mustFail(t, admin.AccessToken, `mutation($in: RuleInput!) { upsertRule(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"name": "hold it", "condition": `amount > 1`, "score": 10, "action": "HOLD"}}, "BAD_USER_INPUT")
}
