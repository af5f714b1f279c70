package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/pgtest"
)

// newEnvWith starts an instance with adjusted configuration and captured logs.
func newEnvWith(t testing.TB, adjust func(*config)) (*testEnv, *bytes.Buffer) {
	t.Helper()
	db, dbURL := pgtest.New(t)
	clock := &testClock{}
	cfg := testConfig(dbURL, clock)
	adjust(&cfg)
	logs := &lockedBuffer{}
	a, err := newApp(context.Background(), cfg, db, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatalf("newApp: %v", err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		a.Close()
		srv.Close()
	})
	return &testEnv{db: db, url: dbURL, app: a, srv: srv, clock: clock}, &logs.buf
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (e *testEnv) raw(t *testing.T, contentType string, body []byte) (int, string) {
	t.Helper()
	resp, err := e.srv.Client().Post(e.srv.URL+"/graphql", contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func TestRequestBodyGuards(t *testing.T) {
	e := newEnv(t)
	marker := "SECRET-MARKER-42"
	tests := []struct {
		name   string
		body   string
		status int
		msg    string
	}{
		{"too large", `{"query":"{ me { id } }","variables":{"x":"` + strings.Repeat("A", 70<<10) + marker + `"}}`, 413, "exceeds 65536 bytes"},
		{"not JSON", `{"query": "` + marker, 400, "must be a JSON object"},
		{"batched", `[{"query":"{ me { id } }"},{"query":"{ me { id } }","x":"` + marker + `"}]`, 400, "batched requests are not supported"},
		{"scalar", `"` + marker + `"`, 400, "must be a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.raw(t, "application/json", []byte(tt.body))
			if status != tt.status || !strings.Contains(body, tt.msg) || !strings.Contains(body, `"BAD_USER_INPUT"`) {
				t.Fatalf("got HTTP %d %s, want %d with %q", status, body, tt.status, tt.msg)
			}
			if strings.Contains(body, marker) {
				t.Fatalf("the body was echoed back: %s", body)
			}
		})
	}
}

func TestOperationShapeLimits(t *testing.T) {
	e := newEnv(t)
	s := e.user(t, "alice", domain.RoleUser)
	deep := "id"
	for range 6 { // me → devices → users → devices … nested 14 deep
		deep = "devices { users { " + deep + " } }"
	}
	aliases := make([]string, 21)
	for i := range aliases {
		aliases[i] = fmt.Sprintf("a%d: me { id }", i)
	}
	tokens := "{ me { " + strings.Repeat("id ", 2100) + "} }"
	// Our own limits answer BAD_USER_INPUT; the token limit is the parser's.
	tests := []struct {
		name, query, msg, code string
	}{
		{"depth", "{ me { " + deep + " } }", "nested 14 levels deep; the limit is 10", "BAD_USER_INPUT"},
		{"aliases", "{ " + strings.Join(aliases, " ") + " }", "21 aliases; the limit is 20", "BAD_USER_INPUT"},
		{"complexity", `{ users(first: 100) { edges { node { devices { users { id } } } } } }`, "complexity", "BAD_USER_INPUT"},
		{"tokens", tokens, "token limit", "GRAPHQL_PARSE_FAILED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.mustFail(t, s.AccessToken, tt.query, nil, tt.code)
			if !strings.Contains(res.Errors[0].Message, tt.msg) || string(res.Data) != "null" && len(res.Data) != 0 {
				t.Fatalf("got %+v data %s, want %q and no data", res.Errors, res.Data, tt.msg)
			}
		})
	}
	// Within the limits the same shapes work.
	e.must(t, s.AccessToken, "{ me { devices { users { devices { id } } } } }", nil, nil)
	e.must(t, s.AccessToken, "{ a: me { id } b: me { id } }", nil, nil)
}

func TestOperationDeadline(t *testing.T) {
	e, _ := newEnvWith(t, func(c *config) { c.Limits.OperationTimeout = time.Nanosecond })
	res := e.post(t, "", `mutation { login(input: {username: "x", password: "y"}) { accessToken } }`, nil)
	if res.code() != "UNAVAILABLE" {
		t.Fatalf("expired operation: got %+v (HTTP %d), want UNAVAILABLE", res.Errors, res.Status)
	}
}

func TestProductionHidesTheSchema(t *testing.T) {
	e, _ := newEnvWith(t, func(c *config) { c.Env, c.Introspection = "production", false })
	s := e.user(t, "alice", domain.RoleUser)
	e.mustFail(t, s.AccessToken, `{ __schema { types { name } } }`, nil, "BAD_USER_INPUT")
	res := e.mustFail(t, s.AccessToken, `{ me { usernam } }`, nil, "GRAPHQL_VALIDATION_FAILED")
	if strings.Contains(res.Errors[0].Message, "Did you mean") {
		t.Fatalf("suggestion leaked: %s", res.Errors[0].Message)
	}
}

func TestLoginThrottleCountsEveryAttempt(t *testing.T) {
	e, _ := newEnvWith(t, func(c *config) { c.Limits.LoginsPerMinute, c.Limits.RegistersPerMinute = 3, 1 })
	codes := map[string]int{}
	for i := range 5 {
		res := e.post(t, "", loginMutation, map[string]any{"in": map[string]any{"username": fmt.Sprintf("u%d", i), "password": "p"}})
		codes[res.code()]++
		if res.code() == "RATE_LIMITED" && res.Errors[0].Extensions["retryAfter"] == nil {
			t.Fatalf("RATE_LIMITED without retryAfter: %+v", res.Errors)
		}
	}
	if codes["UNAUTHENTICATED"] != 3 || codes["RATE_LIMITED"] != 2 {
		t.Fatalf("five logins with a limit of 3: got %v", codes)
	}
	register := `mutation($u: String!) { register(input: {username: $u, password: "long enough pw"}) { accessToken } }`
	e.must(t, "", register, map[string]any{"u": "first"}, nil)
	e.mustFail(t, "", register, map[string]any{"u": "second"}, "RATE_LIMITED")
	e.clock.Advance(time.Minute)
	e.must(t, "", register, map[string]any{"u": "third"}, nil)
}

func dialWS(t *testing.T, e *testEnv) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.srv.URL, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return conn
}

// closeStatus reads until the server closes the connection and returns its close code.
func closeStatus(t *testing.T, conn *websocket.Conn, within time.Duration) websocket.StatusCode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		var msg wsMessage
		if err := wsjson.Read(ctx, conn, &msg); err != nil {
			if ctx.Err() != nil {
				t.Fatalf("connection still open after %v", within)
			}
			return websocket.CloseStatus(err)
		}
	}
}

func TestWebsocketLimits(t *testing.T) {
	e, _ := newEnvWith(t, func(c *config) { c.Limits.WSMaxSubscriptions, c.Limits.WSMaxUserSubs = 3, 4 })
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	conn := e.subscribe(t, analyst.AccessToken, `subscription { alertRaised { id } }`)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := 2; i <= 4; i++ {
		payload, _ := json.Marshal(map[string]string{"query": "subscription { alertRaised { id } }"})
		if err := wsjson.Write(ctx, conn, wsMessage{ID: fmt.Sprint(i), Type: "subscribe", Payload: payload}); err != nil {
			t.Fatal(err)
		}
	}
	// gqlgen starts each subscription on its own goroutine, so any of the four may be the one refused.
	msg := readWS(t, conn)
	if !strings.Contains(string(msg.Payload), "at most 3 subscriptions per connection") || !strings.Contains(string(msg.Payload), "RATE_LIMITED") {
		t.Fatalf("4th subscription on one connection: got %+v", msg)
	}
	e.waitSubscribers(t, 3)
	// The per-user cap counts across connections.
	second := e.subscribe(t, analyst.AccessToken, `subscription { alertRaised { id } }`)
	e.waitSubscribers(t, 4)
	payload, _ := json.Marshal(map[string]string{"query": "subscription { alertRaised { id } }"})
	if err := wsjson.Write(ctx, second, wsMessage{ID: "2", Type: "subscribe", Payload: payload}); err != nil {
		t.Fatal(err)
	}
	if msg := readWS(t, second); !strings.Contains(string(msg.Payload), "at most 4 subscriptions per user") {
		t.Fatalf("5th subscription of one user: got %+v", msg)
	}

	// A client that never sends connection_init is dropped (4408, graphql-transport-ws).
	silent := dialWS(t, e)
	if code := closeStatus(t, silent, 10*time.Second); code != 4408 {
		t.Fatalf("no connection_init: close code %d, want 4408", code)
	}

	// Shutdown says "going away" (1001).
	e.app.closeSubscriptions()
	if code := closeStatus(t, conn, 10*time.Second); code != closeGoingAway {
		t.Fatalf("shutdown: close code %d, want %d", code, closeGoingAway)
	}
}

func TestWebsocketClosesWhenTokenExpires(t *testing.T) {
	e := newEnv(t)
	e.user(t, "ana", domain.RoleAnalyst)
	// A token issued 14m58s "ago" expires two seconds from now.
	e.clock.Advance(-(15*time.Minute - 2*time.Second))
	s := e.login(t, "ana", "correct horse battery")
	e.clock.Advance(15*time.Minute - 2*time.Second)
	conn := e.subscribe(t, s.AccessToken, `subscription { alertRaised { id } }`)
	if code := closeStatus(t, conn, 15*time.Second); code != closeTokenExpired {
		t.Fatalf("expired token: close code %d, want %d", code, closeTokenExpired)
	}
}

func TestSecretsStayOut(t *testing.T) {
	const jwtSecret = "jwt-secret-that-must-never-be-logged!"
	e, logs := newEnvWith(t, func(c *config) { c.JWTSecret = []byte(jwtSecret) })
	admin := e.user(t, "root", domain.RoleAdmin)
	e.post(t, admin.AccessToken, `mutation { createDataSource(input: {name: "core", kind: DATABASE,
		config: {dsn: "postgres://svc:db-pass-xyz@db/core", token: "tok-abc-123"}}) { config } }`, nil)
	e.post(t, "", loginMutation, map[string]any{"in": map[string]any{"username": "root", "password": "wrong-password-qq"}})
	e.post(t, admin.AccessToken, `{ users { edges { node { id } } } dataSources { config } }`, nil)
	var all struct {
		Users struct {
			Edges []struct{ Node map[string]any }
		}
		DataSources []struct{ Config map[string]any }
	}
	e.must(t, admin.AccessToken, `{ users { edges { node { id username email role status } } } dataSources { config } }`, nil, &all)
	raw, _ := json.Marshal(all)
	var stored string
	if err := e.db.NewRaw("SELECT password_hash FROM users WHERE username = 'root'").Scan(context.Background(), &stored); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"db-pass-xyz", "tok-abc-123", stored, "argon2id"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("a response contains %q", secret)
		}
	}
	for _, secret := range []string{jwtSecret, "db-pass-xyz", "tok-abc-123", "wrong-password-qq", stored} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the logs contain %q", secret)
		}
	}
	// No type in the schema exposes a password or hash.
	var schema struct {
		Schema struct {
			Types []struct {
				Name   string
				Fields []struct{ Name string }
			}
		} `json:"__schema"`
	}
	e.must(t, admin.AccessToken, `{ __schema { types { name fields { name } } } }`, nil, &schema)
	for _, ty := range schema.Schema.Types {
		for _, f := range ty.Fields {
			if n := strings.ToLower(f.Name); strings.Contains(n, "hash") || (strings.Contains(n, "password") && ty.Name != "Mutation") {
				t.Errorf("%s.%s exposes a secret", ty.Name, f.Name)
			}
		}
	}
}
