package main

import (
	"context"
	"fmt"
	"log"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/smartfinance/riskgraph/cmd/internal/devserver"
)

// Latency under moderate load: a payment system runs well below its
// maximum, where latency is the service's own, not queueing.
const (
	// moderateClients is the closed loop's concurrency.
	moderateClients = 4
	// openLoopShare of the 16-client throughput is the open loop's rate.
	openLoopShare = 0.5
	// openLoopMaxClients bounds the open loop's workers: enough to keep the
	// rate through a stall, few enough not to become a closed loop of hundreds.
	openLoopMaxClients = 256
)

// moderateResult is one moderate-load run: an open loop at a fixed rate
// (rate > 0) or a closed loop of clients.
type moderateResult struct {
	rate    float64
	clients int
	*loadResult
}

// runModerate submits as runLoad does, for d, without a warm-up (the server
// is warm from the run before): paced at rate a second when rate > 0
// (arrivals don't wait for answers, as a payment system's don't), else a
// closed loop of clients.
func runModerate(ctx context.Context, srv *devserver.Server, acc *accounts, pop *population, label string, seed uint64, clients int, rate float64, d time.Duration) (*moderateResult, error) {
	res := &moderateResult{rate: rate, clients: clients, loadResult: &loadResult{errors: map[string]int{}, levels: map[string]int{}}}
	err := bounded(ctx, d+time.Minute, label, func(ctx context.Context) error {
		gen := newGenerator(pop, fmt.Sprintf("%s-%d", label, time.Now().UnixNano()), seed)
		targeter := submitTargeter(srv.GraphQLURL(), acc.gatewayToken, gen)
		var pacer vegeta.Pacer = vegeta.ConstantPacer{}
		maxClients := clients
		if rate > 0 {
			pacer = vegeta.ConstantPacer{Freq: max(1, int(rate)), Per: time.Second}
			maxClients = openLoopMaxClients
		}
		var m vegeta.Metrics
		for r := range attackAt(ctx, clients, maxClients, pacer, targeter, d) {
			res.tally(r)
			m.Add(r)
		}
		m.Close()
		res.latency = m.Latencies
		if wall := (m.Duration + m.Wait).Seconds(); wall > 0 {
			res.throughput = float64(res.ok) / wall
		}
		log.Printf("%s: %d requests, %.0f ok/s, p50 %s p99 %s, errors %v", label, res.requests, res.throughput,
			ms(res.latency.P50), ms(res.latency.P99), res.errors)
		return srv.Alive()
	})
	return res, err
}

func (r *moderateResult) summary() string {
	if r.rate > 0 {
		return fmt.Sprintf("offered %s/s, answered %s · p50 %s · p95 %s · p99 %s · errors %d of %s",
			thousands(r.rate), fmt.Sprintf("%s ok/s", thousands(r.throughput)), ms(r.latency.P50), ms(r.latency.P95), ms(r.latency.P99),
			r.errorCount(), thousands(float64(r.requests)))
	}
	return fmt.Sprintf("%s req/s · p50 %s · p95 %s · p99 %s · errors %d of %s",
		thousands(r.throughput), ms(r.latency.P50), ms(r.latency.P95), ms(r.latency.P99), r.errorCount(), thousands(float64(r.requests)))
}
