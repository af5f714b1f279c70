package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// `riskgraph alerts` says why it can't listen instead of hanging or printing nothing.
func TestAlertsCommandRefusals(t *testing.T) {
	e := newEnv(t)
	customer := e.user(t, "dora", domain.RoleUser)
	url := e.srv.URL + "/graphql"
	for _, tt := range []struct {
		name, token string
		args        []string
		want        string
	}{
		{"no token", "", []string{"-url", url}, "no access token"},
		{"bad level", "x", []string{"-url", url, "-min-level", "SEVERE"}, `-min-level "SEVERE"`},
		{"bad url", "x", []string{"-url", "localhost:8080"}, "want the GraphQL endpoint"},
		{"stray argument", "x", []string{"HIGH"}, `unexpected argument "HIGH"`},
		{"invalid token", "not-a-token", []string{"-url", url}, "the server closed the connection"},
		{"customer", customer.AccessToken, []string{"-url", url}, "subscription refused"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := alertsCommand(context.Background(), tt.args, tt.token, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want an error containing %q", err, tt.want)
			}
			if stdout.Len() > 0 {
				t.Errorf("printed alerts: %s", stdout.String())
			}
		})
	}
}
