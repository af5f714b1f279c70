package main

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// A REVIEW rule holds a payment for review whatever the active model (or a
// suppression rule) says; the same rule as SCORE is fused with the model as
// DESIGN pins. engine.TestScoreReviewAction pins a model scoring 0.
func TestReviewRuleHoldsWhateverTheModel(t *testing.T) {
	e := newEnv(t)
	e.clock.AdvanceToHour(12)
	admin := e.user(t, "root", domain.RoleAdmin)
	gateway := e.user(t, "gateway", domain.RoleService)
	erin := e.user(t, "erin", domain.RoleUser)
	fay := e.user(t, "fay", domain.RoleUser)

	// An active model, so the detection is fused (what it scores does not matter below).
	for i := range 48 {
		who := []session{erin, fay}[i%2]
		e.submit(t, gateway.AccessToken, map[string]any{"userId": who.User.ID, "amount": fmt.Sprint(5 + i/2*700), "merchantCategory": "jewellery"})
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
	// Each user's first payment after the gap, so both look alike to the model.
	submit := func(userID string) detection {
		var out struct{ SubmitTransaction struct{ Detection detection } }
		e.must(t, gateway.AccessToken, detect, map[string]any{"in": map[string]any{
			"userId": userID, "amount": "50", "merchantCategory": "jewellery"}}, &out)
		return out.SubmitTransaction.Detection
	}
	// A suppression rule offsetting it leaves the fused score at 0.4·model,
	// at most 40, whatever the model learnt: only the REVIEW action can hold it.
	e.must(t, admin.AccessToken, `mutation($in: RuleInput!) { upsertRule(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"name": "jewellery is expected", "type": "SUPPRESSION", "condition": `merchantCategory == "jewellery"`, "score": -60}}, nil)
	d := submit(erin.User.ID)
	if d.MLScore == nil {
		t.Fatalf("no model score: %+v", d)
	}
	if d.RuleScore != 0 || d.RiskScore != 60 || d.RiskLevel != "MEDIUM" || d.Decision != "REVIEW" ||
		!strings.Contains(d.Reason, "jewellery at lunch (+60, review)") || !strings.Contains(d.Reason, "held for review by rule") {
		t.Fatalf("REVIEW rule with model score %v: got %+v, want rule 0, risk 60, MEDIUM, REVIEW", *d.MLScore, d)
	}

	// The same rule as SCORE: fused 0.6·0 + 0.4·model, under REVIEW.
	e.must(t, admin.AccessToken, `mutation($in: RuleInput!) { upsertRule(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"id": rule.UpsertRule.ID, "name": "jewellery at lunch", "condition": `merchantCategory == "jewellery"`, "score": 60, "action": "SCORE"}}, nil)
	d = submit(fay.User.ID)
	if d.MLScore == nil || d.RuleScore != 0 || math.Abs(d.RiskScore-0.4**d.MLScore) > 0.01 || d.Decision != "PASS" ||
		strings.Contains(d.Reason, "held for review") {
		t.Fatalf("SCORE rule: got %+v, want risk 0.4·model and PASS", d)
	}

	e.mustFail(t, admin.AccessToken, `mutation($in: RuleInput!) { upsertRule(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"name": "hold it", "condition": `amount > 1`, "score": 10, "action": "HOLD"}}, "BAD_USER_INPUT")
}
