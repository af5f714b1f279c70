package monitor

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// windowSize is how many recent submissions the latency percentiles cover.
const windowSize = 4096

// maxRootFields caps the root fields named in an operation label.
const maxRootFields = 3

// Metrics holds the Prometheus collectors and this instance's recent latencies.
type Metrics struct {
	decisions      *prometheus.CounterVec
	ruleHits       *prometheus.CounterVec
	alerts         *prometheus.CounterVec
	scoringSeconds prometheus.Histogram
	engineSeconds  prometheus.Histogram
	requests       *prometheus.CounterVec
	requestSeconds *prometheus.HistogramVec
	batchSize      prometheus.Histogram
	featureRead    prometheus.Histogram
	score          prometheus.Histogram

	scoring window
	engine  window
}

// NewMetrics registers the collectors on reg; subscribers reports the live
// alert subscriptions for the riskgraph_subscribers gauge.
func NewMetrics(reg prometheus.Registerer, subscribers func() int) *Metrics {
	f := promauto.With(reg)
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "riskgraph_subscribers",
		Help: "Live alertRaised subscriptions on this instance.",
	}, func() float64 { return float64(subscribers()) })
	return &Metrics{
		decisions: f.NewCounterVec(prometheus.CounterOpts{
			Name: "riskgraph_decisions_total",
			Help: "Committed detections by decision and risk level.",
		}, []string{"decision", "level"}),
		ruleHits: f.NewCounterVec(prometheus.CounterOpts{
			Name: "riskgraph_rule_hits_total",
			Help: "Rule matches in committed detections, by rule name.",
		}, []string{"rule"}),
		alerts: f.NewCounterVec(prometheus.CounterOpts{
			Name: "riskgraph_alerts_raised_total",
			Help: "Alerts raised by committed detections, by level.",
		}, []string{"level"}),
		scoringSeconds: f.NewHistogram(prometheus.HistogramOpts{
			Name: "riskgraph_scoring_seconds",
			Help: "Whole submitTransaction pipeline time.",
			// 0.5 ms to about 4 s: a submission is a few database round trips.
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		engineSeconds: f.NewHistogram(prometheus.HistogramOpts{
			Name: "riskgraph_engine_seconds",
			Help: "Rule engine time per submission.",
			// 1 µs to about 1 s: the engine works in memory in microseconds.
			Buckets: prometheus.ExponentialBuckets(0.000001, 4, 11),
		}),
		requests: f.NewCounterVec(prometheus.CounterOpts{
			Name: "riskgraph_graphql_requests_total",
			Help: "GraphQL responses by operation (type and root fields) and outcome (ok or error).",
		}, []string{"operation", "outcome"}),
		requestSeconds: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "riskgraph_graphql_request_seconds",
			Help:    "GraphQL query and mutation time by operation.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation"}),
		batchSize: f.NewHistogram(prometheus.HistogramOpts{
			Name: "riskgraph_submit_batch_size",
			Help: "Submissions per group commit (1: written alone).",
			// 1 to 512: GROUP_COMMIT_MAX_SIZE is at most 1000.
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		featureRead: f.NewHistogram(prometheus.HistogramOpts{
			Name: "riskgraph_submit_feature_read_seconds",
			Help: "Feature read time per committed submission: the feature statement's round trip; " +
				"in a group commit, the one statement for all members divided by the group size.",
			// 50 µs to 500 ms in steps of about √2, fine enough for bucketed quantiles.
			Buckets: prometheus.ExponentialBucketsRange(0.00005, 0.5, 28),
		}),
		score: f.NewHistogram(prometheus.HistogramOpts{
			Name: "riskgraph_submit_score_seconds",
			Help: "Scoring time per committed submission in the server: completing the feature vector, " +
				"the anomaly model, the rule engine with the fraud model, and building the rows to write.",
			// 5 µs to 50 ms in steps of about √2.
			Buckets: prometheus.ExponentialBucketsRange(0.000005, 0.05, 28),
		}),
	}
}

// Batched records the size of a group commit (submit.BatchObserver).
func (m *Metrics) Batched(size int) { m.batchSize.Observe(float64(size)) }

// Staged records a committed submission's feature read and scoring time
// (submit.StageObserver).
func (m *Metrics) Staged(featureRead, scoring time.Duration) {
	m.featureRead.Observe(featureRead.Seconds())
	m.score.Observe(scoring.Seconds())
}

// Scored records a committed detection: engine is the rule engine's time,
// total the whole submission's.
func (m *Metrics) Scored(d *domain.Detection, engine, total time.Duration) {
	m.decisions.WithLabelValues(string(d.Decision), string(d.RiskLevel)).Inc()
	for _, r := range d.MatchedRules {
		m.ruleHits.WithLabelValues(r.Name).Inc()
	}
	if d.RiskLevel.Rank() >= domain.RiskMedium.Rank() {
		m.alerts.WithLabelValues(string(d.RiskLevel)).Inc()
	}
	m.scoringSeconds.Observe(total.Seconds())
	m.engineSeconds.Observe(engine.Seconds())
	m.scoring.add(milliseconds(total))
	m.engine.add(milliseconds(engine))
}

// ScoringLatency is the whole pipeline's latency over recent submissions, in ms.
func (m *Metrics) ScoringLatency() *domain.LatencyPercentiles { return m.scoring.percentiles() }

// EngineLatency is the rule engine's latency over recent submissions, in ms.
func (m *Metrics) EngineLatency() *domain.LatencyPercentiles { return m.engine.percentiles() }

func milliseconds(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// window is a ring of the most recent samples.
type window struct {
	mu      sync.Mutex
	samples [windowSize]float64
	n       int // samples held, up to windowSize
	next    int // where the next sample goes
}

func (w *window) add(v float64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.samples[w.next] = v
	w.next = (w.next + 1) % windowSize
	w.n = min(w.n+1, windowSize)
}

// percentiles uses the nearest-rank method, so every figure is a real sample.
func (w *window) percentiles() *domain.LatencyPercentiles {
	w.mu.Lock()
	sorted := slices.Clone(w.samples[:w.n])
	w.mu.Unlock()
	slices.Sort(sorted)
	out := &domain.LatencyPercentiles{Samples: len(sorted)}
	if len(sorted) == 0 {
		return out
	}
	rank := func(pct int) float64 { return sorted[(pct*len(sorted)+99)/100-1] }
	out.P50, out.P95, out.P99 = rank(50), rank(95), rank(99)
	return out
}

// Extension measures every GraphQL operation response; add it with handler.Use.
func (m *Metrics) Extension() graphql.HandlerExtension { return graphqlMetrics{m} }

type graphqlMetrics struct{ m *Metrics }

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = graphqlMetrics{}

func (graphqlMetrics) ExtensionName() string { return "Metrics" }

func (graphqlMetrics) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse counts each response and times queries and mutations. A
// subscription's responses are counted but not timed: each one waits for an
// event, which says nothing about how long the server worked.
func (g graphqlMetrics) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	resp := next(ctx)
	if resp == nil { // a finished stream, not a response
		return resp
	}
	op := graphql.GetOperationContext(ctx).Operation
	if op == nil { // the document failed to parse or validate
		g.m.requests.WithLabelValues("invalid", "error").Inc()
		return resp
	}
	label := operationLabel(op)
	outcome := "ok"
	if len(resp.Errors) > 0 {
		outcome = "error"
	}
	g.m.requests.WithLabelValues(label, outcome).Inc()
	if op.Operation != ast.Subscription {
		g.m.requestSeconds.WithLabelValues(label).Observe(time.Since(start).Seconds())
	}
	return resp
}

// operationLabel names an operation by its type and sorted root field names,
// e.g. "mutation.submitTransaction". Validated operations only select schema
// fields, so unlike the client-chosen operation name the label set is bounded.
func operationLabel(op *ast.OperationDefinition) string {
	var names []string
	rootFields(op.SelectionSet, map[string]bool{}, &names)
	slices.Sort(names)
	names = slices.Compact(names)
	if len(names) > maxRootFields {
		names = append(names[:maxRootFields], "…")
	}
	return string(op.Operation) + "." + strings.Join(names, "+")
}

// rootFields collects the field names of a selection set, looking through
// fragments; seen guards against fragment cycles.
func rootFields(set ast.SelectionSet, seen map[string]bool, names *[]string) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			*names = append(*names, s.Name)
		case *ast.InlineFragment:
			rootFields(s.SelectionSet, seen, names)
		case *ast.FragmentSpread:
			if s.Definition != nil && !seen[s.Name] {
				seen[s.Name] = true
				rootFields(s.Definition.SelectionSet, seen, names)
			}
		}
	}
}
