package pubsub

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/smartfinance/riskgraph/internal/domain"
)

func TestAlertPayload(t *testing.T) {
	tests := []struct {
		name           string
		title, message string
		wantTruncated  bool
	}{
		{"short", "large amount", "user 7 paid 12,000 CNY", false},
		{"long message", "t", strings.Repeat("x", 20000), true},
		// JSON spells '<' as \u003c: six bytes of payload per byte of text.
		{"long escaped message", "t", strings.Repeat("<", 5000), true},
		{"long multibyte message", "t", strings.Repeat("风险", 3000), true},
		{"long title and message", strings.Repeat("标题", 3000), strings.Repeat("m", 9000), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &domain.Alert{ID: 42, EventID: 7, Level: domain.RiskHigh, Status: domain.AlertNew, Title: tt.title, Message: tt.message}
			payload, err := alertPayload(a)
			if err != nil {
				t.Fatalf("alertPayload: %v", err)
			}
			if len(payload) >= maxPayload {
				t.Errorf("got payload of %d bytes; want < %d", len(payload), maxPayload)
			}
			var got domain.Alert
			if err := json.Unmarshal([]byte(payload), &got); err != nil {
				t.Fatalf("payload is not an alert: %v", err)
			}
			if got.ID != a.ID || got.EventID != a.EventID || got.Level != a.Level || got.Status != a.Status {
				t.Errorf("got %+v; want the ids, level and status of %+v", got, a)
			}
			if a.Title != tt.title || a.Message != tt.message {
				t.Error("alertPayload changed the caller's alert")
			}
			for _, f := range []struct{ name, got, orig string }{{"title", got.Title, tt.title}, {"message", got.Message, tt.message}} {
				if !utf8.ValidString(f.got) {
					t.Errorf("%s is not valid UTF-8 after truncation", f.name)
				}
				if !strings.HasPrefix(f.orig, strings.TrimSuffix(f.got, ellipsis)) {
					t.Errorf("%s %.20q… is not a prefix of the original", f.name, f.got)
				}
			}
			if truncated := got.Title != tt.title || got.Message != tt.message; truncated != tt.wantTruncated {
				t.Errorf("got truncated %v; want %v", truncated, tt.wantTruncated)
			}
		})
	}
}

func TestNotifyAlertNeedsID(t *testing.T) {
	for _, a := range []*domain.Alert{nil, {Title: "not inserted"}} {
		if err := NotifyAlert(t.Context(), nil, a); err == nil {
			t.Errorf("NotifyAlert(%v): got nil error; want one", a)
		}
	}
}
