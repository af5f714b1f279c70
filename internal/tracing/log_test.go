package tracing

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func TestLogHandlerAddsTraceID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewTextHandler(&buf, nil)))
	ctx, span := sdktrace.NewTracerProvider().Tracer("test").Start(context.Background(), "op")
	defer span.End()
	log.InfoContext(ctx, "inside")
	log.InfoContext(context.Background(), "outside")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if want := "trace_id=" + span.SpanContext().TraceID().String(); !strings.Contains(lines[0], want) || !strings.Contains(lines[0], "span_id=") {
		t.Errorf("inside a span: %q; want %s and a span_id", lines[0], want)
	}
	if strings.Contains(lines[1], "trace_id") {
		t.Errorf("outside any span: %q; want no trace_id", lines[1])
	}
}

// BenchmarkLogHandler is what tracing costs a log line when it is off: a
// context look-up that finds no span.
func BenchmarkLogHandler(b *testing.B) {
	for _, tt := range []struct {
		name string
		h    slog.Handler
	}{{"plain", slog.NewTextHandler(io.Discard, nil)}, {"wrapped", LogHandler(slog.NewTextHandler(io.Discard, nil))}} {
		b.Run(tt.name, func(b *testing.B) {
			log := slog.New(tt.h)
			ctx := context.Background()
			for b.Loop() {
				log.InfoContext(ctx, "request", "path", "/graphql", "status", 200)
			}
		})
	}
}
