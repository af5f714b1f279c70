// Package ingest takes transactions from a NATS JetStream stream and scores
// them through the submit pipeline, as if INGEST_USER had sent each with
// submitTransaction.
//
// Every instance pulls from one durable consumer, so the stream's messages
// are shared among them (queue semantics). A message is acknowledged only
// after its transaction committed; its id (the Nats-Msg-Id header, else its
// place in the stream) is the submission's idempotency key, so a redelivered
// or republished message returns the first result instead of committing
// again. A message that can never succeed (bad JSON, invalid input, an
// unknown or frozen user, a paused data source) goes to the dead-letter
// subject with its error and is terminated; one that failed for a passing
// reason (the database down) is redelivered after a delay.
//
// Results are not published here: the outbox's decision.made event covers
// every committed detection, whichever way it arrived.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/sync/semaphore"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
	"github.com/smartfinance/riskgraph/internal/submit"
	"github.com/smartfinance/riskgraph/internal/tracing"
)

// Defaults of the knobs (config.go documents them).
const (
	DefaultStream      = "RISKGRAPH_INGEST"
	DefaultSubject     = "riskgraph.ingest.transactions"
	DefaultDeadSubject = "riskgraph.ingest.dead"
)

// Durable is the consumer every instance shares.
const Durable = "riskgraph-ingest"

// Dead-letter headers: the error, and where the message came from. The
// original headers (other than the Nats-* ones) are kept beside them.
const (
	HeaderErrorCode      = "Riskgraph-Error-Code"
	HeaderErrorMessage   = "Riskgraph-Error-Message"
	HeaderOriginSubject  = "Riskgraph-Original-Subject"
	HeaderOriginSequence = "Riskgraph-Original-Sequence"
	HeaderOriginMsgID    = "Riskgraph-Original-Msg-Id"
)

const (
	// ackWait outlasts handleTimeout, so a message still being handled is
	// not redelivered to another instance meanwhile.
	ackWait       = 30 * time.Second
	handleTimeout = 20 * time.Second
	// fetchWait bounds one pull when the stream is idle, and so how long Run takes to stop.
	fetchWait = time.Second
	// maxAttempts bounds redeliveries of a failure that is not an outage (a
	// bug, a conflict that keeps recurring): then the message is dead-lettered.
	// An unavailable database is retried for as long as it is down.
	maxAttempts = 5
	// principalTTL is how long the ingest user's role and status are trusted.
	principalTTL = time.Second
	// streamMaxAge keeps processed and dead-lettered messages for inspection and replay.
	streamMaxAge = 7 * 24 * time.Hour
)

// Config is what config.go reads from INGEST_*.
type Config struct {
	Stream      string
	Subject     string
	DeadSubject string
	// User is the SERVICE account whose authority submits the messages; empty turns ingestion off.
	User string
	// Concurrency bounds the messages in flight on one instance; pulls ask for as many as are free.
	Concurrency int
	// RetryDelay is how long a message that failed for a passing reason waits before redelivery.
	RetryDelay time.Duration
}

// Validate checks the stream name and subjects as NATS would.
func (c Config) Validate() error {
	var errs []error
	if c.Stream == "" || strings.ContainsAny(c.Stream, ".*> \t\r\n/\\") {
		errs = append(errs, fmt.Errorf("INGEST_STREAM=%q: want a stream name without dots, wildcards, slashes or spaces", c.Stream))
	}
	for _, s := range []struct{ key, subject string }{{"INGEST_SUBJECT", c.Subject}, {"INGEST_DEAD_SUBJECT", c.DeadSubject}} {
		if !validSubject(s.subject) {
			errs = append(errs, fmt.Errorf("%s=%q: want a NATS subject such as riskgraph.ingest.transactions (no wildcards or spaces)", s.key, s.subject))
		}
	}
	if c.Subject == c.DeadSubject {
		errs = append(errs, errors.New("INGEST_DEAD_SUBJECT must differ from INGEST_SUBJECT"))
	}
	return errors.Join(errs...)
}

func validSubject(s string) bool {
	if s == "" || strings.ContainsAny(s, "*> \t\r\n") {
		return false
	}
	for tok := range strings.SplitSeq(s, ".") {
		if tok == "" {
			return false
		}
	}
	return true
}

// Submitter scores and records one transaction (submit.Service).
type Submitter interface {
	Submit(ctx context.Context, p auth.Principal, in submit.Input) (*submit.Result, error)
}

// Stats count one instance's outcomes since it started.
type Stats struct {
	// Acked are committed (or found already committed) and acknowledged.
	Acked uint64
	// DeadLettered went to the dead-letter subject.
	DeadLettered uint64
	// Retried were handed back for redelivery.
	Retried uint64
}

// Consumer is one instance's share of the durable consumer.
type Consumer struct {
	js     jetstream.JetStream
	db     bun.IDB
	submit Submitter
	cfg    Config
	log    *slog.Logger
	tracer trace.Tracer

	ready     chan struct{}
	readyOnce sync.Once

	// streamKey prefixes the idempotency key of a message without a
	// Nats-Msg-Id: its stream sequence is unique only in this stream's life.
	streamKey atomic.Pointer[string]

	principalMu sync.Mutex
	principal   auth.Principal
	checkedAt   time.Time
	refusal     error // why the ingest user can't submit, as of checkedAt

	acked, dead, retried atomic.Uint64
}

// New returns a consumer; Run starts it.
func New(js jetstream.JetStream, db bun.IDB, s Submitter, cfg Config, log *slog.Logger, tp trace.TracerProvider) *Consumer {
	return &Consumer{js: js, db: db, submit: s, cfg: cfg, log: log, tracer: tp.Tracer("github.com/smartfinance/riskgraph/internal/ingest"),
		ready: make(chan struct{})}
}

// Ready is closed once the stream and the consumer exist.
func (c *Consumer) Ready() <-chan struct{} { return c.ready }

// Stats returns this instance's counts.
func (c *Consumer) Stats() Stats {
	return Stats{Acked: c.acked.Load(), DeadLettered: c.dead.Load(), Retried: c.retried.Load()}
}

// Run pulls and handles messages until ctx ends, then waits for the ones in
// flight. NATS or the ingest user being unavailable is logged and retried.
func (c *Consumer) Run(ctx context.Context) {
	slots := semaphore.NewWeighted(int64(c.cfg.Concurrency))
	var inflight sync.WaitGroup
	defer inflight.Wait()
	// In-flight messages finish (and are acknowledged) after ctx ends.
	work := context.WithoutCancel(ctx)
	var cons jetstream.Consumer
	for ctx.Err() == nil {
		if cons == nil {
			var err error
			if cons, err = c.setup(ctx); err != nil {
				c.log.ErrorContext(ctx, "ingest: set up the stream and consumer; retrying", "stream", c.cfg.Stream, "err", err)
				sleep(ctx, c.cfg.RetryDelay)
				continue
			}
			c.readyOnce.Do(func() { close(c.ready) })
		}
		p, err := c.submitter(ctx)
		if err != nil {
			sleep(ctx, c.cfg.RetryDelay)
			continue
		}
		if slots.Acquire(ctx, 1) != nil {
			return
		}
		n := 1
		for n < c.cfg.Concurrency && slots.TryAcquire(1) {
			n++
		}
		batch, err := cons.Fetch(n, jetstream.FetchMaxWait(fetchWait))
		got := 0
		if err == nil {
			for msg := range batch.Messages() {
				got++
				inflight.Add(1)
				go func() {
					defer inflight.Done()
					defer slots.Release(1)
					c.handle(work, p, msg)
				}()
			}
			err = batch.Error()
		}
		slots.Release(int64(n - got))
		if err == nil && got == 0 {
			// A pull from a consumer deleted meanwhile just times out, as an
			// idle one does: ask whether it is still there.
			if _, infoErr := cons.Info(ctx); errors.Is(infoErr, jetstream.ErrConsumerNotFound) {
				err = infoErr
			}
		}
		if err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
			// The consumer may have been deleted, or NATS may be reconnecting: set up again.
			c.log.WarnContext(ctx, "ingest: pull failed; retrying", "err", err)
			cons = nil
			sleep(ctx, c.cfg.RetryDelay)
		}
	}
}

// setup creates the stream when it is missing (adding our subjects to an
// existing one when it lacks them) and the durable consumer.
func (c *Consumer) setup(ctx context.Context) (jetstream.Consumer, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	stream, err := c.js.Stream(ctx, c.cfg.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		stream, err = c.js.CreateStream(ctx, jetstream.StreamConfig{
			Name: c.cfg.Stream, Subjects: []string{c.cfg.Subject, c.cfg.DeadSubject},
			Storage: jetstream.FileStorage, Retention: jetstream.LimitsPolicy, MaxAge: streamMaxAge,
		})
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) { // another instance made it first
			stream, err = c.js.Stream(ctx, c.cfg.Stream)
		}
	}
	if err != nil {
		return nil, err
	}
	info := stream.CachedInfo()
	var missing []string
	for _, s := range []string{c.cfg.Subject, c.cfg.DeadSubject} {
		if !covered(info.Config.Subjects, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		sc := info.Config
		sc.Subjects = append(sc.Subjects, missing...)
		if stream, err = c.js.UpdateStream(ctx, sc); err != nil {
			return nil, fmt.Errorf("add subjects %v to stream %s: %w", missing, c.cfg.Stream, err)
		}
		info = stream.CachedInfo()
	}
	key := fmt.Sprintf("jetstream:%s@%d:", c.cfg.Stream, info.Created.UnixNano())
	c.streamKey.Store(&key)
	return c.js.CreateOrUpdateConsumer(ctx, c.cfg.Stream, jetstream.ConsumerConfig{
		Durable: Durable, FilterSubject: c.cfg.Subject, AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: ackWait, DeliverPolicy: jetstream.DeliverAllPolicy,
	})
}

// covered reports whether one of the stream's subjects (wildcards included) matches s.
func covered(patterns []string, s string) bool {
	tokens := strings.Split(s, ".")
	for _, p := range patterns {
		pt := strings.Split(p, ".")
		for i, t := range pt {
			if t == ">" && i < len(tokens) {
				return true
			}
			if i >= len(tokens) || (t != "*" && t != tokens[i]) {
				break
			}
			if i == len(pt)-1 && len(pt) == len(tokens) {
				return true
			}
		}
	}
	return false
}

// submitter is the ingest user as a principal. An account that is missing,
// not SERVICE or not ACTIVE submits nothing: messages wait in the stream.
func (c *Consumer) submitter(ctx context.Context) (auth.Principal, error) {
	c.principalMu.Lock()
	defer c.principalMu.Unlock()
	if time.Since(c.checkedAt) < principalTTL {
		return c.principal, c.refusal
	}
	u, err := store.UserByUsername(ctx, c.db, c.cfg.User)
	if ctx.Err() != nil { // stopping
		return auth.Principal{}, ctx.Err()
	}
	var refusal error
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		refusal = fmt.Errorf("INGEST_USER %q does not exist", c.cfg.User)
	case err != nil:
		refusal = fmt.Errorf("look up INGEST_USER: %w", err)
	case u.Role != domain.RoleService:
		refusal = fmt.Errorf("INGEST_USER %q is %s, not SERVICE", c.cfg.User, u.Role)
	case u.Status != domain.UserActive:
		refusal = fmt.Errorf("INGEST_USER %q is %s", c.cfg.User, u.Status)
	default:
		c.principal = auth.Principal{UserID: u.ID, Role: u.Role}
	}
	if refusal != nil && (c.refusal == nil || refusal.Error() != c.refusal.Error()) {
		c.log.ErrorContext(ctx, "ingest: paused until the ingest user can submit", "err", refusal)
	}
	if refusal == nil && c.refusal != nil {
		c.log.InfoContext(ctx, "ingest: resumed", "user", c.cfg.User)
	}
	c.refusal, c.checkedAt = refusal, time.Now()
	return c.principal, refusal
}

// handle scores one message and settles it: ack, dead letter, or redelivery.
func (c *Consumer) handle(ctx context.Context, p auth.Principal, msg jetstream.Msg) {
	// A publisher's traceparent header makes the processing part of its trace.
	ctx = tracing.Propagator.Extract(ctx, headerCarrier(msg.Headers()))
	ctx, span := c.tracer.Start(ctx, c.cfg.Subject+" process", trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("messaging.system", "nats"), attribute.String("messaging.destination.name", c.cfg.Subject)))
	defer span.End()
	ctx, cancel := context.WithTimeout(ctx, handleTimeout)
	defer cancel()

	meta, err := msg.Metadata()
	if err != nil { // not a JetStream message: nothing to settle
		c.log.ErrorContext(ctx, "ingest: message without metadata", "err", err)
		return
	}
	in, err := decode(msg.Data())
	if err == nil {
		in.IdempotencyKey = c.key(in.IdempotencyKey, msg, meta)
		_, err = c.submit.Submit(ctx, p, in)
	}
	if err == nil {
		if ackErr := msg.Ack(); ackErr != nil {
			// Redelivered later and answered from the idempotency key.
			c.log.WarnContext(ctx, "ingest: ack failed", "seq", meta.Sequence.Stream, "err", ackErr)
		}
		c.acked.Add(1)
		return
	}
	span.RecordError(err)
	span.SetStatus(codes.Error, string(apperr.CodeOf(err)))
	if retryable(err, meta.NumDelivered) {
		c.log.WarnContext(ctx, "ingest: will retry", "seq", meta.Sequence.Stream, "attempt", meta.NumDelivered, "err", err)
		c.nak(ctx, msg)
		return
	}
	if dlErr := c.deadLetter(ctx, msg, meta, err); dlErr != nil {
		c.log.ErrorContext(ctx, "ingest: dead-letter publish failed; will retry", "seq", meta.Sequence.Stream, "err", dlErr)
		c.nak(ctx, msg)
		return
	}
	c.dead.Add(1)
	c.log.WarnContext(ctx, "ingest: dead-lettered", "seq", meta.Sequence.Stream, "code", apperr.CodeOf(err), "err", err)
}

func (c *Consumer) nak(ctx context.Context, msg jetstream.Msg) {
	c.retried.Add(1)
	if err := msg.NakWithDelay(c.cfg.RetryDelay); err != nil {
		c.log.WarnContext(ctx, "ingest: nak failed; the ack wait will redeliver", "err", err)
	}
}

// key is the submission's idempotency key: the publisher's own
// idempotencyKey when the payload has one (the same key space as its
// GraphQL submissions), else the message id, else the stream position.
func (c *Consumer) key(own *string, msg jetstream.Msg, meta *jetstream.MsgMetadata) *string {
	if own != nil {
		return own
	}
	if id := msg.Headers().Get(jetstream.MsgIDHeader); id != "" {
		return &id
	}
	k := *c.streamKey.Load() + strconv.FormatUint(meta.Sequence.Stream, 10)
	return &k
}

// retryable tells a passing failure from one that will never succeed.
func retryable(err error, delivered uint64) bool {
	var e *apperr.Error
	if !errors.As(err, &e) {
		return delivered < maxAttempts // unclassified: a bug or an unexpected failure
	}
	switch e.Code {
	case apperr.Unavailable, apperr.RateLimited:
		return true
	case apperr.Conflict:
		// A concurrent update (serialization failure, deadlock, a racing
		// duplicate) settles on retry; a key reused with another body never does.
		return e.Err != nil && delivered < maxAttempts
	case apperr.Internal:
		return delivered < maxAttempts
	}
	return false
}

// deadLetter publishes the original payload and headers with the error to
// the dead-letter subject, then terminates the original.
func (c *Consumer) deadLetter(ctx context.Context, msg jetstream.Msg, meta *jetstream.MsgMetadata, cause error) error {
	code, text := apperr.CodeOf(cause), "internal error; see the server log"
	var e *apperr.Error
	if errors.As(cause, &e) && e.Code != apperr.Internal {
		text = e.Message
	}
	out := nats.NewMsg(c.cfg.DeadSubject)
	for k, vs := range msg.Headers() {
		if !strings.HasPrefix(k, "Nats-") {
			out.Header[k] = vs
		}
	}
	out.Header.Set(HeaderErrorCode, string(code))
	out.Header.Set(HeaderErrorMessage, oneLine(text))
	out.Header.Set(HeaderOriginSubject, msg.Subject())
	out.Header.Set(HeaderOriginSequence, strconv.FormatUint(meta.Sequence.Stream, 10))
	if id := msg.Headers().Get(jetstream.MsgIDHeader); id != "" {
		out.Header.Set(HeaderOriginMsgID, id)
	}
	out.Data = msg.Data()
	// Keyed by the original's place, so a redelivery after a crash here doesn't dead-letter it twice.
	if _, err := c.js.PublishMsg(ctx, out, jetstream.WithMsgID(fmt.Sprintf("riskgraph-dead:%s:%d", c.cfg.Stream, meta.Sequence.Stream))); err != nil {
		return err
	}
	return msg.Term()
}

// oneLine keeps a header value on one line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// headerCarrier adapts NATS headers, whose keys are case-sensitive, to propagation.
type headerCarrier nats.Header

func (h headerCarrier) Get(key string) string { return nats.Header(h).Get(key) }

func (h headerCarrier) Set(key, value string) { nats.Header(h).Set(key, value) }

func (h headerCarrier) Keys() []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	return keys
}
