package requestid

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestEveryLineOfARequestCarriesItsID(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(LogHandler(slog.NewTextHandler(&logs, nil))).With("component", "test")
	h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.InfoContext(r.Context(), "first")
		log.WithGroup("g").ErrorContext(r.Context(), "second", "k", 1)
	}))
	for _, tt := range []struct {
		sent string
		kept bool
	}{
		{"", false},
		{"proxy-7f3a.1_x", true},
		{"bad id\nlevel=ERROR msg=forged", false},
		{strings.Repeat("a", 65), false},
	} {
		logs.Reset()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if tt.sent != "" {
			req.Header.Set(Header, tt.sent)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		id := rec.Header().Get(Header)
		if id == "" || (id == tt.sent) != tt.kept {
			t.Fatalf("sent %q: answered ID %q, want kept=%v", tt.sent, id, tt.kept)
		}
		if got := strings.Count(logs.String(), "request_id="+id); got != 2 {
			t.Fatalf("sent %q: %d of 2 lines carry request_id=%s:\n%s", tt.sent, got, id, logs.String())
		}
	}
	logs.Reset()
	log.Info("outside a request")
	if strings.Contains(logs.String(), "request_id") {
		t.Fatalf("a line outside any request has an ID: %s", logs.String())
	}
}
