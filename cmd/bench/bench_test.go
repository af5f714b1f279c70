package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The batch-size histogram is read across label sets and differenced.
func TestScrapeHistogram(t *testing.T) {
	exposition := func(scale float64) string {
		return fmt.Sprintf(`# HELP riskgraph_submit_batch_size Submissions per database transaction.
# TYPE riskgraph_submit_batch_size histogram
riskgraph_submit_batch_size_bucket{instance="a",le="1"} %[1]g
riskgraph_submit_batch_size_bucket{instance="a",le="4"} %[2]g
riskgraph_submit_batch_size_bucket{instance="a",le="+Inf"} %[3]g
riskgraph_submit_batch_size_sum{instance="a"} %[4]g
riskgraph_submit_batch_size_count{instance="a"} %[3]g
riskgraph_submit_batch_size_bucket{instance="b",le="1"} 0
riskgraph_submit_batch_size_bucket{instance="b",le="4"} %[3]g
riskgraph_submit_batch_size_bucket{instance="b",le="+Inf"} %[3]g
riskgraph_submit_batch_size_sum{instance="b"} %[4]g
riskgraph_submit_batch_size_count{instance="b"} %[3]g
riskgraph_other_bucket{le="1"} 99
`, 10*scale, 40*scale, 50*scale, 120*scale)
	}
	scale := 1.0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, exposition(scale)) }))
	defer srv.Close()
	before, err := scrapeHistogram(context.Background(), srv.URL, batchMetric)
	if err != nil || before == nil {
		t.Fatalf("scrape: %v %v", before, err)
	}
	scale = 3
	after, _ := scrapeHistogram(context.Background(), srv.URL, batchMetric)
	d := after.since(before)
	if d.count != 200 || d.sum != 480 || fmt.Sprint(d.counts) != "[20 180 200]" {
		t.Fatalf("difference: got %+v", d)
	}
	if d.quantile(0.5) != 4 || d.quantile(0.999) <= 4 {
		t.Fatalf("quantiles: p50 %v p99.9 %v", d.quantile(0.5), d.quantile(0.999))
	}
	if got, want := d.summary(), "200 batches · mean 2.4 submissions · p50 ≤ 4 · p99 ≤ +Inf · batches by size ≤1: 10%, ≤4: 80%, ≤+Inf: 10%"; got != want {
		t.Fatalf("summary:\n got %s\nwant %s", got, want)
	}
	if h, err := scrapeHistogram(context.Background(), srv.URL, "riskgraph_absent"); h != nil || err != nil {
		t.Fatalf("absent metric: got %+v, %v", h, err)
	}
}

// A bulk call's items count one by one: payloads, item errors by code, and
// a failed call by its own code.
func TestBulkTally(t *testing.T) {
	r := &bulkResult{errors: map[string]int{}}
	r.tally(&vegeta.Result{Body: []byte(`{"data":{"submitTransactions":[
		{"index":0,"payload":{"transaction":{"id":"1","status":"APPROVED"}},"error":null},
		{"index":1,"payload":null,"error":{"code":"BAD_USER_INPUT","message":"amount","field":"amount"}},
		{"index":2,"payload":{"transaction":{"id":"2","status":"APPROVED"}},"error":null}]}}`)})
	r.tally(&vegeta.Result{Body: []byte(`{"errors":[{"message":"slow down","extensions":{"code":"RATE_LIMITED"}}],"data":null}`)})
	r.tally(&vegeta.Result{Error: "timeout"})
	if r.calls != 3 || r.items != 2 || r.errors["item BAD_USER_INPUT"] != 1 || r.errors["RATE_LIMITED"] != 1 || r.errors["http: timeout"] != 1 {
		t.Fatalf("tally: got %+v", r)
	}
}

// The receiver answers 204 and counts events by webhook-id (a retry is one
// more request, not one more event); the row reads missing events plainly.
func TestOutboxReceiver(t *testing.T) {
	rc := newReceiver()
	srv := httptest.NewServer(rc)
	defer srv.Close()
	for _, id := range []string{"msg_1", "msg_2", "msg_1"} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, nil)
		req.Header.Set("webhook-id", id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("delivery %s: %v %v", id, resp, err)
		}
		resp.Body.Close()
	}
	if received, requests := rc.counts(); received != 2 || requests != 3 {
		t.Fatalf("counts: got %d events in %d requests", received, requests)
	}
	run := func(ok float64) *moderateResult {
		return &moderateResult{loadResult: &loadResult{throughput: ok}}
	}
	r := &outboxResult{without: run(800), with: run(600), events: 5, received: 3, requests: 4, drained: outboxDrain}
	if got, want := r.summary(), "600 req/s with ÷ 800 without = 0.75× · p99 0.0 ms vs 0.0 ms · deliveries 3 of 5 events (4 requests), **2 missing** 30s after the run"; got != want {
		t.Fatalf("summary:\n got %s\nwant %s", got, want)
	}
}

// The stage histograms read as means with quantiles interpolated inside
// their buckets; a server without them says so.
func TestStageSummary(t *testing.T) {
	read := &histogram{bounds: []float64{0.0005, 0.001, 0.002, math.Inf(1)}, counts: []float64{50, 90, 100, 100}, sum: 0.08, count: 100}
	score := &histogram{bounds: []float64{0.00001, 0.00004, math.Inf(1)}, counts: []float64{0, 98, 100}, sum: 0.0025, count: 100}
	if got := read.interpolated(0.25); math.Abs(got-0.00025) > 1e-12 {
		t.Errorf("p25: got %v; want 0.00025 (half way into the first bucket, from 0)", got)
	}
	if got := read.interpolated(0.99); math.Abs(got-0.0019) > 1e-12 {
		t.Errorf("p99: got %v; want 0.0019", got)
	}
	if got := score.interpolated(0.995); got != 0.00004 {
		t.Errorf("p99.5 in the +Inf bucket: got %v; want the highest finite bound", got)
	}
	got := stageCost{read: read, score: score}.summary()
	want := "feature read mean 0.80 ms (p50 ≈ 0.50 ms, p99 ≈ 1.90 ms) · scoring mean 25 µs (p50 ≈ 25 µs, p99 ≈ 40 µs) · 100 submissions"
	if got != want {
		t.Errorf("summary:\n got %s\nwant %s", got, want)
	}
	if got := (stageCost{}).since(stageCost{}).summary(); got != "not exposed (no riskgraph_submit_feature_read_seconds on /metrics)" {
		t.Errorf("absent: got %s", got)
	}
}

// The entity features' cost is read from the benchmark's custom units and
// set against the hot path's CPU per submission without them.
func TestEntityCost(t *testing.T) {
	out := `goos: linux
BenchmarkFeatureReadEntityCost-2   	     500	   2100000 ns/op	       900.0 after-cpu-µs/read	      1200 after-µs/read	       600.0 before-cpu-µs/read	       800.0 before-µs/read
PASS`
	m, err := benchMetrics(out, "BenchmarkFeatureReadEntityCost")
	if err != nil || m["before-µs/read"] != 800 || m["after-cpu-µs/read"] != 900 || m["ns/op"] != 2100000 {
		t.Fatalf("metrics: got %v, %v", m, err)
	}
	c := &entityCost{reads: 500, beforeUs: 800, afterUs: 1200, beforeCPU: 600, afterCPU: 900, cpuMeasured: true}
	// 300 µs more on a hot path of 2,300 µs with them: 300 ÷ 2,000 = 15 %.
	if got := c.share(2300); math.Abs(got-0.15) > 1e-12 {
		t.Errorf("share: got %v; want 0.15", got)
	}
	want := "feature read 0.80 ms → 1.20 ms (+50 %) · backend CPU 0.60 ms → 0.90 ms per read (+50 %) · +0.30 ms per submission = +15 % of the hot path's CPU per submission without them (2.00 ms, server + PostgreSQL)"
	if got := c.summary(2300); got != want {
		t.Errorf("summary:\n got %s\nwant %s", got, want)
	}
	if _, err := benchMetrics(out, "BenchmarkAbsent"); err == nil {
		t.Error("absent benchmark: got no error")
	}
}
