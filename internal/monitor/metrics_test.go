package monitor_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor/testexecutor"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/monitor"
)

// gather reads every sample as "name{label=value,…}" → value; histograms
// give their sample count under name_count.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			key := f.GetName() + "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				out[f.GetName()+"_count{"+strings.Join(labels, ",")+"}"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

func TestScoredMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := monitor.NewMetrics(reg, func() int { return 7 })
	rule := func(name string) domain.MatchedRule { return domain.MatchedRule{Name: name} }
	detections := []*domain.Detection{
		{RiskLevel: domain.RiskLow, Decision: domain.DecisionPass},
		{RiskLevel: domain.RiskMedium, Decision: domain.DecisionReview, MatchedRules: []domain.MatchedRule{rule("large amount")}},
		{RiskLevel: domain.RiskHigh, Decision: domain.DecisionReject, MatchedRules: []domain.MatchedRule{rule("large amount"), rule("high velocity")}},
		{RiskLevel: domain.RiskHigh, Decision: domain.DecisionReject, MatchedRules: []domain.MatchedRule{rule("blacklisted device")}},
	}
	for _, d := range detections {
		m.Scored(d, 20*time.Microsecond, 3*time.Millisecond)
		m.Staged(700*time.Microsecond, 45*time.Microsecond)
	}

	got := gather(t, reg)
	want := map[string]float64{
		"riskgraph_decisions_total{decision=PASS,level=LOW}":      1,
		"riskgraph_decisions_total{decision=REVIEW,level=MEDIUM}": 1,
		"riskgraph_decisions_total{decision=REJECT,level=HIGH}":   2,
		"riskgraph_rule_hits_total{rule=large amount}":            2,
		"riskgraph_rule_hits_total{rule=high velocity}":           1,
		"riskgraph_rule_hits_total{rule=blacklisted device}":      1,
		"riskgraph_alerts_raised_total{level=MEDIUM}":             1,
		"riskgraph_alerts_raised_total{level=HIGH}":               2,
		"riskgraph_scoring_seconds_count{}":                       4,
		"riskgraph_engine_seconds_count{}":                        4,
		"riskgraph_submit_feature_read_seconds_count{}":           4,
		"riskgraph_submit_score_seconds_count{}":                  4,
		"riskgraph_subscribers{}":                                 7,
	}
	for key, w := range want {
		if g, ok := got[key]; !ok || g != w {
			t.Errorf("%s: got %v (present %v); want %v", key, g, ok, w)
		}
	}
	if g, ok := got["riskgraph_alerts_raised_total{level=LOW}"]; ok {
		t.Errorf("LOW alerts: got %v; want no series", g)
	}
}

func TestLatencyPercentiles(t *testing.T) {
	durations := func(fromMs, toMs int) []time.Duration {
		var ds []time.Duration
		for ms := fromMs; ms <= toMs; ms++ {
			ds = append(ds, time.Duration(ms)*time.Millisecond)
		}
		return ds
	}
	// Percentiles must not depend on the order samples arrive in.
	shuffled := func(fromMs, toMs int) []time.Duration {
		ds := durations(fromMs, toMs)
		rand.Shuffle(len(ds), func(i, j int) { ds[i], ds[j] = ds[j], ds[i] })
		return ds
	}
	tests := []struct {
		name    string
		samples []time.Duration
		want    domain.LatencyPercentiles
	}{
		{"none", nil, domain.LatencyPercentiles{}},
		{"one", []time.Duration{1500 * time.Microsecond}, domain.LatencyPercentiles{Samples: 1, P50: 1.5, P95: 1.5, P99: 1.5}},
		{"1 to 100 ms", shuffled(1, 100), domain.LatencyPercentiles{Samples: 100, P50: 50, P95: 95, P99: 99}},
		{"1 to 10 ms", shuffled(1, 10), domain.LatencyPercentiles{Samples: 10, P50: 5, P95: 10, P99: 10}},
		// The window holds the newest 4096 samples: 905 … 5000 ms.
		{"window keeps the newest", durations(1, 5000), domain.LatencyPercentiles{Samples: 4096, P50: 2952, P95: 4796, P99: 4960}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := monitor.NewMetrics(prometheus.NewRegistry(), func() int { return 0 })
			d := &domain.Detection{RiskLevel: domain.RiskLow, Decision: domain.DecisionPass}
			for _, s := range tt.samples {
				m.Scored(d, s/1000, s)
			}
			if got := *m.ScoringLatency(); got != tt.want {
				t.Errorf("scoring: got %+v; want %+v", got, tt.want)
			}
			wantEngine := tt.want
			wantEngine.P50, wantEngine.P95, wantEngine.P99 = tt.want.P50/1000, tt.want.P95/1000, tt.want.P99/1000
			if got := *m.EngineLatency(); got != wantEngine {
				t.Errorf("engine: got %+v; want %+v", got, wantEngine)
			}
		})
	}
}

func TestGraphQLExtension(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := monitor.NewMetrics(reg, func() int { return 0 })
	exec := testexecutor.New()
	exec.Use(m.Extension())

	tests := []struct {
		name, query, operation, outcome string
	}{
		{"two root fields, named operation", `query ClientChosenName { name find(id: 1) }`, "query.find+name", "ok"},
		{"aliases of one field", `{ a: name b: name }`, "query.name", "ok"},
		{"fragments", `query { ...Root ... on Query { find(id: 2) } } fragment Root on Query { user { id } }`, "query.find+user", "ok"},
		{"capped at three root fields", `{ name find(id: 1) user { id } __typename }`, "query.__typename+find+name+…", "ok"},
		{"error", `mutation Anything { name }`, "mutation.name", "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := graphql.StartOperationTrace(context.Background())
			opCtx, errs := exec.CreateOperationContext(ctx, &graphql.RawParams{Query: tt.query})
			if errs != nil {
				t.Fatalf("operation context: %v", errs)
			}
			handler, ctx := exec.DispatchOperation(ctx, opCtx)
			if resp := handler(ctx); resp == nil {
				t.Fatal("no response")
			}
			got := gather(t, reg)
			key := fmt.Sprintf("riskgraph_graphql_requests_total{operation=%s,outcome=%s}", tt.operation, tt.outcome)
			if got[key] != 1 {
				t.Errorf("%s: got %v; want 1 (have %v)", key, got[key], keys(got, "riskgraph_graphql_requests_total"))
			}
			key = fmt.Sprintf("riskgraph_graphql_request_seconds_count{operation=%s}", tt.operation)
			if got[key] != 1 {
				t.Errorf("%s: got %v; want 1", key, got[key])
			}
		})
	}
}

func keys(m map[string]float64, prefix string) []string {
	var out []string
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
