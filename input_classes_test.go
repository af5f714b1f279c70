package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/smartfinance/riskgraph/graph"
	"github.com/smartfinance/riskgraph/internal/domain"
)

// pathologicalBound is the generous bound on refusing a hostile input; the
// attacks it guards against cost seconds to minutes of CPU.
const pathologicalBound = 100 * time.Millisecond

// timedPost posts and returns the best answer time of three tries, so a
// scheduler hiccup on a busy machine is not mistaken for a cost.
func (e *testEnv) timedPost(t *testing.T, token, query string, vars map[string]any) (gqlResponse, time.Duration) {
	t.Helper()
	var res gqlResponse
	best := time.Hour
	for range 3 {
		start := time.Now()
		res = e.post(t, token, query, vars)
		best = min(best, time.Since(start))
	}
	return res, best
}

// decimalInputs are the queries that reach each Decimal input of the schema,
// with $v the Decimal; TestDecimalInputsAreBounded fails when one is missing.
var decimalInputs = map[string]string{
	"SubmitTransactionInput.amount": `mutation($v: Decimal!) { submitTransaction(input: {amount: $v}) { transaction { id } } }`,
	"TransactionFilter.minAmount":   `query($v: Decimal) { transactions(filter: {minAmount: $v}) { totalCount } }`,
	"TransactionFilter.maxAmount":   `query($v: Decimal) { transactions(filter: {maxAmount: $v}) { totalCount } }`,
}

func TestDecimalInputsAreBounded(t *testing.T) {
	e := newEnv(t)
	alice := e.user(t, "alice", domain.RoleUser)

	var inSchema []string
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	for _, def := range schema.Types {
		for _, f := range def.Fields {
			for _, arg := range f.Arguments {
				if arg.Type.Name() == "Decimal" {
					inSchema = append(inSchema, def.Name+"."+f.Name+"("+arg.Name+")")
				}
			}
			if def.Kind == ast.InputObject && f.Type.Name() == "Decimal" {
				inSchema = append(inSchema, def.Name+"."+f.Name)
			}
		}
	}
	for _, site := range inSchema {
		if _, ok := decimalInputs[site]; !ok {
			t.Errorf("Decimal input %s has no case here: add one", site)
		}
	}

	hostile := []any{
		"1e999999999", "-1e-999999999", "1e10000000", json.Number("1e999999999"), json.Number("-1e999999999"),
		"99999999999999999999", "1" + strings.Repeat("0", 18), "0.001", "1e-3", strings.Repeat("9", 65), "1e", "NaN",
	}
	for site, query := range decimalInputs {
		for _, v := range hostile {
			t.Run(fmt.Sprintf("%s=%v", site, v), func(t *testing.T) {
				res, took := e.timedPost(t, alice.AccessToken, query, map[string]any{"v": v})
				if res.code() != "BAD_USER_INPUT" || took > pathologicalBound {
					t.Fatalf("got %+v in %v, want BAD_USER_INPUT within %v", res.Errors, took, pathologicalBound)
				}
			})
		}
		// The same values written in the document, as a string and as a number.
		for _, literal := range []string{`"1e999999999"`, `"-1e-999999999"`, `1e999999999`, `-1e400`, `12345678901234567890`} {
			t.Run(site+" literal "+literal, func(t *testing.T) {
				doc := strings.NewReplacer("($v: Decimal!)", "", "($v: Decimal)", "", "$v", literal).Replace(query)
				res, took := e.timedPost(t, alice.AccessToken, doc, nil)
				// Inside an input object the validator already refuses an oversized number literal.
				if code := res.code(); code != "BAD_USER_INPUT" && code != "GRAPHQL_VALIDATION_FAILED" || took > pathologicalBound {
					t.Fatalf("%s: got %+v in %v, want BAD_USER_INPUT or GRAPHQL_VALIDATION_FAILED within %v", doc, res.Errors, took, pathologicalBound)
				}
			})
		}
	}
	if n := e.count(t, "SELECT count(*) FROM transactions"); n != 0 {
		t.Fatalf("transactions stored from refused amounts: %d", n)
	}
	// At the bounds, money still works.
	var out struct {
		SubmitTransaction struct{ Transaction struct{ Amount string } }
	}
	e.must(t, alice.AccessToken, `mutation { submitTransaction(input: {amount: "12.50e2"}) { transaction { amount } } }`, nil, &out)
	if out.SubmitTransaction.Transaction.Amount != "1250.00" {
		t.Fatalf("amount 12.50e2 stored as %q, want 1250.00", out.SubmitTransaction.Transaction.Amount)
	}
	e.must(t, alice.AccessToken, decimalInputs["TransactionFilter.minAmount"], map[string]any{"v": "999999999999999999.99"}, nil)
}

// spreadBomb is a chain of fragments each spreading the next `width` times:
// tiny to write, width^levels selections once expanded.
func spreadBomb(op, on string, levels, width int, leaf string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s { ...F0 }", op)
	for i := range levels {
		fmt.Fprintf(&b, " fragment F%d on %s {", i, on)
		for range width {
			fmt.Fprintf(&b, " ...F%d", i+1)
		}
		b.WriteString(" }")
	}
	fmt.Fprintf(&b, " fragment F%d on %s { %s }", levels, on, leaf)
	return b.String()
}

func TestDocumentCostIsLinear(t *testing.T) {
	e := newEnv(t)
	nested := "fragment N0 on User { id }"
	for i := 1; i <= 12; i++ {
		nested = fmt.Sprintf("fragment N%d on User { ...N%d ...N%d devices { id } }", i, i-1, i-1) + " " + nested
	}
	aliasBomb := spreadBomb("query", "Query", 18, 2, "a: __typename b: __typename")
	inline := "{ " + strings.Repeat("... on Query { ", 200) + "__typename" + strings.Repeat(" }", 200) + " }"
	tests := []struct {
		name, query string
		refused     bool
	}{
		{"doubling spreads, anonymous", spreadBomb("query", "Query", 22, 2, "__typename"), true},
		{"quadrupling spreads", spreadBomb("query", "Query", 11, 4, "__typename"), true},
		{"ten-fold spreads", spreadBomb("query", "Query", 7, 10, "__typename"), true},
		{"spreads under a field", "{ me { ...N12 } } " + nested, true},
		{"aliases multiplied by spreads", aliasBomb, true},
		{"mutation spreads", spreadBomb("mutation", "Mutation", 22, 2, "__typename"), true},
		{"subscription spreads", spreadBomb("subscription", "Subscription", 22, 2, "__typename"), true},
		{"deep inline fragments (linear, allowed)", inline, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, took := e.timedPost(t, "", tt.query, nil)
			if refused := len(res.Errors) > 0; refused != tt.refused || res.code() == "INTERNAL" || took > pathologicalBound {
				t.Fatalf("got %+v in %v, want refused=%v within %v", res.Errors, took, tt.refused, pathologicalBound)
			}
		})
	}
	// Ordinary fragment use is untouched.
	alice := e.user(t, "alice", domain.RoleUser)
	e.must(t, alice.AccessToken, "{ me { ...U } a: me { ...U } } fragment U on User { id username devices { id } }", nil, nil)
}

func TestBodyLimitWhateverTheMediaType(t *testing.T) {
	e := newEnv(t)
	big := `{"query":"{ __typename }","variables":{"x":"` + strings.Repeat("A", 200<<10) + `"}}`
	jsonTypes := []string{"application/json", "Application/JSON", "APPLICATION/JSON; charset=UTF-8", "application/json;charset=utf-8", "application/JSON ; Charset=\"utf-8\""}
	otherTypes := []string{"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/graphql", "application/jsonx", "application/json; charset=latin1", "not a media type;;"}
	for _, ct := range slices.Concat(jsonTypes, otherTypes) {
		t.Run("too large as "+ct, func(t *testing.T) {
			status, body := e.raw(t, ct, []byte(big))
			if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, `"BAD_USER_INPUT"`) {
				t.Fatalf("got HTTP %d %.200s, want 413 BAD_USER_INPUT", status, body)
			}
		})
	}
	for _, ct := range jsonTypes {
		for name, body := range map[string]string{
			"batched":   `[{"query":"{ __typename }"}]`,
			"malformed": `{"query":`,
			"not JSON":  `query { __typename }`,
			"wrong key": `{"query": 42}`,
		} {
			t.Run(name+" as "+ct, func(t *testing.T) {
				status, out := e.raw(t, ct, []byte(body))
				if status != http.StatusBadRequest || !strings.Contains(out, `"BAD_USER_INPUT"`) {
					t.Fatalf("got HTTP %d %s, want 400 BAD_USER_INPUT", status, out)
				}
			})
		}
		t.Run("valid as "+ct, func(t *testing.T) {
			status, out := e.raw(t, ct, []byte(`{"query":"{ __typename }"}`))
			if status != http.StatusOK || !strings.Contains(out, `"Query"`) {
				t.Fatalf("got HTTP %d %s, want 200", status, out)
			}
		})
	}
	for _, ct := range otherTypes {
		t.Run("unsupported "+ct, func(t *testing.T) {
			status, out := e.raw(t, ct, []byte(`{"query":"{ __typename }"}`))
			if status != http.StatusUnsupportedMediaType || !strings.Contains(out, `"BAD_USER_INPUT"`) {
				t.Fatalf("got HTTP %d %s, want 415 BAD_USER_INPUT", status, out)
			}
		})
	}
	t.Run("long GET query string", func(t *testing.T) {
		resp, err := e.srv.Client().Get(e.srv.URL + "/graphql?query=" + url.QueryEscape("{ __typename }") + "&x=" + strings.Repeat("A", 65<<10))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusRequestURITooLong || !strings.Contains(string(body), `"BAD_USER_INPUT"`) {
			t.Fatalf("got HTTP %d %s, want 414 BAD_USER_INPUT", resp.StatusCode, body)
		}
	})
}

func TestStringInputsAreChecked(t *testing.T) {
	e := newEnv(t)
	alice := e.user(t, "alice", domain.RoleUser)
	admin := e.user(t, "root", domain.RoleAdmin)
	nul, long := "x\x00y", strings.Repeat("a", 8193)
	tests := []struct {
		name, token, query string
		vars               map[string]any
	}{
		{"login username", "", loginMutation, map[string]any{"in": map[string]any{"username": "alice" + "\x00", "password": "correct horse battery"}}},
		{"login userAgent", "", loginMutation, map[string]any{"in": map[string]any{"username": "alice", "password": "correct horse battery", "userAgent": nul}}},
		{"register email", "", `mutation($e: String) { register(input: {username: "mallory", password: "long enough pw", email: $e}) { accessToken } }`, map[string]any{"e": "m@x.io" + "\x00"}},
		{"user search", admin.AccessToken, `query($s: String) { users(filter: {search: $s}) { totalCount } }`, map[string]any{"s": nul}},
		{"idempotency key", alice.AccessToken, `mutation($k: String) { submitTransaction(input: {amount: 5, idempotencyKey: $k}) { transaction { id } } }`, map[string]any{"k": nul}},
		{"city", alice.AccessToken, `mutation($c: String) { submitTransaction(input: {amount: 5, location: {latitude: 1, longitude: 2, city: $c}}) { transaction { id } } }`, map[string]any{"c": nul}},
		{"merchant literal", alice.AccessToken, `mutation { submitTransaction(input: {amount: 5, merchantId: "m\u0000"}) { transaction { id } } }`, nil},
		{"cursor", alice.AccessToken, `query($a: String) { transactions(after: $a) { totalCount } }`, map[string]any{"a": nul}},
		{"rule name", admin.AccessToken, `mutation($n: String!) { upsertRule(input: {name: $n, condition: "amount > 1", score: 1}) { id } }`, map[string]any{"n": nul}},
		{"data source description", admin.AccessToken, `mutation($d: String) { createDataSource(input: {name: "s", kind: DATABASE, description: $d}) { id } }`, map[string]any{"d": nul}},
		{"JSON value deep in a list", admin.AccessToken, `mutation($c: JSON) { createDataSource(input: {name: "s", kind: DATABASE, config: $c}) { id } }`, map[string]any{"c": map[string]any{"a": []any{1, map[string]any{"b": nul}}}}},
		{"JSON key", admin.AccessToken, `mutation($c: JSON) { createDataSource(input: {name: "s", kind: DATABASE, config: $c}) { id } }`, map[string]any{"c": map[string]any{"k\x00": 1}}},
		{"JSON literal", admin.AccessToken, `mutation { createDataSource(input: {name: "s", kind: DATABASE, config: {a: ["\u0000"]}}) { id } }`, nil},
		{"too long", admin.AccessToken, `query($s: String) { users(filter: {search: $s}) { totalCount } }`, map[string]any{"s": long}},
		{"default value", admin.AccessToken, `query($s: String = "a\u0000") { users(filter: {search: $s}) { totalCount } }`, nil},
		{"in a fragment", admin.AccessToken, `{ ...Q } fragment Q on Query { users(filter: {search: "\u0000"}) { totalCount } }`, nil},
		{"directive argument", admin.AccessToken, `{ users @skip(if: false) { totalCount } me @include(if: true) { id } __typename @deprecated(reason: "\u0000") }`, nil},
	}
	before := e.count(t, "SELECT (SELECT count(*) FROM transactions) + (SELECT count(*) FROM users) + (SELECT count(*) FROM rules) + (SELECT count(*) FROM data_sources) + (SELECT count(*) FROM login_logs)")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.post(t, tt.token, tt.query, tt.vars)
			if res.code() != "BAD_USER_INPUT" && res.code() != "GRAPHQL_VALIDATION_FAILED" {
				t.Fatalf("got %+v, want BAD_USER_INPUT", res.Errors)
			}
		})
	}
	after := e.count(t, "SELECT (SELECT count(*) FROM transactions) + (SELECT count(*) FROM users) + (SELECT count(*) FROM rules) + (SELECT count(*) FROM data_sources) + (SELECT count(*) FROM login_logs)")
	if after != before {
		t.Fatalf("rows written from refused text: %d before, %d after", before, after)
	}
	// Invalid UTF-8 can only arrive raw in a URL (JSON decoding replaces it).
	resp, err := e.srv.Client().Get(e.srv.URL + "/graphql?query=" + url.QueryEscape(`{ users(filter: {search: "`) + "%FF%FE" + url.QueryEscape(`"}) { totalCount } }`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if body, _ := io.ReadAll(resp.Body); !strings.Contains(string(body), `"BAD_USER_INPUT"`) && !strings.Contains(string(body), "GRAPHQL_") {
		t.Fatalf("invalid UTF-8 in a GET query: got HTTP %d %s", resp.StatusCode, body)
	}
}

func TestNoSchemaSuggestionsWithoutIntrospection(t *testing.T) {
	mistakes := map[string]string{
		"field":          `{ me { usernam } }`,
		"argument":       `{ users(firts: 1) { totalCount } }`,
		"input field":    `mutation { login(input: {usernme: "a", username: "a", password: "b"}) { accessToken } }`,
		"enum value":     `{ alerts(filter: {level: MEDUIM}) { totalCount } }`,
		"variable type":  `query($f: AlertFiltr) { alerts(filter: $f) { totalCount } }`,
		"leaf selection": `{ me { devices } }`,
		"typed fragment": `{ ...F } fragment F on Querry { __typename }`,
	}
	for _, env := range []struct {
		name    string
		adjust  func(*config)
		suggest bool
	}{
		{"production", func(c *config) { c.Env, c.Introspection = "production", false }, false},
		{"introspection off in development", func(c *config) { c.Introspection = false }, false},
		{"development", func(*config) {}, true},
	} {
		t.Run(env.name, func(t *testing.T) {
			e, _ := newEnvWith(t, env.adjust)
			alice := e.user(t, "alice", domain.RoleUser)
			suggested := 0
			for kind, query := range mistakes {
				res := e.post(t, alice.AccessToken, query, nil)
				if len(res.Errors) == 0 {
					t.Fatalf("%s: the mistake was accepted", kind)
				}
				for _, err := range res.Errors {
					if strings.Contains(err.Message, "Did you mean") {
						suggested++
						if !env.suggest {
							t.Errorf("%s: suggestion given: %s", kind, err.Message)
						}
					}
				}
			}
			if env.suggest && suggested < 4 {
				t.Fatalf("development gave %d suggestions; the mistakes above no longer provoke any, so this test proves nothing", suggested)
			}
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	e.user(t, "alice", domain.RoleUser)
	body := `{"query":"mutation { login(input: {username: \"alice\", password: \"correct horse battery\"}) { accessToken } }"}`
	requests := map[string]func() (*http.Response, error){
		"token response": func() (*http.Response, error) {
			return e.srv.Client().Post(e.srv.URL+"/graphql", "application/json", strings.NewReader(body))
		},
		"GET query": func() (*http.Response, error) { return e.srv.Client().Get(e.srv.URL + "/graphql?query={__typename}") },
		"refused body": func() (*http.Response, error) {
			return e.srv.Client().Post(e.srv.URL+"/graphql", "text/plain", strings.NewReader("x"))
		},
		"health":        func() (*http.Response, error) { return e.srv.Client().Get(e.srv.URL + "/healthz") },
		"playground":    func() (*http.Response, error) { return e.srv.Client().Get(e.srv.URL + "/") },
		"unknown path":  func() (*http.Response, error) { return e.srv.Client().Get(e.srv.URL + "/nope") },
		"metrics (dev)": func() (*http.Response, error) { return e.srv.Client().Get(e.srv.URL + "/metrics") },
	}
	for name, do := range requests {
		t.Run(name, func(t *testing.T) {
			resp, err := do()
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			for header, want := range map[string]string{
				"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Frame-Options": "DENY",
			} {
				if got := resp.Header.Get(header); got != want {
					t.Errorf("%s: got %q, want %q", header, got, want)
				}
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("Content-Security-Policy %q does not forbid framing", csp)
			}
		})
	}
}

func TestMetricsStayOffTheAPIPortInProduction(t *testing.T) {
	e, _ := newEnvWith(t, func(c *config) { c.Env, c.Introspection, c.MetricsAddr = "production", false, "127.0.0.1:0" })
	resp, err := e.srv.Client().Get(e.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("/metrics on the API port in production: HTTP %d, want 404", resp.StatusCode)
	}
	cfg, _, err := loadConfig(mapEnv(map[string]string{"APP_ENV": "production", "DATABASE_URL": "postgres://x", "JWT_SECRET": strings.Repeat("s", 32)}))
	if err != nil || cfg.MetricsAddr != "127.0.0.1:9090" {
		t.Fatalf("production default METRICS_ADDR: got %q (%v), want loopback 127.0.0.1:9090", cfg.MetricsAddr, err)
	}
}

func TestClientAddressBehindTrustedProxies(t *testing.T) {
	a := &app{}
	cfg, _, err := loadConfig(mapEnv(map[string]string{"DATABASE_URL": "postgres://x", "TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1,2001:db8::/32"}))
	if err != nil {
		t.Fatal(err)
	}
	a.trustedProxies = cfg.TrustedProxies
	tests := []struct {
		peer, forwarded, want string
	}{
		{"203.0.113.5:4000", "", "203.0.113.5"},
		{"203.0.113.5:4000", "6.6.6.6", "203.0.113.5"}, // an untrusted peer cannot name another client
		{"10.1.2.3:4000", "198.51.100.7", "198.51.100.7"},
		{"10.1.2.3:4000", "6.6.6.6, 198.51.100.7, 10.9.9.9", "198.51.100.7"}, // the client wrote 6.6.6.6 itself
		{"192.0.2.1:80", "garbage, 198.51.100.7", "198.51.100.7"},
		{"192.0.2.1:80", "198.51.100.7, garbage", "192.0.2.1"},
		{"192.0.2.2:80", "198.51.100.7", "192.0.2.2"},
		{"[2001:db8::1]:443", "2001:db9::5", "2001:db9::5"},
		{"[::ffff:10.0.0.1]:443", "198.51.100.8", "198.51.100.8"},
		{"10.0.0.1:80", "10.0.0.2, 10.0.0.3", "10.0.0.2"},
	}
	for _, tt := range tests {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tt.peer
		if tt.forwarded != "" {
			r.Header.Set("X-Forwarded-For", tt.forwarded)
		}
		if got := a.clientIP(r); got != tt.want {
			t.Errorf("peer %s, X-Forwarded-For %q: got %s, want %s", tt.peer, tt.forwarded, got, tt.want)
		}
	}
	if _, _, err := loadConfig(mapEnv(map[string]string{"DATABASE_URL": "postgres://x", "TRUSTED_PROXIES": "10.0.0.0/33"})); err == nil {
		t.Fatal("TRUSTED_PROXIES=10.0.0.0/33 accepted")
	}
}

// mapEnv is a getenv over a fixed set of variables.
func mapEnv(vars map[string]string) func(string) string {
	return func(key string) string { return vars[key] }
}
