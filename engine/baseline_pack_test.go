package engine

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestBaselineRules: version 3 of the default pack on constructed feature
// vectors: a customer's own device behaving unlike the customer is held for
// review with a model that scores it 0; their own off-hours shopping, a
// once-a-year purchase at a usual hour and a household's tablet are not.
func TestBaselineRules(t *testing.T) {
	// As they would run once an operator takes them out of shadow.
	live := BaselineRules()
	for i := range live {
		if live[i].Action == ActionReview && !live[i].Shadow {
			t.Errorf("%s: ships live; want shadow until its hits are watched", live[i].Name)
		}
		live[i].Shadow = false
	}
	rs, err := Compile(append(append(DefaultRulePack(), GeneralisingRules()...), live...))
	if err != nil {
		t.Fatal(err)
	}
	// A customer with 30 payments in 30 days, on their usual phone.
	customer := map[string]any{"user.txCount30d": 30, "user.avgAmount30d": 100.0, "user.hourTypicality": 0.3,
		"user.amountPercentile": 0.5, "user.amountToAvg30d": 1.0, "user.txCount1h": 1, "user.amount1h": 100.0,
		"user.knownMerchant": true, "device.present": true, "device.usual": true, "device.userAgeDays": 60.0,
		"device.userCount7d": 1}
	with := func(set map[string]any) map[string]any {
		out := map[string]any{}
		for _, m := range []map[string]any{customer, set} {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	tests := []struct {
		name         string
		set          map[string]any
		wantRules    []string
		wantDecision Decision
	}{
		{"own phone, 6 times the average in a new category at an hour never paid", with(map[string]any{"amount": 600.0,
			"user.hourTypicality": 0.0, "user.amountPercentile": 1.0, "user.amountToAvg30d": 6.0, "user.newCategory": true,
			"user.knownMerchant": false, "user.amount1h": 600.0}),
			[]string{"off the customer's baseline at an odd hour", "far off the customer's baseline at an hour they never pay"}, DecisionReview},
		{"own phone, third payment of the hour, 12 times the average", with(map[string]any{"amount": 500.0,
			"user.hourTypicality": 0.08, "user.amountPercentile": 0.97, "user.amountToAvg30d": 5.0, "user.txCount1h": 3, "user.amount1h": 1200.0}),
			[]string{"a burst far over the customer's norm at an hour they rarely pay"}, DecisionReview},
		{"once-a-year purchase at the customer's usual hour", with(map[string]any{"amount": 700.0,
			"user.amountPercentile": 1.0, "user.amountToAvg30d": 7.0, "user.newCategory": true, "user.knownMerchant": false, "user.amount1h": 700.0}),
			nil, DecisionPass},
		{"the customer's own late shopping, within their norm", with(map[string]any{"amount": 150.0,
			"user.hourTypicality": 0.0, "user.amountPercentile": 0.8, "user.amountToAvg30d": 1.5, "user.newCategory": true}),
			nil, DecisionPass},
		{"new customer without a baseline", with(map[string]any{"amount": 600.0, "user.txCount30d": 4,
			"user.hourTypicality": 0.0, "user.amountPercentile": 1.0, "user.amountToAvg30d": 6.0, "user.newCategory": true}),
			nil, DecisionPass},
		{"a household's tablet: an established customer among four users", with(map[string]any{"device.userCount7d": 4}),
			[]string{"device ring", "a household's shared device"}, DecisionPass},
		{"a ring's throwaway account among four users", with(map[string]any{"device.userCount7d": 4, "user.txCount30d": 3}),
			[]string{"device ring"}, DecisionPass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := json.Marshal(caseEnv(t, tt.set))
			if err != nil {
				t.Fatal(err)
			}
			f, err := ParseSnapshot(raw)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Score(context.Background(), rs, f, fixedModel{score: 0}, DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range r.Matched {
				got = append(got, m.Name)
			}
			if !slices.Equal(got, tt.wantRules) || r.Decision != tt.wantDecision {
				t.Errorf("matched %q, decision %s; want %q, %s (%s)", got, r.Decision, tt.wantRules, tt.wantDecision, r.Reason)
			}
		})
	}
	for _, r := range BaselineRules() {
		if r.Action == ActionReview && strings.Count(r.Condition, "&&") < 3 {
			t.Errorf("%s: a rule the model cannot veto combines four or more signals: %s", r.Name, r.Condition)
		}
	}
}
