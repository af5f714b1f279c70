package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/smartfinance/riskgraph/cmd/internal/devserver"
)

// Bulk submission as a batching gateway sends it.
const (
	bulkClients = 4
	// bulkItems per call keeps a call's body under the default 64 KiB limit.
	bulkItems = 100
)

const bulkQuery = `mutation Bulk($inputs: [SubmitTransactionInput!]!) {
  submitTransactions(inputs: $inputs) {
    index
    payload { transaction { id status } detection { riskScore riskLevel decision } }
    error { code message field }
  }
}`

// bulkResult is the bulk run's measured window; missing says why there was
// none (the server's schema has no submitTransactions).
type bulkResult struct {
	missing    string
	calls      int
	items      int // items answered with a payload
	errors     map[string]int
	throughput float64 // items answered with a payload per second
	latency    vegeta.LatencyMetrics
	cpu        cpuUse
}

// runBulk sends bulkItems submissions per call from bulkClients closed-loop
// clients for d. A server without the mutation is reported, not failed.
func runBulk(ctx context.Context, db *benchDB, srv *devserver.Server, acc *accounts, pop *population, seed uint64, d time.Duration) (*bulkResult, error) {
	res := &bulkResult{errors: map[string]int{}}
	err := bounded(ctx, d+time.Minute, "bulk", func(ctx context.Context) error {
		gen := newGenerator(pop, fmt.Sprintf("bulk-%d", time.Now().UnixNano()), seed)
		probe, err := (&devserver.Client{URL: srv.GraphQLURL()}).Post(ctx, acc.gatewayToken, bulkBody(gen, 1))
		if err != nil {
			return err
		}
		if e := probe.Err(); e != nil {
			if len(probe.Errors) > 0 && probe.Errors[0].Extensions.Code == "GRAPHQL_VALIDATION_FAILED" && strings.Contains(probe.Errors[0].Message, "submitTransactions") {
				res.missing = "not available: the server's schema has no submitTransactions"
				log.Printf("bulk: %s", res.missing)
				return nil
			}
			return fmt.Errorf("bulk probe: %w", e)
		}
		header := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + acc.gatewayToken}}
		targeter := func(t *vegeta.Target) error {
			*t = vegeta.Target{Method: http.MethodPost, URL: srv.GraphQLURL(), Body: bulkBody(gen, bulkItems), Header: header}
			return nil
		}
		conn, err := db.connect(ctx)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		before, err := sampleCPU(ctx, srv.PID(), conn, db.name)
		if err != nil {
			return err
		}
		var m vegeta.Metrics
		for r := range attack(ctx, bulkClients, targeter, d) {
			res.tally(r)
			m.Add(r)
		}
		after, err := sampleCPU(ctx, srv.PID(), conn, db.name)
		if err != nil {
			return err
		}
		res.cpu = before.until(after)
		m.Close()
		res.latency = m.Latencies
		if wall := (m.Duration + m.Wait).Seconds(); wall > 0 {
			res.throughput = float64(res.items) / wall
		}
		log.Printf("bulk: %d calls of %d, %.0f items/s, p99 %s per call, errors %v", res.calls, bulkItems, res.throughput, ms(res.latency.P99), res.errors)
		return srv.Alive()
	})
	return res, err
}

func bulkBody(gen *generator, n int) []byte {
	inputs := make([]submitInput, n)
	for i := range inputs {
		inputs[i] = gen.next()
	}
	b, err := json.Marshal(devserver.Request{Query: bulkQuery, Variables: map[string]any{"inputs": inputs}})
	if err != nil {
		panic(err) // plain structs always marshal
	}
	return b
}

// tally counts one call's items: those with a payload, and errors by code
// (the call's own, or each item's).
func (r *bulkResult) tally(res *vegeta.Result) {
	r.calls++
	if res.Error != "" {
		r.errors["http: "+res.Error]++
		return
	}
	var body struct {
		Data *struct {
			SubmitTransactions []struct {
				Payload *json.RawMessage
				Error   *struct{ Code string }
			}
		}
		Errors []devserver.Error
	}
	if err := json.Unmarshal(res.Body, &body); err != nil {
		r.errors["undecodable response"]++
		return
	}
	if len(body.Errors) > 0 {
		r.errors[body.Errors[0].Extensions.Code]++
		res.Error = body.Errors[0].Error()
		return
	}
	if body.Data == nil {
		r.errors["empty response"]++
		return
	}
	for _, item := range body.Data.SubmitTransactions {
		switch {
		case item.Error != nil:
			r.errors["item "+item.Error.Code]++
		case item.Payload != nil:
			r.items++
		}
	}
}

func (r *bulkResult) summary() string {
	if r.missing != "" {
		return r.missing
	}
	errs := "errors none"
	if len(r.errors) > 0 {
		var kinds []string
		for _, k := range slices.Sorted(maps.Keys(r.errors)) {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, r.errors[k]))
		}
		errs = "errors: " + strings.Join(kinds, ", ")
	}
	return fmt.Sprintf("%s items/s (%d clients × %d items a call) · per call p50 %s · p99 %s · %s · CPU per item: server %s ms, PostgreSQL %s ms",
		thousands(r.throughput), bulkClients, bulkItems, ms(r.latency.P50), ms(r.latency.P99), errs,
		perRequest(r.cpu.server, r.items), perRequest(r.cpu.db, r.items))
}
