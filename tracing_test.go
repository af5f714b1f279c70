package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/pgtest"
	"github.com/smartfinance/riskgraph/internal/store"
	"github.com/smartfinance/riskgraph/internal/tracing"
)

// newTracedEnv is an instance that traces into exp (nil: tracing off, as
// by default), its pool opened as server.go opens it, logging JSON to logs.
func newTracedEnv(t testing.TB, exp sdktrace.SpanExporter, logs io.Writer) *testEnv {
	t.Helper()
	_, dbURL := pgtest.New(t)
	pool := store.PoolConfig{MaxOpen: 10, MaxIdle: 10, MaxLifetime: time.Hour}
	if exp != nil {
		pool.Tracer = tracing.DBTracer()
	}
	db, err := store.Open(context.Background(), dbURL, pool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := &testClock{}
	cfg := testConfig(dbURL, clock)
	cfg.Tracing.Exporter = exp
	a, err := newApp(context.Background(), cfg, db, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatalf("newApp: %v", err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		a.Close()
		srv.Close()
	})
	return &testEnv{db: db, url: dbURL, app: a, srv: srv, clock: clock}
}

// TestTracingOneTracePerRequest: a submitTransaction request is one trace:
// the HTTP server span, the GraphQL operation and resolver spans and a span
// per SQL statement beneath them, with no query text or variables recorded;
// the request's log line names the trace.
func TestTracingOneTracePerRequest(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	var logs lockedBuffer
	e := newTracedEnv(t, exp, &logs)
	alice := e.user(t, "alice", domain.RoleUser)
	exp.Reset()

	const doc = `mutation Submit($in: SubmitTransactionInput!) { submitTransaction(input: $in) { transaction { id } detection { decision } } }`
	e.must(t, alice.AccessToken, doc, map[string]any{"in": map[string]any{"amount": "12.50", "merchantId": "m-1"}}, nil)
	var spans tracetest.SpanStubs
	deadline := time.Now().Add(10 * time.Second)
	for {
		spans = exp.GetSpans()
		// The server span ends after the response is written.
		if byName(spans, "POST /graphql") != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}

	root := byName(spans, "POST /graphql")
	if root == nil || root.SpanKind != trace.SpanKindServer || root.Parent.IsValid() {
		t.Fatalf("no root HTTP server span among %v", names(spans))
	}
	traceID := root.SpanContext.TraceID()
	op, field := byName(spans, "Submit"), byName(spans, "Mutation/submitTransaction")
	if op == nil || field == nil {
		t.Fatalf("spans %v: want the operation Submit and the resolver Mutation/submitTransaction", names(spans))
	}
	byID := map[trace.SpanID]tracetest.SpanStub{}
	for _, s := range spans {
		byID[s.SpanContext.SpanID()] = s
		if s.SpanContext.TraceID() != traceID {
			t.Errorf("span %q is in trace %s; want every span in the request's trace %s", s.Name, s.SpanContext.TraceID(), traceID)
		}
		for _, kv := range s.Attributes {
			if k := string(kv.Key); k == "gql.request.query" || strings.HasPrefix(k, "gql.request.variables") || k == "db.query.text" {
				t.Errorf("span %q records %s: request text must not be exported", s.Name, k)
			}
		}
	}
	under := func(s tracetest.SpanStub, ancestor tracetest.SpanStub) bool {
		for p, ok := s.Parent.SpanID(), true; ok; {
			if p == ancestor.SpanContext.SpanID() {
				return true
			}
			var parent tracetest.SpanStub
			parent, ok = byID[p]
			p = parent.Parent.SpanID()
		}
		return false
	}
	if !under(*op, *root) || !under(*field, *op) {
		t.Fatalf("the operation span is not under the HTTP span, or the resolver not under the operation")
	}
	var statements []string
	for _, s := range spans {
		if s.SpanKind == trace.SpanKindClient && under(s, *field) {
			statements = append(statements, s.Name)
		}
	}
	// The pipeline's reads at least (its writes may be committed for a group of requests).
	if len(statements) < 3 {
		t.Fatalf("SQL spans under the resolver: %v; want the submit pipeline's statements", statements)
	}
	t.Logf("SQL spans under the resolver: %v", statements)
	var logged bool
	for line := range strings.SplitSeq(logs.String(), "\n") {
		var entry map[string]any
		if json.Unmarshal([]byte(line), &entry) != nil || entry["msg"] != "request" || entry["path"] != "/graphql" {
			continue
		}
		if entry["trace_id"] == traceID.String() {
			logged = true
		}
	}
	if !logged {
		t.Fatalf("no request log line carries trace_id %s:\n%s", traceID, logs.String())
	}
}

func byName(spans tracetest.SpanStubs, name string) *tracetest.SpanStub {
	for i := range spans {
		if spans[i].Name == name {
			return &spans[i]
		}
	}
	return nil
}

func names(spans tracetest.SpanStubs) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name
	}
	return out
}

// TestTracingOffByDefault: without OTEL_EXPORTER_OTLP_ENDPOINT the instance
// has a no-op provider, no exporter, and the handler is not wrapped.
func TestTracingOffByDefault(t *testing.T) {
	cfg, _, err := loadConfig(func(k string) string { return map[string]string{"DATABASE_URL": "postgres://x/y"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Tracing.Enabled() {
		t.Fatal("tracing enabled with no endpoint set")
	}
	_, _, err = loadConfig(func(k string) string {
		return map[string]string{"DATABASE_URL": "postgres://x/y", "OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}[k]
	})
	if err == nil || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_ENDPOINT") {
		t.Fatalf("endpoint without a scheme: got %v, want a configuration error", err)
	}
	var logs lockedBuffer
	e := newTracedEnv(t, nil, &logs)
	if e.app.tracer.Enabled() {
		t.Fatal("the instance traces with no endpoint set")
	}
	alice := e.user(t, "alice", domain.RoleUser)
	e.must(t, alice.AccessToken, `{ me { id } }`, nil, nil)
	if strings.Contains(logs.String(), "trace_id") {
		t.Fatalf("log lines carry a trace id with tracing off:\n%s", logs.String())
	}
}

// BenchmarkTracedRequest: one authenticated query with tracing off (the
// default) and on (every span exported to a discarding exporter).
func BenchmarkTracedRequest(b *testing.B) {
	for _, tt := range []struct {
		name string
		exp  sdktrace.SpanExporter
	}{{"off", nil}, {"on", tracetest.NewNoopExporter()}} {
		b.Run(tt.name, func(b *testing.B) {
			e := newTracedEnv(b, tt.exp, io.Discard)
			s := e.user(b, "bench", domain.RoleUser)
			for b.Loop() {
				if res := e.post(b, s.AccessToken, `{ me { id } }`, nil); res.code() != "" {
					b.Fatal(res.Errors)
				}
			}
		})
	}
}
