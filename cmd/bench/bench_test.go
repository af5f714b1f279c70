package main

import (
	"context"
	"fmt"
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
