package main

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/domain"
)

func TestLabelsAndBacktest(t *testing.T) {
	e := newEnv(t)
	e.clock.AdvanceToHour(12) // by day: the default pack's night structuring rule would flag the 9,500 and 9,800
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

	aEvent, bEvent := e.eventOf(t, analyst.AccessToken, a.Transaction.ID), e.eventOf(t, analyst.AccessToken, b.Transaction.ID)
	e.handle(t, analyst.AccessToken, aEvent, map[string]any{"action": "START"})
	e.handle(t, analyst.AccessToken, aEvent, map[string]any{"action": "CONFIRM_FRAUD", "note": "stolen card"})
	e.handle(t, analyst.AccessToken, bEvent, map[string]any{"action": "START"})
	e.handle(t, analyst.AccessToken, bEvent, map[string]any{"action": "MARK_FALSE_POSITIVE"})
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
	if n := e.count(t, "SELECT count(*) FROM rules"); n != seededRules() {
		t.Fatalf("rules after a backtest: %d, want %d", n, seededRules())
	}
	e.mustFail(t, analyst.AccessToken, query, map[string]any{"in": map[string]any{"condition": "amount >", "from": start, "to": e.clock.Now()}}, "BAD_USER_INPUT")
	e.mustFail(t, alice.AccessToken, query, map[string]any{"in": map[string]any{"condition": "amount > 1", "from": start, "to": e.clock.Now()}}, "FORBIDDEN")
}

func TestShadowRuleAndModelOnDetections(t *testing.T) {
	e := newEnv(t)
	admin := e.user(t, "root", domain.RoleAdmin)
	gateway := e.user(t, "gateway", domain.RoleService)
	carl := e.user(t, "carl", domain.RoleUser)
	e.must(t, admin.AccessToken, upsertRule, map[string]any{"in": map[string]any{"name": "draft big", "condition": "amount >= 500",
		"score": 90, "shadow": true}}, nil)
	detect := `mutation($in: SubmitTransactionInput!) { submitTransaction(input: $in) { detection {
		riskScore ruleScore mlScore modelVersion decision matchedRules { name } shadowRules { name } modelContributions { feature contribution } } } }`
	type detection struct {
		RiskScore, RuleScore float64
		MLScore              *float64
		ModelVersion         *string
		Decision             string
		MatchedRules         []struct{ Name string }
		ShadowRules          []struct{ Name string }
		ModelContributions   []struct{ Feature string }
	}
	var out struct{ SubmitTransaction struct{ Detection detection } }
	// The admin submits: shadow rules and the model's explanation are not a payment system's to read.
	e.must(t, admin.AccessToken, detect, map[string]any{"in": map[string]any{"userId": carl.User.ID, "amount": 600}}, &out)
	d := out.SubmitTransaction.Detection
	if d.RiskScore != 0 || d.RuleScore != 0 || d.Decision != "PASS" || len(d.MatchedRules) != 0 ||
		len(d.ShadowRules) != 1 || d.ShadowRules[0].Name != "draft big" || d.MLScore != nil || d.ModelVersion != nil || d.ModelContributions != nil {
		t.Fatalf("shadow rule changed the score or went unrecorded: %+v", d)
	}

	// Label a history, train, activate: detections then carry the model's score, version and explanation.
	for i := range 24 {
		e.submit(t, gateway.AccessToken, map[string]any{"userId": carl.User.ID, "amount": fmt.Sprint(5 + i*700)})
	}
	if _, err := e.db.ExecContext(t.Context(), `INSERT INTO transaction_labels (user_id, transaction_id, label, source)
		SELECT user_id, id, CASE WHEN amount > 8000 THEN 'FRAUD' ELSE 'LEGITIMATE' END, 'TEST' FROM transactions`); err != nil {
		t.Fatal(err)
	}
	var trained struct {
		TrainModel struct {
			ID      string
			Version int
			Metrics struct{ AUC float64 }
		}
	}
	e.must(t, admin.AccessToken, `mutation { trainModel { id version metrics { auc } } }`, nil, &trained)
	e.must(t, admin.AccessToken, `mutation($id: ID!) { activateModel(id: $id) { active } }`, map[string]any{"id": trained.TrainModel.ID}, nil)
	e.must(t, admin.AccessToken, detect, map[string]any{"in": map[string]any{"userId": carl.User.ID, "amount": 20000}}, &out)
	d = out.SubmitTransaction.Detection
	want := fmt.Sprintf("v%d", trained.TrainModel.Version)
	if d.MLScore == nil || d.ModelVersion == nil || *d.ModelVersion != want || len(d.ModelContributions) == 0 {
		t.Fatalf("with an active model: got %+v, want mlScore, version %s and contributions", d, want)
	}
	if fused := math.Round((0.6*d.RuleScore+0.4**d.MLScore)*100) / 100; d.RiskScore != fused {
		t.Fatalf("fusion: risk %v, want 0.6·%v + 0.4·%v = %v", d.RiskScore, d.RuleScore, *d.MLScore, fused)
	}
}

// A rule with a negative score (the default pack's "plausible journey" is
// one) offsets a pinned seed rule's score without touching it, end to end:
// stored through the API, scored on submission, shown in the reason.
func TestSuppressionRuleOffsetsASeedRule(t *testing.T) {
	e := newEnv(t)
	e.clock.AdvanceToHour(12)
	admin := e.user(t, "root", domain.RoleAdmin)
	gateway := e.user(t, "gateway", domain.RoleService)
	dana := e.user(t, "dana", domain.RoleUser)
	// The seed's large-amount rule (+50) alone flags a rent payment.
	before := e.submit(t, gateway.AccessToken, map[string]any{"userId": dana.User.ID, "amount": "12000", "merchantCategory": "rent"})
	if before.Detection.RuleScore != 50 || before.Detection.RiskLevel != "MEDIUM" {
		t.Fatalf("before the suppression: %+v", before.Detection)
	}
	e.must(t, admin.AccessToken, upsertRule, map[string]any{"in": map[string]any{"name": "rent is expected", "type": "SUPPRESSION",
		"condition": `merchantCategory == "rent" && amount >= 10000`, "score": -40}}, nil)
	after := e.submit(t, gateway.AccessToken, map[string]any{"userId": dana.User.ID, "amount": "12000", "merchantCategory": "rent"})
	if d := after.Detection; d.RuleScore != 10 || d.RiskLevel != "LOW" || d.Decision != "PASS" || !strings.Contains(d.Reason, "rent is expected (-40)") {
		t.Fatalf("with the suppression: %+v, want rule score 10, LOW, PASS", d)
	}
	var rule struct {
		Rules []struct {
			Name  string
			Score int
		}
	}
	e.must(t, admin.AccessToken, `{ rules { name score } }`, nil, &rule)
	found := false
	for _, r := range rule.Rules {
		found = found || r.Name == "rent is expected" && r.Score == -40
	}
	if !found {
		t.Fatalf("the stored rule lost its negative score: %+v", rule.Rules)
	}
	e.mustFail(t, admin.AccessToken, upsertRule, map[string]any{"in": map[string]any{"name": "too low", "condition": "amount > 1", "score": -101}}, "BAD_USER_INPUT")
}
