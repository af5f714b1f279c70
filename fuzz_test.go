package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// FuzzRequestDecoder throws arbitrary bodies at /graphql: every answer must be
// a JSON GraphQL response with a known code, never a 5xx, a panic or INTERNAL.
func FuzzRequestDecoder(f *testing.F) {
	for _, seed := range []string{
		`{"query":"{ me { id username } }"}`,
		`{"query":"mutation($in: SubmitTransactionInput!) { submitTransaction(input: $in) { detection { decision } } }","variables":{"in":{"amount":"1e400"}}}`,
		`{"query":"query($id: ID!) { user(id: $id) { id } }","variables":{"id":"-1"}}`,
		`{"query":"{ transactions(first: 2147483648) { totalCount } }"}`,
		`{"query":"{ __typename }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"00"}}}`,
		`{"query":"{ me { ...F } } fragment F on User { ...F }"}`,
		`{"query":"{ riskTrend(from: \"0000-01-01T00:00:00Z\", to: \"9999-12-31T00:00:00Z\") { events } }"}`,
		`[{"query":"{ me { id } }"}]`,
		`{"query": null, "variables": "x"}`,
		"\x00\xff{",
	} {
		f.Add([]byte(seed))
	}
	// One server for every input, built on f so its cleanups (server, database)
	// run when the fuzz target ends, in every fuzzing worker too.
	fuzzEnv := newEnv(f)
	fuzzToken := fuzzEnv.user(f, "fuzzer", domain.RoleAdmin).AccessToken
	f.Fuzz(func(t *testing.T, body []byte) {
		req, _ := http.NewRequest(http.MethodPost, fuzzEnv.srv.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+fuzzToken)
		resp, err := fuzzEnv.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 500 {
			t.Fatalf("HTTP %d for %q: %s", resp.StatusCode, body, raw)
		}
		var out struct {
			Errors []struct {
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("non-JSON answer %q for %q", raw, body)
		}
		for _, e := range out.Errors {
			if code, _ := e.Extensions["code"].(string); code == "" || code == "INTERNAL" {
				t.Fatalf("error without a client code for %q: %s", body, raw)
			}
		}
		if strings.Contains(string(raw), "sql") || strings.Contains(string(raw), "pq:") {
			t.Fatalf("answer leaks internals: %s", raw)
		}
	})
}
