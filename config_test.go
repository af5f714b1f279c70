package main

import (
	"slices"
	"strings"
	"testing"
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
