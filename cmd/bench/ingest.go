package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/smartfinance/riskgraph/cmd/internal/devserver"
)

// The ingestion phase publishes this many messages up front, then times the
// server's JetStream consumer until every one is settled.
var ingestMessages = map[string]int{"full": 20_000, "quick": 5_000}

// benchIngest names the run's own stream and subjects, so a bench never
// shares messages with tests or another run on the same NATS server.
type benchIngest struct {
	stream, subject, dead string
}

func newBenchIngest() benchIngest {
	id := strings.ToLower(rand.Text()[:10])
	return benchIngest{stream: "BENCH_INGEST_" + strings.ToUpper(id), subject: "bench." + id + ".transactions", dead: "bench." + id + ".dead"}
}

// env is what the server needs to ingest as the bench's SERVICE account; it
// has INGEST_CONCURRENCY's default, 16 in flight, as the HTTP runs have 16 clients.
func (b benchIngest) env(natsURL string) []string {
	return []string{"NATS_URL=" + natsURL, "INGEST_USER=bench-gateway", "INGEST_STREAM=" + b.stream,
		"INGEST_SUBJECT=" + b.subject, "INGEST_DEAD_SUBJECT=" + b.dead, "INGEST_RETRY_DELAY=1s"}
}

// ingestResult is one ingestion run.
type ingestResult struct {
	messages  int
	published time.Duration // publishing every message (the consumer already at work)
	elapsed   time.Duration // first publish → every message settled
	committed int           // transactions the run added
	dead      int           // messages on the dead-letter subject
}

func (r *ingestResult) rate() float64 { return float64(r.committed) / r.elapsed.Seconds() }

// runIngest publishes the workload's submissions to the ingest subject and
// waits until the server's consumer has settled them all.
func runIngest(ctx context.Context, natsURL string, b benchIngest, db *benchDB, srv *devserver.Server, pop *population, p plan) (*ingestResult, error) {
	res := &ingestResult{messages: ingestMessages[p.name]}
	err := bounded(ctx, 5*time.Minute, "ingestion", func(ctx context.Context) error {
		nc, err := nats.Connect(natsURL)
		if err != nil {
			return fmt.Errorf("connect to %s: %w", natsURL, err)
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			return err
		}
		defer js.DeleteStream(context.WithoutCancel(ctx), b.stream) //nolint:errcheck // the run is over either way
		conn, err := db.connect(ctx)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		var before int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM transactions").Scan(&before); err != nil {
			return err
		}
		var consumer jetstream.Consumer
		for consumer == nil { // the server makes the stream and its consumer at start
			if consumer, err = js.Consumer(ctx, b.stream, "riskgraph-ingest"); err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("the server's ingest consumer never appeared: %w", err)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		gen := newGenerator(pop, fmt.Sprintf("ingest-%d", time.Now().UnixNano()), 3)
		start := time.Now()
		for range res.messages {
			in := gen.next()
			body, err := json.Marshal(in)
			if err != nil {
				return err
			}
			msg := nats.NewMsg(b.subject)
			msg.Data = body
			msg.Header.Set(jetstream.MsgIDHeader, in.IdempotencyKey)
			if _, err := js.PublishMsgAsync(msg); err != nil {
				return err
			}
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-ctx.Done():
			return ctx.Err()
		}
		res.published = time.Since(start)
		for {
			info, err := consumer.Info(ctx)
			if err != nil {
				return err
			}
			if info.NumPending == 0 && info.NumAckPending == 0 && info.Delivered.Stream >= uint64(res.messages) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		res.elapsed = time.Since(start)
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM transactions").Scan(&res.committed); err != nil {
			return err
		}
		res.committed -= before
		dead, err := js.Stream(ctx, b.stream)
		if err != nil {
			return err
		}
		info, err := dead.Info(ctx, jetstream.WithSubjectFilter(b.dead))
		if err != nil {
			return err
		}
		for _, n := range info.State.Subjects {
			res.dead += int(n)
		}
		log.Printf("ingest: %d messages published in %s, settled in %s: %d committed (%.0f/s), %d dead letters",
			res.messages, res.published.Round(time.Millisecond), res.elapsed.Round(time.Millisecond), res.committed, res.rate(), res.dead)
		return srv.Alive()
	})
	return res, err
}

// summary compares the rate with the GraphQL path's at the same data size.
func (r *ingestResult) summary(graphql *loadResult) string {
	return fmt.Sprintf("%s msgs/s committed (%s of %s messages; %d dead letters; publishing took %s) · %.0f%% of submitTransaction's %s req/s after history",
		thousands(r.rate()), thousands(float64(r.committed)), thousands(float64(r.messages)), r.dead, r.published.Round(time.Millisecond),
		100*r.rate()/graphql.throughput, thousands(graphql.throughput))
}
