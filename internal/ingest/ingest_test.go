package ingest

import (
	"errors"
	"testing"

	"github.com/smartfinance/riskgraph/internal/apperr"
)

func TestCovered(t *testing.T) {
	for _, tt := range []struct {
		patterns []string
		subject  string
		want     bool
	}{
		{[]string{"riskgraph.ingest.transactions"}, "riskgraph.ingest.transactions", true},
		{[]string{"riskgraph.ingest.*"}, "riskgraph.ingest.dead", true},
		{[]string{"riskgraph.>"}, "riskgraph.ingest.dead", true},
		{[]string{"riskgraph.*"}, "riskgraph.ingest.dead", false},
		{[]string{"riskgraph.ingest.transactions.more"}, "riskgraph.ingest.transactions", false},
		{[]string{"riskgraph.ingest"}, "riskgraph.ingest.transactions", false},
		{[]string{"other.>", "riskgraph.ingest.dead"}, "riskgraph.ingest.dead", true},
	} {
		if got := covered(tt.patterns, tt.subject); got != tt.want {
			t.Errorf("covered(%v, %q) = %v, want %v", tt.patterns, tt.subject, got, tt.want)
		}
	}
}

func TestRetryable(t *testing.T) {
	for _, tt := range []struct {
		name      string
		err       error
		delivered uint64
		want      bool
	}{
		{"database down", apperr.Wrap(apperr.Unavailable, "database unavailable", errors.New("dial")), 100, true},
		{"deadlock", apperr.Wrap(apperr.Conflict, "concurrent update, retry", errors.New("40P01")), 1, true},
		{"deadlock again and again", apperr.Wrap(apperr.Conflict, "concurrent update, retry", errors.New("40P01")), maxAttempts, false},
		{"key reused with another body", apperr.New(apperr.Conflict, "idempotencyKey was already used"), 1, false},
		{"invalid input", apperr.Invalid("amount", "must be greater than 0"), 1, false},
		{"unknown user", apperr.ErrNotFound, 1, false},
		{"frozen user", apperr.New(apperr.Forbidden, "user account is frozen"), 1, false},
		{"unclassified", errors.New("boom"), 1, true},
		{"unclassified, out of attempts", errors.New("boom"), maxAttempts, false},
	} {
		if got := retryable(tt.err, tt.delivered); got != tt.want {
			t.Errorf("%s: retryable = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{Stream: DefaultStream, Subject: DefaultSubject, DeadSubject: DefaultDeadSubject}
	if err := good.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, bad := range []Config{
		{Stream: "A.B", Subject: DefaultSubject, DeadSubject: DefaultDeadSubject},
		{Stream: DefaultStream, Subject: "riskgraph.*", DeadSubject: DefaultDeadSubject},
		{Stream: DefaultStream, Subject: "riskgraph..x", DeadSubject: DefaultDeadSubject},
		{Stream: DefaultStream, Subject: DefaultSubject, DeadSubject: DefaultSubject},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v: want an error", bad)
		}
	}
}
