// Package tracing is the service's OpenTelemetry set-up: a tracer provider
// that exports over OTLP when an endpoint is configured and is a no-op
// otherwise, the instrumentation of each layer (HTTP, GraphQL, SQL), and the
// trace id in log lines.
//
// Nothing here is global: each app instance holds its own Provider, so
// several instances (tests) can trace side by side.
package tracing

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/ravilushqa/otelgqlgen"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// ServiceName names this service in every exported span's resource.
const ServiceName = "riskgraph"

// Config switches tracing on.
type Config struct {
	// Endpoint is OTEL_EXPORTER_OTLP_ENDPOINT: when set, spans are exported
	// over OTLP/HTTP. The exporter reads it (and the other standard
	// OTEL_EXPORTER_OTLP_* variables) itself, as the specification has it.
	Endpoint string
	// Exporter, when set, receives every span synchronously instead of OTLP
	// (tests use an in-memory one).
	Exporter sdktrace.SpanExporter
}

// Enabled reports whether spans are recorded at all.
func (c Config) Enabled() bool { return c.Endpoint != "" || c.Exporter != nil }

// Propagator reads and writes W3C trace context and baggage.
var Propagator propagation.TextMapPropagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// Provider is one instance's tracer provider.
type Provider struct {
	trace.TracerProvider
	sdk *sdktrace.TracerProvider // nil when tracing is off
}

// New builds the provider: a no-op one, with no exporter and nothing
// started, unless cfg is enabled.
func New(ctx context.Context, cfg Config, version string) (*Provider, error) {
	if !cfg.Enabled() {
		return &Provider{TracerProvider: noop.NewTracerProvider()}, nil
	}
	// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, when set, override the defaults.
	res, err := resource.New(ctx, resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithAttributes(semconv.ServiceName(ServiceName), semconv.ServiceVersion(version)),
		resource.WithTelemetrySDK(), resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if cfg.Exporter != nil {
		opts = append(opts, sdktrace.WithSyncer(redacted{cfg.Exporter}))
	} else {
		exp, err := otlptracehttp.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(redacted{exp}))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	return &Provider{TracerProvider: tp, sdk: tp}, nil
}

// Enabled reports whether spans are recorded and exported.
func (p *Provider) Enabled() bool { return p.sdk != nil }

// Shutdown exports what is buffered and stops the exporter.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p.sdk == nil {
		return nil
	}
	return p.sdk.Shutdown(ctx)
}

// Handler traces each HTTP request as a server span (the root of its trace,
// or a child of the caller's traceparent). Off, it returns next unwrapped.
func (p *Provider) Handler(next http.Handler) http.Handler {
	if p.sdk == nil {
		return next
	}
	return otelhttp.NewHandler(next, "http",
		otelhttp.WithTracerProvider(p), otelhttp.WithPropagators(Propagator),
		// A websocket lives for hours and probes are noise: neither is a trace.
		otelhttp.WithFilter(func(r *http.Request) bool {
			return r.Header.Get("Upgrade") == "" && r.URL.Path != "/healthz" && r.URL.Path != "/readyz" && r.URL.Path != "/metrics"
		}),
		// Every unknown path is the console's: name spans by the route, not the raw path.
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			route := "/"
			if r.URL.Path == "/graphql" || r.URL.Path == "/playground" {
				route = r.URL.Path
			}
			return r.Method + " " + route
		}))
}

// GraphQL is gqlgen's OpenTelemetry extension: a span per operation and per
// resolver (fields served straight from a struct get none); nil when off.
// Variables are never recorded: they carry passwords and tokens.
func (p *Provider) GraphQL() graphql.HandlerExtension {
	if p.sdk == nil {
		return nil
	}
	return otelgqlgen.Middleware(otelgqlgen.WithTracerProvider(p), otelgqlgen.WithoutVariables(),
		otelgqlgen.WithCreateSpanFromFields(func(fc *graphql.FieldContext) bool { return fc.IsResolver }))
}

// redacted drops what the GraphQL extension records from the request's
// text before export: a document or an argument may hold a literal password.
type redacted struct{ sdktrace.SpanExporter }

func (r redacted) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	out := make([]sdktrace.ReadOnlySpan, len(spans))
	for i, s := range spans {
		out[i] = withoutDocument{s}
	}
	return r.SpanExporter.ExportSpans(ctx, out)
}

type withoutDocument struct{ sdktrace.ReadOnlySpan }

// Attributes leaves out the document and the resolver arguments.
func (s withoutDocument) Attributes() []attribute.KeyValue {
	all := s.ReadOnlySpan.Attributes()
	kept := make([]attribute.KeyValue, 0, len(all))
	for _, kv := range all {
		if kv.Key == "gql.request.query" || strings.HasPrefix(string(kv.Key), "gql.resolver.args.") {
			continue
		}
		kept = append(kept, kv)
	}
	return kept
}
