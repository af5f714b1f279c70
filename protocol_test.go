package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

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
			t.Logf("%s server: %s", tt.name, out)
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

// httpAnswer is an answer to a raw request: status, headers and JSON members.
type httpAnswer struct {
	status  int
	header  http.Header
	members map[string]json.RawMessage
	body    string
}

// send makes one request to the endpoint; body "" sends none.
func (e *testEnv) send(t *testing.T, method, query string, header map[string]string, body string) httpAnswer {
	t.Helper()
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+"/graphql"+query, reader)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s /graphql: %v", method, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := httpAnswer{status: resp.StatusCode, header: resp.Header, body: string(raw)}
	json.Unmarshal(raw, &a.members) //nolint:errcheck // preflight answers have no body
	return a
}

// code is the first error's extensions.code.
func (a httpAnswer) code() string {
	var errs []gqlError
	json.Unmarshal(a.members["errors"], &errs) //nolint:errcheck // none: ""
	if len(errs) == 0 {
		return ""
	}
	c, _ := errs[0].Extensions["code"].(string)
	return c
}

// TestStandardErrorCodes: the codes GraphQL clients act on for what they
// sent wrong, and the project's own for the rest.
func TestStandardErrorCodes(t *testing.T) {
	e := newEnv(t)
	s := e.user(t, "alice", domain.RoleUser)
	deep := "id"
	for range 6 {
		deep = "devices { users { " + deep + " } }"
	}
	for _, tt := range []struct {
		name, query, code string
		vars              map[string]any
	}{
		{"syntax error", `{ me { id }`, "GRAPHQL_PARSE_FAILED", nil},
		{"unknown field", `{ me { nope } }`, "GRAPHQL_VALIDATION_FAILED", nil},
		{"wrong literal type", `{ user(id: {a: 1}) { id } }`, "GRAPHQL_VALIDATION_FAILED", nil},
		// Variables that don't coerce are the caller's input, as Apollo Server answers them.
		{"variable null for non-null", `query($id: ID!) { user(id: $id) { id } }`, "BAD_USER_INPUT", map[string]any{"id": nil}},
		{"variable missing", `query($id: ID!) { user(id: $id) { id } }`, "BAD_USER_INPUT", map[string]any{}},
		{"our depth limit", "{ me { " + deep + " } }", "BAD_USER_INPUT", nil},
		{"a domain error keeps its code", `{ user(id: "999999") { id } }`, "NOT_FOUND", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := e.post(t, s.AccessToken, tt.query, tt.vars).code(); got != tt.code {
				t.Fatalf("code: got %q, want %q", got, tt.code)
			}
		})
	}

	t.Run("persisted query miss, then registered", func(t *testing.T) {
		// What Apollo Client's and urql's persisted-query links do: the hash
		// alone, then on PERSISTED_QUERY_NOT_FOUND the query with its hash.
		const query = `{ me { username } }`
		sum := sha256.Sum256([]byte(query))
		ext := fmt.Sprintf(`"extensions":{"persistedQuery":{"version":1,"sha256Hash":"%x"}}`, sum)
		header := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + s.AccessToken}
		miss := e.send(t, http.MethodPost, "", header, "{"+ext+"}")
		if miss.status != http.StatusOK || miss.code() != "PERSISTED_QUERY_NOT_FOUND" || !strings.Contains(miss.body, `"PersistedQueryNotFound"`) {
			t.Fatalf("hash alone: got HTTP %d %s, want 200 PERSISTED_QUERY_NOT_FOUND (PersistedQueryNotFound)", miss.status, miss.body)
		}
		full := e.send(t, http.MethodPost, "", header, fmt.Sprintf(`{"query":%q,%s}`, query, ext))
		if !strings.Contains(full.body, `"username":"alice"`) {
			t.Fatalf("query with hash: got HTTP %d %s", full.status, full.body)
		}
		hit := e.send(t, http.MethodPost, "", header, "{"+ext+"}")
		if !strings.Contains(hit.body, `"username":"alice"`) {
			t.Fatalf("hash after registering: got HTTP %d %s", hit.status, hit.body)
		}
	})
}

// TestRequestErrorsFollowGraphQLOverHTTP: a request error (nothing executed)
// is answered with the status the spec gives its media type and no data.
func TestRequestErrorsFollowGraphQLOverHTTP(t *testing.T) {
	e := newEnv(t)
	const plain, graphqlJSON = "application/json", "application/graphql-response+json"
	for _, tt := range []struct {
		name, accept, body string
		status             int
		code               string
	}{
		{"parse failure, JSON", plain, `{"query":"{"}`, http.StatusOK, "GRAPHQL_PARSE_FAILED"},
		{"parse failure, GraphQL response", graphqlJSON, `{"query":"{"}`, http.StatusBadRequest, "GRAPHQL_PARSE_FAILED"},
		{"validation failure, JSON", plain, `{"query":"{ nope }"}`, http.StatusOK, "GRAPHQL_VALIDATION_FAILED"},
		{"validation failure, GraphQL response", graphqlJSON, `{"query":"{ nope }"}`, http.StatusBadRequest, "GRAPHQL_VALIDATION_FAILED"},
		{"coercion failure, JSON", plain, `{"query":"query($n: Int!) { __typename }","variables":{"n":"x"}}`, http.StatusOK, ""},
		{"coercion failure, GraphQL response", graphqlJSON, `{"query":"query($n: Int!) { __typename }","variables":{"n":"x"}}`, http.StatusBadRequest, ""},
		{"no query", plain, `{"variables":{}}`, http.StatusBadRequest, "BAD_USER_INPUT"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := e.send(t, http.MethodPost, "", map[string]string{"Content-Type": "application/json", "Accept": tt.accept}, tt.body)
			if a.status != tt.status || tt.code != "" && a.code() != tt.code {
				t.Fatalf("got HTTP %d %s, want %d %s", a.status, a.body, tt.status, tt.code)
			}
			if _, ok := a.members["data"]; ok || a.members["errors"] == nil {
				t.Fatalf("got %s, want errors and no data entry", a.body)
			}
			if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, tt.accept) {
				t.Fatalf("Content-Type: got %q, want %s", ct, tt.accept)
			}
		})
	}
	t.Run("executed with errors keeps data", func(t *testing.T) {
		a := e.send(t, http.MethodPost, "", map[string]string{"Content-Type": "application/json"}, `{"query":"{ me { id } }"}`)
		if a.status != http.StatusOK || a.code() != "UNAUTHENTICATED" || string(a.members["data"]) != `{"me":null}` && string(a.members["data"]) != "null" {
			t.Fatalf("got HTTP %d %s, want 200 UNAUTHENTICATED with data", a.status, a.body)
		}
	})
	t.Run("mutation over GET", func(t *testing.T) {
		a := e.send(t, http.MethodGet, "?query="+url.QueryEscape("mutation { logout }"), nil, "")
		if a.status != http.StatusMethodNotAllowed || a.header.Get("Allow") != http.MethodPost || a.code() != "BAD_USER_INPUT" {
			t.Fatalf("got HTTP %d (Allow %q) %s, want 405 Allow: POST", a.status, a.header.Get("Allow"), a.body)
		}
	})
	for name, query := range map[string]string{
		"GET without query":           "",
		"GET variables not an object": "?query=" + url.QueryEscape("{ __typename }") + "&variables=%5B1%5D",
		"GET undecodable":             "?query=%zz",
	} {
		t.Run(name, func(t *testing.T) {
			if a := e.send(t, http.MethodGet, query, nil, ""); a.status != http.StatusBadRequest || a.code() != "BAD_USER_INPUT" {
				t.Fatalf("got HTTP %d %s, want 400 BAD_USER_INPUT", a.status, a.body)
			}
		})
	}
}

// TestCORS: browser applications on ALLOWED_ORIGINS may call /graphql (and
// open websockets, the same list); other origins get no CORS headers.
func TestCORS(t *testing.T) {
	e, _ := newEnvWith(t, func(c *config) { c.AllowedOrigins = []string{"app.example.com", "https://*.example.org"} })
	preflight := func(origin string) httpAnswer {
		return e.send(t, http.MethodOptions, "", map[string]string{"Origin": origin,
			"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}, "")
	}
	for _, origin := range []string{"https://app.example.com", "http://app.example.com", "https://console.example.org"} {
		t.Run("preflight from "+origin, func(t *testing.T) {
			a := preflight(origin)
			h := a.header
			if a.status/100 != 2 || h.Get("Access-Control-Allow-Origin") != origin ||
				!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
				!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "authorization") ||
				!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "content-type") ||
				h.Get("Access-Control-Max-Age") != "600" || !varies(h, "Origin") ||
				h.Get("Access-Control-Allow-Credentials") != "" {
				t.Fatalf("got HTTP %d %v", a.status, h)
			}
		})
	}
	for _, origin := range []string{"https://evil.example.net", "http://console.example.org", "https://app.example.com.evil.net", "null"} {
		t.Run("preflight from "+origin, func(t *testing.T) {
			a := preflight(origin)
			for name := range a.header {
				if strings.HasPrefix(name, "Access-Control-") {
					t.Fatalf("got %s: %q, want no CORS headers", name, a.header.Get(name))
				}
			}
		})
	}
	t.Run("POST from an allowed origin", func(t *testing.T) {
		a := e.send(t, http.MethodPost, "", map[string]string{"Origin": "https://app.example.com", "Content-Type": "application/json"}, `{"query":"{ __typename }"}`)
		if a.status != http.StatusOK || a.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
			!varies(a.header, "Origin") || !strings.Contains(a.body, `"Query"`) {
			t.Fatalf("got HTTP %d %v %s", a.status, a.header, a.body)
		}
	})
	t.Run("POST from another origin", func(t *testing.T) {
		a := e.send(t, http.MethodPost, "", map[string]string{"Origin": "https://evil.example.net", "Content-Type": "application/json"}, `{"query":"{ __typename }"}`)
		if got := a.header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Fatalf("Access-Control-Allow-Origin: got %q, want none", got)
		}
	})
	t.Run("websockets follow the same list", func(t *testing.T) {
		ws := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/graphql"
		for origin, allowed := range map[string]bool{"https://app.example.com": true, "https://evil.example.net": false} {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			conn, _, err := websocket.Dial(ctx, ws, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"},
				HTTPHeader: http.Header{"Origin": {origin}}})
			cancel()
			if err == nil {
				conn.CloseNow() //nolint:errcheck
			}
			if (err == nil) != allowed {
				t.Fatalf("websocket from %s: got err %v, want allowed %v", origin, err, allowed)
			}
		}
	})
}

// varies reports whether the answer's Vary header lists name.
func varies(h http.Header, name string) bool {
	for _, v := range h.Values("Vary") {
		for _, field := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(field), name) {
				return true
			}
		}
	}
	return false
}
