package fraudmodel

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"testing"

	"gonum.org/v1/gonum/integrate"
	"gonum.org/v1/gonum/stat"

	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestAUC(t *testing.T) {
	tests := []struct {
		name  string
		p     []float64
		fraud []bool
		want  float64
	}{
		{"perfect", []float64{0.9, 0.1, 0.8, 0.2, 0.3}, []bool{true, false, true, false, false}, 1},
		{"reversed", []float64{0.1, 0.9, 0.2}, []bool{true, false, true}, 0},
		{"all tied", []float64{0.5, 0.5, 0.5, 0.5}, []bool{true, false, false, true}, 0.5},
		// gonum's ExampleROC_aUC_unweighted.
		{"gonum example", []float64{0.1, 0.35, 0.4, 0.8}, []bool{true, false, true, false}, 0.25},
		// One fraud ties one legitimate and beats the other: (1 + 0.5)/2.
		{"partial tie", []float64{0.7, 0.7, 0.2}, []bool{true, false, false}, 0.75},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := auc(slices.Clone(tt.p), slices.Clone(tt.fraud)); got != tt.want {
				t.Errorf("auc: got %v; want exactly %v", got, tt.want)
			}
		})
	}
}

// TestAUCMatchesGonum checks the pair count against the trapezoid under
// gonum's ROC curve on random scores with ties.
func TestAUCMatchesGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		n := 2 + rng.IntN(300)
		p, fraud := make([]float64, n), make([]bool, n)
		for i := range n {
			// Scores on a coarse grid, so ties are common.
			p[i], fraud[i] = float64(rng.IntN(20))/20, rng.IntN(4) == 0
		}
		fraud[0], fraud[1] = true, false
		got := auc(slices.Clone(p), slices.Clone(fraud))
		stat.SortWeightedLabeled(p, fraud, nil)
		tpr, fpr, _ := stat.ROC(nil, p, fraud, nil)
		if want := integrate.Trapezoidal(fpr, tpr); math.Abs(got-want) > 1e-12 {
			t.Fatalf("trial %d: auc %v; gonum trapezoid %v", trial, got, want)
		}
	}
}

// handModel has known parameters, so contributions can be computed by hand.
func handModel() *domain.Model {
	return &domain.Model{
		ID: 4, Version: 4, Algorithm: domain.ModelLogisticRegression,
		FeatureNames: []string{"log1p(amount)", "device.new", "sin(hour)", "user.vip", "log1p(user.txCount10m)", "user.knownMerchant", "device.abnormal"},
		Coefficients: []float64{2, 0.5, -1, 3, 0.25, 0.5, -0.2},
		Intercept:    -1,
		Means:        []float64{0, 0, 0, 0, math.Log1p(1), 0, 0},
		Stds:         []float64{1, 1, 1, 1, 0.5, 1, 1},
	}
}

func handFeatures() *engine.Features {
	return &engine.Features{
		Amount: math.Expm1(3), Hour: 6,
		User:   engine.UserFeatures{TxCount10m: 3, KnownMerchant: true},
		Device: engine.DeviceFeatures{ID: "fp", Present: true, New: true, Status: "ABNORMAL"},
	}
}

func TestExplain(t *testing.T) {
	s, err := Load(handModel())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	version, got := s.Explain(handFeatures())
	if version != "v4" {
		t.Errorf("version: got %q; want v4", version)
	}
	// user.vip contributes 0 and is left out; device.abnormal (−0.2) is sixth.
	// device.new and user.knownMerchant tie at 0.5 and keep the model's order.
	want := []domain.ModelContribution{
		{Feature: "log1p(amount)", Value: 3, Contribution: 6},
		{Feature: "sin(hour)", Value: 1, Contribution: -1},
		{Feature: "device.new", Value: 1, Contribution: 0.5},
		{Feature: "user.knownMerchant", Value: 1, Contribution: 0.5},
		{Feature: "log1p(user.txCount10m)", Value: math.Log1p(3), Contribution: 0.25 * (math.Log1p(3) - math.Log1p(1)) / 0.5},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d contributions %+v; want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i].Feature != want[i].Feature || !near(got[i].Value, want[i].Value) || !near(got[i].Contribution, want[i].Contribution) {
			t.Errorf("contribution %d: got %+v; want %+v", i, got[i], want[i])
		}
	}

	z := -1.0
	for _, c := range want {
		z += c.Contribution
	}
	z += -0.2 // device.abnormal, scored though not listed
	score, err := s.Score(t.Context(), handFeatures())
	if err != nil {
		t.Fatalf("Score: %v", err)
	}
	if wantScore := math.Round(10000/(1+math.Exp(-z))) / 100; score != wantScore {
		t.Errorf("score: got %v; want %v", score, wantScore)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12 }

func TestLoadRefuses(t *testing.T) {
	tests := []struct {
		name   string
		change func(m *domain.Model)
	}{
		{"unknown algorithm", func(m *domain.Model) { m.Algorithm = "GBT" }},
		{"unknown feature", func(m *domain.Model) { m.FeatureNames[1] = "device.colour" }},
		{"missing coefficient", func(m *domain.Model) { m.Coefficients = m.Coefficients[1:] }},
		{"zero std", func(m *domain.Model) { m.Stds[2] = 0 }},
		{"NaN mean", func(m *domain.Model) { m.Means[0] = math.NaN() }},
		{"infinite intercept", func(m *domain.Model) { m.Intercept = math.Inf(1) }},
		{"no features", func(m *domain.Model) { m.FeatureNames, m.Coefficients, m.Means, m.Stds = nil, nil, nil, nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := handModel()
			tt.change(m)
			if s, err := Load(m); err == nil {
				t.Errorf("Load: got %v, nil error; want an error", s)
			}
		})
	}
}

// TestNoModelIsRulesOnly checks that a nil Scorer gives the engine no model
// at all, so scoring is exactly what it was before models existed.
func TestNoModelIsRulesOnly(t *testing.T) {
	var none *Scorer
	if none.Engine() != nil {
		t.Fatal("(*Scorer)(nil).Engine(): got a non-nil interface; want nil")
	}
	rs, err := engine.Compile(engine.BuiltinRules())
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	f := handFeatures()
	f.Amount = 12000
	want, wantErr := engine.Score(context.Background(), rs, f, nil, engine.Config{})
	got, err := engine.Score(context.Background(), rs, f, none.Engine(), engine.Config{})
	if err != nil || wantErr != nil {
		t.Fatalf("Score: got error %v, rules-only error %v; want none", err, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v; want the rules-only %+v", got, want)
	}
	if got.MLScore != nil {
		t.Errorf("MLScore: got %v; want nil", *got.MLScore)
	}

	// With a model, the same call fuses its score.
	s, err := Load(handModel())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	fused, err := engine.Score(context.Background(), rs, f, s.Engine(), engine.Config{})
	if err != nil || fused.MLScore == nil {
		t.Fatalf("Score with a model: got MLScore %v, error %v; want a score", fused.MLScore, err)
	}
}

// The anomaly model's score is one of the fraud model's inputs and is
// explained like any other.
func TestAnomalyScoreFeature(t *testing.T) {
	s, err := Load(&domain.Model{Version: 1, Algorithm: domain.ModelLogisticRegression, FeatureNames: []string{"log1p(amount)", "anomalyScore"},
		Coefficients: []float64{0.5, 2}, Means: []float64{3, 0.5}, Stds: []float64{1, 0.1}})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	_, got := s.Explain(&engine.Features{Amount: math.E - 1, AnomalyScore: 0.8})
	want := []domain.ModelContribution{{Feature: "anomalyScore", Value: 0.8, Contribution: 2 * (0.8 - 0.5) / 0.1}, {Feature: "log1p(amount)", Value: 1, Contribution: 0.5 * (1 - 3)}}
	if len(got) != 2 || got[0].Feature != want[0].Feature || !near(got[0].Contribution, want[0].Contribution) || !near(got[1].Value, want[1].Value) ||
		!near(got[1].Contribution, want[1].Contribution) {
		t.Fatalf("explanation: got %+v; want %+v", got, want)
	}
}
