package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smartfinance/riskgraph/cmd/internal/devserver"
)

// outboxDrain bounds the wait, after the run with an endpoint, for the
// dispatcher to deliver the run's last events (it polls every 250 ms by default).
const outboxDrain = 30 * time.Second

// outboxResult compares submitTransaction without any outbox sink and with
// one webhook endpoint taking every event type.
type outboxResult struct {
	without, with *moderateResult
	// events the triggers wrote during the run with the endpoint; received
	// the receiver's distinct webhook-ids (requests counts retries too).
	events, received, requests int
	drained                    time.Duration // end of the run → last event received (or the bound)
}

func (r *outboxResult) ratio() float64 {
	if r.without.throughput == 0 {
		return 0
	}
	return r.with.throughput / r.without.throughput
}

func (r *outboxResult) summary() string {
	drain := fmt.Sprintf("all in %s after the run", r.drained.Round(10*time.Millisecond))
	if r.received < r.events {
		drain = fmt.Sprintf("**%s missing** %s after the run", thousands(float64(r.events-r.received)), r.drained.Round(time.Second))
	}
	return fmt.Sprintf("%s req/s with ÷ %s without = %s · p99 %s vs %s · deliveries %s of %s events (%s requests), %s",
		thousands(r.with.throughput), thousands(r.without.throughput), times(r.ratio()), ms(r.with.latency.P99), ms(r.without.latency.P99),
		thousands(float64(r.received)), thousands(float64(r.events)), thousands(float64(r.requests)), drain)
}

// receiver is the run's webhook endpoint: it answers 204 and counts.
type receiver struct {
	mu       sync.Mutex
	ids      map[string]struct{}
	requests int
}

func newReceiver() *receiver { return &receiver{ids: map[string]struct{}{}} }

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	rc.requests++
	if id := r.Header.Get("webhook-id"); id != "" {
		rc.ids[id] = struct{}{}
	}
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// counts is the distinct events received and all requests.
func (rc *receiver) counts() (received, requests int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.ids), rc.requests
}

// runOutbox runs the closed loop of p.clients for d with no sink, then with
// one webhook endpoint (created through the API, every event type) served by
// this process, waits for its deliveries, and deletes it.
func runOutbox(ctx context.Context, db *benchDB, srv *devserver.Server, acc *accounts, pop *population, clients int, d time.Duration) (*outboxResult, error) {
	res := &outboxResult{}
	err := bounded(ctx, 2*d+outboxDrain+time.Minute, "outbox", func(ctx context.Context) error {
		conn, err := db.connect(ctx)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		var active bool
		if err := conn.QueryRow(ctx, "SELECT active FROM outbox_settings").Scan(&active); err != nil {
			return err
		}
		if active {
			return errors.New("the outbox already has a sink: the run without one would not be one")
		}
		if res.without, err = outboxWindow(ctx, conn, db, srv, acc, pop, "outbox: no sink", 6, clients, d); err != nil {
			return err
		}

		rc := newReceiver()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		hs := &http.Server{Handler: rc, ReadHeaderTimeout: 5 * time.Second}
		go hs.Serve(ln) //nolint:errcheck // ends with Close below
		defer hs.Close()
		api := &devserver.Client{URL: srv.GraphQLURL()}
		var out struct {
			UpsertWebhookEndpoint struct{ Endpoint struct{ ID string } }
		}
		if err := api.Do(ctx, acc.adminToken, `mutation($in: WebhookEndpointInput!) { upsertWebhookEndpoint(input: $in) { endpoint { id } } }`,
			map[string]any{"in": map[string]any{"url": "http://" + ln.Addr().String() + "/", "description": "make bench"}}, &out); err != nil {
			return fmt.Errorf("create the webhook endpoint: %w", err)
		}
		endpoint := out.UpsertWebhookEndpoint.Endpoint.ID
		defer func() {
			// Later phases run without a sink, as before this one.
			if err := api.Do(context.WithoutCancel(ctx), acc.adminToken, `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`,
				map[string]any{"id": endpoint}, nil); err != nil {
				log.Printf("outbox: delete the webhook endpoint %s: %v", endpoint, err)
			}
		}()
		var seqBefore int64
		if err := conn.QueryRow(ctx, "SELECT COALESCE(max(seq), 0) FROM outbox_events").Scan(&seqBefore); err != nil {
			return err
		}
		if res.with, err = outboxWindow(ctx, conn, db, srv, acc, pop, "outbox: one webhook endpoint", 7, clients, d); err != nil {
			return err
		}
		ended := time.Now()
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM outbox_events WHERE seq > $1", seqBefore).Scan(&res.events); err != nil {
			return err
		}
		for {
			res.received, res.requests = rc.counts()
			res.drained = time.Since(ended)
			if res.received >= res.events || res.drained >= outboxDrain {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		log.Printf("outbox: %s", res.summary())
		return srv.Alive()
	})
	return res, err
}

// outboxWindow is runModerate's closed loop with the CPU it took.
func outboxWindow(ctx context.Context, conn *pgx.Conn, db *benchDB, srv *devserver.Server, acc *accounts, pop *population, label string, seed uint64, clients int, d time.Duration) (*moderateResult, error) {
	before, err := sampleCPU(ctx, srv.PID(), conn, db.name)
	if err != nil {
		return nil, err
	}
	res, err := runModerate(ctx, srv, acc, pop, label, seed, clients, 0, d)
	if err != nil {
		return nil, err
	}
	after, err := sampleCPU(ctx, srv.PID(), conn, db.name)
	res.cpu = before.until(after)
	return res, err
}

// dropNATSSink undoes the NATS sink's registration, which the server makes at
// start because the ingestion phase needs NATS_URL: with it every phase would
// write and publish outbox events, and no run would be without a sink.
func dropNATSSink(ctx context.Context, db *benchDB) error {
	conn, err := db.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DELETE FROM outbox_publishers WHERE name = 'nats'")
	return err
}
