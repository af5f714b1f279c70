package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// leanSubmit is what a payment gateway asks for (cmd/bench's query).
const leanSubmit = `mutation Submit($in: SubmitTransactionInput!) {
  submitTransaction(input: $in) {
    transaction { id status }
    detection { riskScore riskLevel decision reason matchedRules { name score } }
    alert { id level }
  }
}`

// BenchmarkSubmitTransaction: one submission through the real handler as an
// APQ client sends it (the hash only, after the first request) — the request
// path a gateway's load takes, for allocs/op and ns/op.
func BenchmarkSubmitTransaction(b *testing.B) {
	e := newEnv(b)
	e.clock.AdvanceToHour(12)
	s := e.user(b, "bench", domain.RoleUser)
	post := func(i int, withQuery bool) {
		if err := postLean(e, s.AccessToken, "", i, withQuery); err != nil {
			b.Fatal(err)
		}
	}
	post(0, true)
	before := gcCPU()
	i := 0
	for b.Loop() {
		i++
		post(i, false)
	}
	// CPU per submission (server and client, the process's user + system
	// time) and the collector's share of it by the runtime's own accounting,
	// to choose GOGC/GOMEMLIMIT by.
	after := gcCPU()
	b.ReportMetric((after[0]-before[0])/float64(b.N)*1e6, "gc-cpu-µs/op")
	b.ReportMetric((after[1]-before[1])/float64(b.N)*1e6, "cpu-µs/op")
}

// BenchmarkSubmitTransactionGroup is BenchmarkSubmitTransaction with 16
// clients, a gateway's, each submitting for its own user, so submissions meet
// in group commits as under make bench's load.
func BenchmarkSubmitTransactionGroup(b *testing.B) {
	const clients = 16
	e := newEnv(b)
	e.clock.AdvanceToHour(12)
	gateway := e.user(b, "bench", domain.RoleAdmin)
	users := make([]string, clients)
	for i := range users {
		users[i] = e.user(b, fmt.Sprintf("payer%d", i), domain.RoleUser).User.ID
	}
	post := func(i int, user string, withQuery bool) {
		if err := postLean(e, gateway.AccessToken, user, i, withQuery); err != nil {
			b.Error(err)
		}
	}
	post(0, users[0], true)
	e.srv.Client().Transport.(*http.Transport).MaxIdleConnsPerHost = clients
	before := gcCPU()
	var next atomic.Int64
	var client atomic.Int64
	b.SetParallelism((clients + 1) / 2)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		user := users[int(client.Add(1)-1)%clients]
		for pb.Next() {
			post(int(next.Add(1)), user, false)
		}
	})
	after := gcCPU()
	b.ReportMetric((after[0]-before[0])/float64(b.N)*1e6, "gc-cpu-µs/op")
	b.ReportMetric((after[1]-before[1])/float64(b.N)*1e6, "cpu-µs/op")
}

// gcCPU is the process's GC CPU seconds (runtime/metrics) and its user +
// system CPU seconds (getrusage) so far.
func gcCPU() [2]float64 {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru) //nolint:errcheck // RUSAGE_SELF can't fail
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return [2]float64{s[0].Value.Float64(), cpu.Seconds()}
}

// The guard's measures are kept per operation text, yet a complexity that
// depends on the variables (page sizes) is still counted for each request,
// and a refused text stays refused.
func TestGuardVerdictPerOperationText(t *testing.T) {
	e := newEnv(t)
	admin := e.user(t, "admin", domain.RoleAdmin)
	const paged = `query($n: Int) { users(first: $n) { edges { node { devices { users { id } } } } } }`
	for _, tt := range []struct {
		n    int
		code string
	}{{1, ""}, {100, "BAD_USER_INPUT"}, {1, ""}, {100, "BAD_USER_INPUT"}} {
		res := e.post(t, admin.AccessToken, paged, map[string]any{"n": tt.n})
		if res.code() != tt.code || tt.code != "" && !strings.Contains(res.Errors[0].Message, "complexity") {
			t.Fatalf("first: %d: got %+v, want code %q", tt.n, res.Errors, tt.code)
		}
	}
	deep := "id"
	for range 6 {
		deep = "devices { users { " + deep + " } }"
	}
	for range 2 {
		if res := e.post(t, admin.AccessToken, "{ me { "+deep+" } }", nil); res.code() != "BAD_USER_INPUT" || !strings.Contains(res.Errors[0].Message, "levels deep") {
			t.Fatalf("too deep: got %+v", res.Errors)
		}
	}
	for range 2 {
		e.must(t, admin.AccessToken, "{ me { devices { users { devices { id } } } } }", nil, nil)
	}
}

// postLean sends submission i as an APQ client does (the hash only, unless
// withQuery), for user (empty: the caller's own account).
func postLean(e *testEnv, token, user string, i int, withQuery bool) error {
	sum := sha256.Sum256([]byte(leanSubmit))
	in := map[string]any{"amount": fmt.Sprintf("%d.50", 10+i%900), "merchantId": fmt.Sprintf("m-%d", i%50), "idempotencyKey": fmt.Sprintf("lean-%d", i)}
	if user != "" {
		in["userId"] = user
	}
	req := map[string]any{"variables": map[string]any{"in": in},
		"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}}
	if withQuery {
		req["query"] = leanSubmit
	}
	body, _ := json.Marshal(req)
	r, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+token)
	resp, err := e.srv.Client().Do(r)
	if err != nil {
		return err
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || bytes.Contains(raw, []byte(`"errors"`)) {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, raw)
	}
	return nil
}
