package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/cases"
	"github.com/smartfinance/riskgraph/internal/domain"
)

func TestRulePacksConfig(t *testing.T) {
	env := func(packs string) func(string) string {
		return func(key string) string {
			switch key {
			case "RULE_PACKS":
				return packs
			case "DATABASE_URL":
				return "postgres://localhost/riskgraph"
			}
			return ""
		}
	}
	for _, tt := range []struct {
		value, wantErr string
		want           []string
	}{
		{"", "", []string{"seed", "default"}},
		{"seed", "", []string{"seed"}},
		{" default , seed ", "", []string{"default", "seed"}},
		{"none", "", nil},
		{"seed,fancy", `unknown pack "fancy"`, nil},
	} {
		cfg, _, err := loadConfig(env(tt.value))
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("RULE_PACKS=%q: got error %v; want %q", tt.value, err, tt.wantErr)
			}
		case err != nil:
			t.Errorf("RULE_PACKS=%q: got error %v", tt.value, err)
		case !slices.Equal(cfg.RulePacks, tt.want):
			t.Errorf("RULE_PACKS=%q: got %q; want %q", tt.value, cfg.RulePacks, tt.want)
		}
	}
}

func TestListenURL(t *testing.T) {
	for _, tt := range []struct{ addr, want string }{
		{":8080", "http://localhost:8080/"},
		{"0.0.0.0:9000", "http://localhost:9000/"},
		{"[::]:8080", "http://localhost:8080/"},
		{"127.0.0.1:8080", "http://127.0.0.1:8080/"},
		{"example.com:80", "http://example.com:80/"},
		{"[::1]:8080", "http://[::1]:8080/"},
	} {
		if got := listenURL(tt.addr); got != tt.want {
			t.Errorf("listenURL(%q) = %q; want %q", tt.addr, got, tt.want)
		}
	}
}

func TestDemoPasswordConfig(t *testing.T) {
	env := func(pw string) func(string) string {
		return func(key string) string {
			switch key {
			case "DEMO_PASSWORD":
				return pw
			case "DATABASE_URL":
				return "postgres://localhost/riskgraph"
			}
			return ""
		}
	}
	if _, _, err := loadConfig(env("short")); err == nil || !strings.Contains(err.Error(), "DEMO_PASSWORD must be") {
		t.Errorf("DEMO_PASSWORD=short: got %v; want the policy's error", err)
	}
	if cfg, _, err := loadConfig(env("a demo passphrase")); err != nil || cfg.DemoPassword != "a demo passphrase" {
		t.Errorf("DEMO_PASSWORD=a demo passphrase: got %q, %v", cfg.DemoPassword, err)
	}
}

func TestReviewDeadlineConfig(t *testing.T) {
	for _, tt := range []struct {
		timeout, action, wantErr string
		want                     cases.ReviewDeadline
	}{
		{"", "", "", cases.ReviewDeadline{Action: domain.ReviewDecline}},
		{"4h", "", "", cases.ReviewDeadline{Timeout: 4 * time.Hour, Action: domain.ReviewDecline}},
		{"90m", "approve", "", cases.ReviewDeadline{Timeout: 90 * time.Minute, Action: domain.ReviewApprove}},
		{"30s", "", "want at least 1m", cases.ReviewDeadline{}},
		{"soon", "", "REVIEW_TIMEOUT", cases.ReviewDeadline{}},
		{"1h", "ESCALATE", "want APPROVE or DECLINE", cases.ReviewDeadline{}},
	} {
		env := map[string]string{"DATABASE_URL": "postgres://localhost/riskgraph", "REVIEW_TIMEOUT": tt.timeout, "REVIEW_TIMEOUT_ACTION": tt.action}
		cfg, _, err := loadConfig(func(k string) string { return env[k] })
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("REVIEW_TIMEOUT=%q REVIEW_TIMEOUT_ACTION=%q: got error %v; want %q", tt.timeout, tt.action, err, tt.wantErr)
			}
		case err != nil:
			t.Errorf("REVIEW_TIMEOUT=%q REVIEW_TIMEOUT_ACTION=%q: got error %v", tt.timeout, tt.action, err)
		case cfg.ReviewDeadline != tt.want:
			t.Errorf("REVIEW_TIMEOUT=%q REVIEW_TIMEOUT_ACTION=%q: got %+v; want %+v", tt.timeout, tt.action, cfg.ReviewDeadline, tt.want)
		}
	}
}
