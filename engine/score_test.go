package engine

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// fixedModel is a Scorer answering a fixed score or error.
type fixedModel struct {
	score float64
	err   error
}

func (m fixedModel) Score(context.Context, *Features) (float64, error) { return m.score, m.err }

func TestScoreFusion(t *testing.T) {
	rs := compileBuiltin(t)
	large := Features{Amount: 12000}
	tests := []struct {
		name         string
		f            Features
		model        Scorer
		wantRule     int
		wantML       float64 // -1: no model score
		wantRisk     float64
		wantLevel    Level
		wantDecision Decision
		wantRejected bool
		wantReason   string
	}{
		{"nothing", Features{Amount: 10}, nil, 0, -1, 0, LevelLow, DecisionPass, false,
			"no rule matched; rule score 0; decision PASS"},
		{"lone large amount, no model", large, nil, 50, -1, 50, LevelMedium, DecisionPass, false,
			"rules: large amount (+50); rule score 50; decision PASS"},
		{"large amount and velocity", Features{Amount: 12000, User: UserFeatures{TxCount10m: 5}}, nil, 80, -1, 80, LevelHigh, DecisionReject, false,
			"rules: large amount (+50), high velocity (+30); rule score 80; decision REJECT"},
		{"rule 50 and model 100", large, fixedModel{score: 100}, 50, 100, 70, LevelMedium, DecisionReview, false,
			"rules: large amount (+50); rule score 50; model score 100; risk score 70; decision REVIEW"},
		{"rule 50 and model 0", large, fixedModel{score: 0}, 50, 0, 30, LevelLow, DecisionPass, false,
			"rules: large amount (+50); rule score 50; model score 0; risk score 30; decision PASS"},
		{"capped at 100", Features{
			Amount: 12000, User: UserFeatures{TxCount10m: 5},
			Device: DeviceFeatures{Status: "ABNORMAL"},
			Geo:    GeoFeatures{HasPrevious: true, DistanceKm: 5000, SpeedKmh: 5000},
		}, nil, 100, -1, 100, LevelHigh, DecisionReject, false,
			"rules: large amount (+50), impossible travel (+40), high velocity (+30), abnormal device (+20); rule score 100; decision REJECT"},
		{"blacklisted rejects regardless", Features{Device: DeviceFeatures{Status: "BLACKLISTED"}}, fixedModel{score: 0}, 0, 0, 100, LevelHigh, DecisionReject, true,
			"rules: blacklisted device (reject); rejected by rule; decision REJECT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Score(t.Context(), rs, &tt.f, tt.model, DefaultConfig())
			if err != nil {
				t.Fatalf("got error %v; want none", err)
			}
			ml := -1.0
			if got.MLScore != nil {
				ml = *got.MLScore
			}
			if got.RuleScore != tt.wantRule || ml != tt.wantML || got.RiskScore != tt.wantRisk ||
				got.Level != tt.wantLevel || got.Decision != tt.wantDecision || got.Rejected != tt.wantRejected {
				t.Errorf("got rule %d ml %v risk %v %s %s rejected %v; want rule %d ml %v risk %v %s %s rejected %v",
					got.RuleScore, ml, got.RiskScore, got.Level, got.Decision, got.Rejected,
					tt.wantRule, tt.wantML, tt.wantRisk, tt.wantLevel, tt.wantDecision, tt.wantRejected)
			}
			if got.Reason != tt.wantReason {
				t.Errorf("got reason %q; want %q", got.Reason, tt.wantReason)
			}
		})
	}
}

func TestScoreModelFailure(t *testing.T) {
	rs := compileBuiltin(t)
	f := Features{Amount: 12000}
	tests := []struct {
		name    string
		model   Scorer
		wantErr string
	}{
		{"model error", fixedModel{err: errors.New("timeout")}, "engine: model score: timeout"},
		{"above 100", fixedModel{score: 101}, "model score 101 is outside 0..100"},
		{"negative", fixedModel{score: -1}, "model score -1 is outside 0..100"},
		{"NaN", fixedModel{score: math.NaN()}, "model score NaN is outside 0..100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Score(t.Context(), rs, &f, tt.model, DefaultConfig())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got error %v; want one containing %q", err, tt.wantErr)
			}
			if got.MLScore != nil || got.RiskScore != 50 || got.Decision != DecisionPass {
				t.Errorf("got ml %v risk %v %s; want the rules-only result: nil 50 PASS", got.MLScore, got.RiskScore, got.Decision)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	ptr := func(v float64) *float64 { return &v }
	tests := []struct {
		name         string
		ruleScore    int
		ml           *float64
		cfg          Config
		wantRisk     float64
		wantDecision Decision
	}{
		{"zero config means default", 80, nil, Config{}, 80, DecisionReject},
		{"rule score capped", 250, nil, DefaultConfig(), 100, DecisionReject},
		{"negative rule score floored", -5, nil, DefaultConfig(), 0, DecisionPass},
		{"review threshold", 60, nil, DefaultConfig(), 60, DecisionReview},
		{"just below review", 59, nil, DefaultConfig(), 59, DecisionPass},
		{"model clamped", 100, ptr(150), DefaultConfig(), 100, DecisionReject},
		{"NaN model ignored", 50, ptr(math.NaN()), DefaultConfig(), 50, DecisionPass},
		{"custom weights", 50, ptr(100), Config{RuleWeight: 0.5, ModelWeight: 0.5, RejectAt: 90, ReviewAt: 70, MediumAt: 40, HighAt: 80}, 75, DecisionReview},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.ruleScore, tt.ml, nil, tt.cfg)
			if got.RiskScore != tt.wantRisk || got.Decision != tt.wantDecision {
				t.Errorf("got risk %v %s; want %v %s", got.RiskScore, got.Decision, tt.wantRisk, tt.wantDecision)
			}
		})
	}
}

func TestLevelFor(t *testing.T) {
	tests := []struct {
		score float64
		want  Level
	}{
		{0, LevelLow}, {39.99, LevelLow}, {40, LevelMedium}, {79.99, LevelMedium}, {80, LevelHigh}, {100, LevelHigh},
	}
	for _, tt := range tests {
		t.Run(string(tt.want), func(t *testing.T) {
			if got := LevelFor(tt.score, DefaultConfig()); got != tt.want {
				t.Errorf("LevelFor(%v): got %s; want %s", tt.score, got, tt.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	with := func(edit func(*Config)) Config {
		c := DefaultConfig()
		edit(&c)
		return c
	}
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"default", DefaultConfig(), ""},
		{"rules only", with(func(c *Config) { c.RuleWeight, c.ModelWeight = 1, 0 }), ""},
		{"weights not summing to 1", with(func(c *Config) { c.RuleWeight = 0.7 }), "sum to 1.1, want 1"},
		{"negative weight", with(func(c *Config) { c.RuleWeight, c.ModelWeight = -0.5, 1.5 }), "rule weight -0.5 is outside 0..1"},
		{"NaN weight", with(func(c *Config) { c.ModelWeight = math.NaN() }), "model weight NaN is outside 0..1"},
		{"zero threshold", with(func(c *Config) { c.ReviewAt = 0 }), "review threshold 0 is outside (0, 100]"},
		{"threshold above 100", with(func(c *Config) { c.HighAt = 101 }), "high threshold 101 is outside (0, 100]"},
		{"review above reject", with(func(c *Config) { c.ReviewAt = 90 }), "review threshold 90 is above reject threshold 80"},
		{"medium above high", with(func(c *Config) { c.MediumAt = 85 }), "medium threshold 85 is above high threshold 80"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("got %v; want no error", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("got %v; want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestScoreNilRuleSet(t *testing.T) {
	got, err := Score(t.Context(), nil, &Features{Amount: 1e6}, nil, DefaultConfig())
	if err != nil || got.RiskScore != 0 || got.Decision != DecisionPass || got.Matched != nil {
		t.Errorf("got %+v, %v; want an empty PASS", got, err)
	}
}

func TestShadowRuleNeverChangesTheScore(t *testing.T) {
	rules := append(BuiltinRules(),
		Rule{ID: 90, Name: "draft night large", Condition: "amount >= 5000 && hour < 6", Score: 60, Shadow: true},
		Rule{ID: 91, Name: "draft reject", Condition: "amount > 1", Action: ActionReject, Shadow: true})
	withShadow, err := Compile(rules)
	if err != nil {
		t.Fatal(err)
	}
	without, err := Compile(BuiltinRules())
	if err != nil {
		t.Fatal(err)
	}
	for _, amount := range []float64{2, 5000, 12000} {
		f := &Features{Amount: amount, User: UserFeatures{TxCount10m: 5}}
		f.Derive(time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC))
		got, _ := Score(context.Background(), withShadow, f, nil, DefaultConfig())
		want, _ := Score(context.Background(), without, f, nil, DefaultConfig())
		if got.RiskScore != want.RiskScore || got.Decision != want.Decision || got.Level != want.Level || len(got.Matched) != len(want.Matched) {
			t.Fatalf("amount %v: shadow rules changed the result: got %+v, want %+v", amount, got, want)
		}
		if len(got.Shadow) == 0 || !got.Shadow[0].Shadow {
			t.Fatalf("amount %v: shadow matches not reported: %+v", amount, got.Shadow)
		}
	}
}

func TestSuppressionRuleOffsetsAScore(t *testing.T) {
	rs, err := Compile([]Rule{
		{ID: 1, Name: "impossible travel", Condition: "geo.speedKmh > 800", Score: 40},
		{ID: 2, Name: "plausible journey", Condition: "geo.speedKmh > 800 && device.present", Score: -40},
		{ID: 3, Name: "large amount", Condition: "amount >= 10000", Score: 50},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		f       Features
		want    float64
		level   Level
		matched int
	}{
		{Features{Geo: GeoFeatures{SpeedKmh: 900}}, 40, LevelMedium, 1},                                                       // no suppression context
		{Features{Geo: GeoFeatures{SpeedKmh: 900}, Device: DeviceFeatures{Present: true}}, 0, LevelLow, 2},                    // offset
		{Features{Amount: 20000, Device: DeviceFeatures{Present: true}, Geo: GeoFeatures{SpeedKmh: 900}}, 50, LevelMedium, 3}, // only travel's share
	} {
		r, err := Score(context.Background(), rs, &tt.f, nil, DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		if tt.matched > 1 && !strings.Contains(r.Reason, "plausible journey (-40)") {
			t.Errorf("reason %q does not show the suppression", r.Reason)
		}
		if r.RiskScore != tt.want || r.Level != tt.level || len(r.Matched) != tt.matched {
			t.Errorf("%+v: score %v level %s, %d matched; want %v %s %d", tt.f.Geo, r.RiskScore, r.Level, len(r.Matched), tt.want, tt.level, tt.matched)
		}
	}
	// Alone, a suppression rule never takes a score below 0.
	if got := Decide(RuleScore([]Match{{Score: -40}}), nil, nil, DefaultConfig()); got.RiskScore != 0 || got.Level != LevelLow {
		t.Errorf("suppression alone: %+v", got)
	}
	if _, err := Compile([]Rule{{Name: "x", Condition: "amount > 1", Score: -101}}); err == nil {
		t.Error("score -101 compiled")
	}
}

// A REVIEW rule adds its score like a SCORE rule and holds the transaction
// for review whatever the model says; a SCORE rule of the same score is
// fused with the model as DESIGN pins.
func TestScoreReviewAction(t *testing.T) {
	rule := func(action Action) *RuleSet {
		rs, err := Compile([]Rule{
			{ID: 1, Name: "odd for this customer", Condition: `amount >= 500`, Score: 60, Action: action},
			{ID: 2, Name: "usual journey", Condition: `amount >= 900`, Score: -40},
		})
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	tests := []struct {
		name         string
		action       Action
		amount       float64
		model        Scorer
		wantRule     int
		wantRisk     float64
		wantLevel    Level
		wantDecision Decision
		wantReviewed bool
		wantReason   string
	}{
		{"score rule vetoed by a model that never saw the pattern", ActionScore, 600, fixedModel{score: 0}, 60, 36, LevelLow, DecisionPass, false,
			"rules: odd for this customer (+60); rule score 60; model score 0; risk score 36; decision PASS"},
		{"review rule held whatever the model says", ActionReview, 600, fixedModel{score: 0}, 60, 60, LevelMedium, DecisionReview, true,
			"rules: odd for this customer (+60, review); rule score 60; model score 0; risk score 60; held for review by rule; decision REVIEW"},
		{"review rule with a model agreeing scores above the floor", ActionReview, 600, fixedModel{score: 100}, 60, 76, LevelMedium, DecisionReview, true,
			"rules: odd for this customer (+60, review); rule score 60; model score 100; risk score 76; held for review by rule; decision REVIEW"},
		{"review rule without a model", ActionReview, 600, nil, 60, 60, LevelMedium, DecisionReview, true,
			"rules: odd for this customer (+60, review); rule score 60; held for review by rule; decision REVIEW"},
		{"review rule outweighs a suppression rule", ActionReview, 1000, nil, 20, 60, LevelMedium, DecisionReview, true,
			"rules: odd for this customer (+60, review), usual journey (-40); rule score 20; held for review by rule; decision REVIEW"},
		{"review rule not matched", ActionReview, 100, fixedModel{score: 0}, 0, 0, LevelLow, DecisionPass, false,
			"no rule matched; rule score 0; model score 0; risk score 0; decision PASS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Score(t.Context(), rule(tt.action), &Features{Amount: tt.amount}, tt.model, DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			if got.RuleScore != tt.wantRule || got.RiskScore != tt.wantRisk || got.Level != tt.wantLevel ||
				got.Decision != tt.wantDecision || got.Reviewed != tt.wantReviewed || got.Rejected {
				t.Errorf("got rule %d risk %v %s %s reviewed %v rejected %v; want rule %d risk %v %s %s reviewed %v",
					got.RuleScore, got.RiskScore, got.Level, got.Decision, got.Reviewed, got.Rejected,
					tt.wantRule, tt.wantRisk, tt.wantLevel, tt.wantDecision, tt.wantReviewed)
			}
			if got.Reason != tt.wantReason {
				t.Errorf("got reason %q; want %q", got.Reason, tt.wantReason)
			}
		})
	}
	if _, err := Compile([]Rule{{Name: "x", Condition: "true", Action: "HOLD"}}); err == nil || !strings.Contains(err.Error(), "SCORE, REVIEW or REJECT") {
		t.Errorf("unknown action: got %v; want an error naming SCORE, REVIEW or REJECT", err)
	}
}
