package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/smartfinance/riskgraph/cmd/internal/devserver"
)

// loadResult is one end-to-end run's measured window.
type loadResult struct {
	requests   int
	ok         int
	throughput float64 // successful submissions per second
	latency    vegeta.LatencyMetrics
	errors     map[string]int // by error code or HTTP status
	levels     map[string]int // risk level of successful submissions
	bursts     int
	cpu        cpuUse
	// stages is the measured window's feature read and scoring time per submission.
	stages stageCost
}

func (r *loadResult) riskyShare() float64 {
	if r.ok == 0 {
		return 0
	}
	return float64(r.levels["MEDIUM"]+r.levels["HIGH"]) / float64(r.ok)
}

func (r *loadResult) errorCount() int { return r.requests - r.ok }

// runLoad drives submitTransaction with a closed loop of p.clients workers:
// a warm-up, then the measured window.
func runLoad(ctx context.Context, o options, db *benchDB, srv *devserver.Server, acc *accounts, pop *population, label string, seed uint64) (*loadResult, error) {
	p := o.plan
	var res *loadResult
	err := bounded(ctx, p.warmup+p.measure+time.Minute, "end-to-end "+label, func(ctx context.Context) error {
		gen := newGenerator(pop, fmt.Sprintf("%s-%d", label, time.Now().UnixNano()), seed)
		// The first request carries the document and registers its hash;
		// the rest send only the hash, as APQ clients do.
		if err := registerPersistedQuery(ctx, &devserver.Client{URL: srv.GraphQLURL()}, acc.gatewayToken, gen.next()); err != nil {
			return err
		}
		targeter := submitTargeter(srv.GraphQLURL(), acc.gatewayToken, gen)
		for range attack(ctx, p.clients, targeter, p.warmup) {
		}
		if err := srv.Alive(); err != nil {
			return err
		}
		conn, err := db.connect(ctx)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		stopProfile := captureProfile(o, label, p.measure)
		res = &loadResult{errors: map[string]int{}, levels: map[string]int{}}
		metricsURL := "http://" + o.metricsAddr + "/metrics"
		stagesBefore, err := scrapeStages(ctx, metricsURL)
		if err != nil {
			return err
		}
		burstsBefore := gen.bursts()
		before, err := sampleCPU(ctx, srv.PID(), conn, db.name)
		if err != nil {
			return err
		}
		var m vegeta.Metrics
		for r := range attack(ctx, p.clients, targeter, p.measure) {
			res.tally(r)
			m.Add(r)
		}
		after, err := sampleCPU(ctx, srv.PID(), conn, db.name)
		if err != nil {
			return err
		}
		res.cpu = before.until(after)
		stages, err := scrapeStages(ctx, metricsURL)
		if err != nil {
			return err
		}
		res.stages = stages.since(stagesBefore)
		m.Close()
		stopProfile()
		res.bursts = gen.bursts() - burstsBefore
		res.latency = m.Latencies
		if wall := (m.Duration + m.Wait).Seconds(); wall > 0 {
			res.throughput = float64(res.ok) / wall
		}
		log.Printf("%s: %d requests, %.0f ok/s, p50 %s p95 %s p99 %s, errors %v, MEDIUM/HIGH %.1f%%; %s",
			label, res.requests, res.throughput, ms(m.Latencies.P50), ms(m.Latencies.P95), ms(m.Latencies.P99), res.errors, 100*res.riskyShare(), res.cpuSummary())
		return srv.Alive()
	})
	return res, err
}

// submitTargeter sends gen's submissions by their persisted query's hash.
func submitTargeter(url, token string, gen *generator) vegeta.Targeter {
	header := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + token}}
	return func(t *vegeta.Target) error {
		*t = vegeta.Target{Method: http.MethodPost, URL: url, Body: submitBody(gen.next(), false), Header: header}
		return nil
	}
}

// attack runs one closed-loop vegeta attack: clients workers, each sending
// its next request as soon as the previous one is answered (rate 0).
func attack(ctx context.Context, clients int, tr vegeta.Targeter, d time.Duration) <-chan *vegeta.Result {
	return attackAt(ctx, clients, clients, vegeta.ConstantPacer{}, tr, d)
}

// attackAt runs one vegeta attack paced by pacer, with up to maxClients
// workers (an open loop needs more than it starts with when answers slow).
func attackAt(ctx context.Context, clients, maxClients int, pacer vegeta.Pacer, tr vegeta.Targeter, d time.Duration) <-chan *vegeta.Result {
	// An attacker can't be reused once an attack ends, so each gets its own.
	a := vegeta.NewAttacker(vegeta.Workers(uint64(clients)), vegeta.MaxWorkers(uint64(maxClients)),
		vegeta.Connections(maxClients), vegeta.KeepAlive(true), vegeta.Timeout(15*time.Second), vegeta.MaxBody(4<<20))
	stop := context.AfterFunc(ctx, func() { a.Stop() })
	out := make(chan *vegeta.Result)
	go func() {
		defer close(out)
		defer stop()
		for r := range a.Attack(tr, pacer, d, "submit") {
			out <- r
		}
	}()
	return out
}

// tally counts one response: transport errors, GraphQL errors by code, risk levels.
func (r *loadResult) tally(res *vegeta.Result) {
	r.requests++
	if res.Error != "" {
		r.errors["http: "+res.Error]++
		return
	}
	var body struct {
		Data *struct {
			SubmitTransaction *struct {
				Detection struct{ RiskLevel string }
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
	if body.Data == nil || body.Data.SubmitTransaction == nil {
		r.errors["empty response"]++
		return
	}
	r.ok++
	r.levels[body.Data.SubmitTransaction.Detection.RiskLevel]++
}

func registerPersistedQuery(ctx context.Context, api *devserver.Client, token string, in submitInput) error {
	resp, err := api.Post(ctx, token, submitBody(in, true))
	if err != nil {
		return err
	}
	if resp.Err() != nil {
		return fmt.Errorf("first submission failed: %s", resp.Body)
	}
	return nil
}

// captureProfile saves a CPU profile of the server covering most of the
// measured window when -profile-dir is set; the returned func waits for it.
func captureProfile(o options, label string, window time.Duration) (wait func()) {
	if o.profileDir == "" {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		seconds := max(1, int(window.Seconds())-2)
		resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", o.pprofAddr, seconds))
		if err != nil {
			log.Printf("profile: %v", err)
			return
		}
		defer resp.Body.Close()
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			log.Printf("profile: %v", err)
			return
		}
		path := filepath.Join(o.profileDir, "cpu-"+label+".pprof")
		f, err := os.Create(path)
		if err != nil {
			log.Printf("profile: %v", err)
			return
		}
		defer f.Close()
		if _, err := io.Copy(f, resp.Body); err != nil {
			log.Printf("profile: %v", err)
			return
		}
		log.Printf("profile: %s", path)
	}()
	return func() { <-done }
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
