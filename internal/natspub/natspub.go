// Package natspub publishes outbox events to NATS JetStream: one subject per
// event type (<prefix>.<type>), the event id as Nats-Msg-Id so JetStream
// drops a redelivered duplicate within its window.
package natspub

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/smartfinance/riskgraph/internal/outbox"
)

// Config names the connection and the stream.
type Config struct {
	URL string
	// Stream is created when missing, with Subjects(Prefix) (listed one by
	// one: other subjects under the prefix, such as ingestion's, belong to
	// other streams).
	Stream string
	Prefix string
	// Timeout bounds one publish (until JetStream's acknowledgement).
	Timeout time.Duration
}

// maxAge is how long the stream keeps events for consumers that fall behind.
const maxAge = 7 * 24 * time.Hour

// Subjects are the stream's subjects under prefix: one per event type.
func Subjects(prefix string) []string {
	out := make([]string, len(outbox.EventTypes))
	for i, t := range outbox.EventTypes {
		out[i] = prefix + "." + t
	}
	return out
}

// Publisher is an outbox.Sender for the NATS sink.
type Publisher struct {
	cfg Config
	nc  *nats.Conn
	js  jetstream.JetStream
}

// Connect connects (reconnecting on its own later) and makes sure the stream
// exists with every event subject.
func Connect(ctx context.Context, cfg Config) (*Publisher, error) {
	nc, err := nats.Connect(cfg.URL, nats.Name("riskgraph-outbox"), nats.MaxReconnects(-1))
	if err != nil {
		return nil, fmt.Errorf("natspub: connect: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("natspub: %w", err)
	}
	p := &Publisher{cfg: cfg, nc: nc, js: js}
	if err := p.ensureStream(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	return p, nil
}

func (p *Publisher) ensureStream(ctx context.Context) error {
	want := Subjects(p.cfg.Prefix)
	s, err := p.js.Stream(ctx, p.cfg.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = p.js.CreateStream(ctx, jetstream.StreamConfig{
			Name: p.cfg.Stream, Subjects: want, Storage: jetstream.FileStorage, MaxAge: maxAge,
			Description: "riskgraph outbox events",
		})
		if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) { // another instance won the race
			return fmt.Errorf("natspub: create stream %s: %w", p.cfg.Stream, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("natspub: look up stream %s: %w", p.cfg.Stream, err)
	}
	// A stream made by an older version lacks newer event types.
	cfg := s.CachedInfo().Config
	missing := false
	for _, subj := range want {
		if !slices.Contains(cfg.Subjects, subj) {
			cfg.Subjects, missing = append(cfg.Subjects, subj), true
		}
	}
	if missing {
		if _, err := p.js.UpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("natspub: add event subjects to stream %s: %w", p.cfg.Stream, err)
		}
	}
	return nil
}

// Send publishes one delivery's message and waits for JetStream's
// acknowledgement; the event id is the Nats-Msg-Id.
func (p *Publisher) Send(ctx context.Context, d *outbox.Delivery, _ outbox.Target) outbox.Result {
	body, err := d.Body()
	if err != nil {
		return outbox.Result{Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	msg := nats.NewMsg(p.cfg.Prefix + "." + d.EventType)
	msg.Data = body
	msg.Header.Set(jetstream.MsgIDHeader, d.EventID)
	msg.Header.Set("Content-Type", "application/json")
	if _, err := p.js.PublishMsg(ctx, msg); err != nil {
		return outbox.Result{Err: fmt.Errorf("publish: %w", err)}
	}
	return outbox.Result{}
}

// Close drains the connection.
func (p *Publisher) Close() { p.nc.Close() }
