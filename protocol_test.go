package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// protocolClients holds the reference clients (graphql-http, graphql-ws);
// `make test` installs them from its package-lock.json.
const protocolClients = "testdata/protocol"

// nodeCommand runs one script of protocolClients with args.
func nodeCommand(t *testing.T, script string, args ...string) *exec.Cmd {
	t.Helper()
	if _, err := os.Stat(filepath.Join(protocolClients, "node_modules")); err != nil {
		t.Fatalf("%s/node_modules is missing: run make test, or npm ci in %s", protocolClients, protocolClients)
	}
	cmd := exec.Command("node", append([]string{script}, args...)...)
	cmd.Dir = protocolClients
	return cmd
}

// TestGraphQLOverHTTPAudit runs graphql-http's server audit, a suite written
// by the GraphQL-over-HTTP spec's authors, against the real handler, as
// configured for development and for production. The audit's queries with
// variables read __type, so production runs with introspection on: with it
// off (the default there), those three are refused by design.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	for _, tt := range []struct {
		name   string
		adjust func(*config)
	}{
		{"development", func(*config) {}},
		{"production", func(c *config) { c.Env = "production" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newEnvWith(t, tt.adjust)
			raw, err := nodeCommand(t, "audit.mjs", e.srv.URL+"/graphql").CombinedOutput()
			out := strings.TrimSpace(string(raw))
			t.Log(out)
			if err != nil {
				t.Fatalf("audit not clean (%v):\n%s", err, out)
			}
		})
	}
}

// TestGraphQLWSReferenceClient subscribes through graphql-ws, the reference
// graphql-transport-ws client, with the token in connectionParams as browser
// applications send it, and receives the alert a submission raises.
func TestGraphQLWSReferenceClient(t *testing.T) {
	e := newEnv(t)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	admin := e.user(t, "root", domain.RoleAdmin)
	victim := e.user(t, "vic", domain.RoleUser)

	ws := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/graphql"
	var out bytes.Buffer
	client := nodeCommand(t, "subscribe.mjs", ws, analyst.AccessToken)
	client.Stdout, client.Stderr = &out, &out
	if err := client.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	var waitErr error
	exited := make(chan struct{}) // closed once waitErr is set and out complete
	go func() { waitErr = client.Wait(); close(exited) }()
	// output ends the client if it still runs and returns what it printed.
	output := func() string {
		client.Process.Kill() //nolint:errcheck // it may have exited
		<-exited
		return out.String()
	}
	t.Cleanup(func() { output() })

	// The protocol acknowledges no subscription: wait until it is registered,
	// so the alert can't race ahead of it (generous bound: node starts cold).
	for deadline := time.Now().Add(30 * time.Second); e.app.hub.Subscribers() < 1; {
		select {
		case <-exited:
			t.Fatalf("graphql-ws client exited before subscribing (%v):\n%s", waitErr, output())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("graphql-ws client never subscribed:\n%s", output())
		}
	}
	raised := e.submit(t, admin.AccessToken, map[string]any{"userId": victim.User.ID, "amount": 12000})
	if raised.Alert == nil {
		t.Fatalf("submission raised no alert: %+v", raised)
	}

	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("graphql-ws client received nothing within 30 s:\n%s", output())
	}
	if waitErr != nil {
		t.Fatalf("graphql-ws client failed (%v):\n%s", waitErr, output())
	}
	got := strings.TrimSpace(out.String())
	t.Log(got)
	want := fmt.Sprintf(`graphql-ws alert: {"id":%q,"level":"MEDIUM","user":{"username":"vic"}}`, raised.Alert.ID)
	if got != want {
		t.Fatalf("client printed %q, want %q", got, want)
	}
}
