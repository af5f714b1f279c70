package tracing

import (
	"context"
	"strings"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
	"go.opentelemetry.io/otel/trace/noop"
)

// DBTracer makes each SQL statement a span (otelpgx), a child of the span in
// its context. It starts spans with that parent's own provider, so the pool
// can be opened before any provider exists and serve several; a statement
// outside any recorded span costs no span at all.
//
// The statement's text is left out: bun inlines argument values into it,
// so it would carry amounts, addresses and password hashes. The span is
// named by its operation and table ("SELECT transactions") instead.
func DBTracer() pgx.QueryTracer {
	return otelpgx.NewTracer(otelpgx.WithTracerProvider(parentProvider{}),
		otelpgx.WithDisableSQLStatementInAttributes(), otelpgx.WithSpanNameFunc(statementName))
}

// parentProvider hands out a tracer that starts each span with the provider
// of the span already in the context.
type parentProvider struct{ embedded.TracerProvider }

func (parentProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return parentTracer{name: name, opts: opts}
}

type parentTracer struct {
	embedded.Tracer
	name string
	opts []trace.TracerOption
}

func (t parentTracer) Start(ctx context.Context, spanName string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return noop.NewTracerProvider().Tracer("").Start(ctx, spanName, opts...)
	}
	return parent.TracerProvider().Tracer(t.name, t.opts...).Start(ctx, spanName, opts...)
}

// statementName is the statement's operation and first table, e.g.
// "INSERT transactions": low-cardinality and free of values. A prepared
// statement run by name keeps its name, which says what it does
// ("riskgraph_submit_features").
func statementName(sql string) string {
	words := strings.Fields(sql)
	if len(words) == 0 {
		return "SQL"
	}
	op := strings.ToUpper(words[0])
	after, keyword := sqlKeywords[op]
	if !keyword {
		return words[0]
	}
	for i, w := range words[:len(words)-1] {
		if after != "" && strings.EqualFold(w, after) && (op != "UPDATE" || i == 0) {
			if table := strings.Trim(words[i+1], `"();`); table != "" && !strings.ContainsAny(table, "'$") {
				return op + " " + table
			}
			break
		}
	}
	return op
}

// sqlKeywords are the statements' leading keywords, each with the word its table follows, if any.
var sqlKeywords = map[string]string{
	"SELECT": "FROM", "DELETE": "FROM", "INSERT": "INTO", "UPDATE": "UPDATE",
	"WITH": "", "BEGIN": "", "COMMIT": "", "ROLLBACK": "", "SAVEPOINT": "", "RELEASE": "", "SET": "", "SHOW": "",
	"LISTEN": "", "UNLISTEN": "", "NOTIFY": "", "LOCK": "", "COPY": "", "TRUNCATE": "", "VALUES": "",
	"CREATE": "", "ALTER": "", "DROP": "", "PREPARE": "", "EXECUTE": "", "DEALLOCATE": "", "DO": "",
}
