package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestRequestLogLinesCarryTheRequestID: a request's access line carries the
// ID its response names (every line logged with its context does:
// internal/requestid tests that).
func TestRequestLogLinesCarryTheRequestID(t *testing.T) {
	e, logs := newEnvWith(t, func(*config) {})
	resp, err := e.srv.Client().Post(e.srv.URL+"/graphql", "application/json",
		strings.NewReader(`{"query":"{ __typename }"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Header.Get("X-Request-ID")
	if resp.StatusCode != http.StatusOK || id == "" {
		t.Fatalf("HTTP %d, X-Request-ID %q", resp.StatusCode, id)
	}
	var lines []string
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, "msg=request ") && strings.Contains(line, "path=/graphql") {
			lines = append(lines, line)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "request_id="+id) {
		t.Fatalf("access lines for the request %s: %q", id, lines)
	}
}
