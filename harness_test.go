package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/account"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/pgtest"
)

func TestMain(m *testing.M) {
	// The README walkthrough runs `bin/riskgraph`: this test binary, acting as
	// the command (main is the same code either way).
	if os.Getenv(asCommandEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(pgtest.Main(m))
}

// testJWTSecret lets tests forge tokens to prove the server refuses them.
var testJWTSecret = []byte("test-secret-test-secret-test-secret!")

// testEnv is one server instance on its own database, served over real HTTP.
type testEnv struct {
	db    *bun.DB
	url   string
	app   *app
	srv   *httptest.Server
	clock *testClock
}

// testClock is real time shifted by an offset tests can advance, so event-time
// features (windows, travel speed) can be exercised without waiting.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// AdvanceToHour moves the clock forward to the next hour:00 UTC, for tests
// whose rules read the hour of day (the default pack's night rules): call it
// before issuing tokens, which it would otherwise outlive.
func (c *testClock) AdvanceToHour(hour int) {
	now := c.Now().UTC()
	next := time.Date(now.Year(), now.Month(), now.Day(), hour, 0, 0, 0, time.UTC)
	if !next.After(now) {
		next = next.Add(24 * time.Hour)
	}
	c.Advance(next.Sub(now))
}

func testConfig(dbURL string, clock *testClock) config {
	l := defaultLimits()
	// Every test logs in from 127.0.0.1; the throttle has its own test.
	l.LoginsPerMinute, l.RegistersPerMinute = 100_000, 100_000
	return config{DatabaseURL: dbURL, Env: "development", JWTSecret: testJWTSecret, Introspection: true,
		Scoring: engine.DefaultConfig(), RulePacks: []string{"seed", "default"}, Now: clock.Now, Limits: l,
		Group:  defaultGroup(8),
		Outbox: defaultOutbox()}
}

// seededRules is how many rules a test server starts with: both packs.
func seededRules() int {
	n := 0
	for _, p := range engine.RulePacks() {
		n += len(p.Since(0)) // every version of seed and default
	}
	return n
}

func newEnv(t testing.TB) *testEnv {
	t.Helper()
	db, dbURL := pgtest.New(t)
	return newEnvOn(t, db, dbURL)
}

// newEnvOn starts another instance on an existing database (scale-out tests).
func newEnvOn(t testing.TB, db *bun.DB, dbURL string) *testEnv {
	t.Helper()
	return newEnvOnWith(t, db, dbURL, nil)
}

// newEnvOnWith starts an instance whose test configuration edit changes; one
// that asks for demo data (cfg.Demo) also gets the server's start-up
// bootstrap, as `riskgraph` runs it.
func newEnvOnWith(t testing.TB, db *bun.DB, dbURL string, edit func(*config)) *testEnv {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	clock := &testClock{}
	cfg := testConfig(dbURL, clock)
	if edit != nil {
		edit(&cfg)
	}
	a, err := newApp(context.Background(), cfg, db, log)
	if err != nil {
		t.Fatalf("newApp: %v", err)
	}
	if cfg.Demo {
		if err := a.bootstrap(context.Background(), cfg); err != nil {
			a.Close()
			t.Fatalf("bootstrap: %v", err)
		}
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		a.Close()
		srv.Close()
	})
	return &testEnv{db: db, url: dbURL, app: a, srv: srv, clock: clock}
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
	Status int             `json:"-"`
}

// code is the first error's extensions.code, "" when there is none.
func (r gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// post sends one GraphQL request with an optional bearer token.
func (e *testEnv) post(t testing.TB, token, query string, vars map[string]any) gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("POST /graphql: %v", err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("decode response (HTTP %d): %v: %s", resp.StatusCode, err, raw)
	}
	out.Status = resp.StatusCode
	return out
}

// must runs a request that must succeed and decodes its data into out.
func (e *testEnv) must(t testing.TB, token, query string, vars map[string]any, out any) {
	t.Helper()
	res := e.post(t, token, query, vars)
	if len(res.Errors) > 0 {
		t.Fatalf("unexpected errors: %+v", res.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(res.Data, out); err != nil {
			t.Fatalf("decode data: %v: %s", err, res.Data)
		}
	}
}

// mustFail runs a request that must fail with code and returns the response.
func (e *testEnv) mustFail(t *testing.T, token, query string, vars map[string]any, code string) gqlResponse {
	t.Helper()
	res := e.post(t, token, query, vars)
	if got := res.code(); got != code {
		t.Fatalf("error code: got %q, want %q (errors %+v, data %s)", got, code, res.Errors, res.Data)
	}
	return res
}

type session struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	User         struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Role     string `json:"role"`
	} `json:"user"`
}

const loginMutation = `mutation($in: LoginInput!) { login(input: $in) { accessToken refreshToken user { id username role } } }`

func (e *testEnv) login(t testing.TB, username, password string) session {
	t.Helper()
	var out struct{ Login session }
	e.must(t, "", loginMutation, map[string]any{"in": map[string]any{"username": username, "password": password}}, &out)
	return out.Login
}

// user creates an account of any role directly and logs it in.
func (e *testEnv) user(t testing.TB, username string, role domain.Role) session {
	t.Helper()
	const password = "correct horse battery"
	if _, err := e.app.accounts.EnsureUser(context.Background(), account.NewUser{Username: username, Password: password, Role: role}, false); err != nil {
		t.Fatalf("create %s: %v", username, err)
	}
	return e.login(t, username, password)
}

func newTestUser(name string) account.NewUser {
	return account.NewUser{Username: name, Password: "correct horse battery", Role: domain.RoleUser}
}
