package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Target is where a webhook delivery is sent: the endpoint's URL and the
// secrets that sign it (two during a rotation's overlap).
type Target struct {
	URL     string
	Secrets []string
}

// Result is one attempt's outcome: Err nil means delivered. ResponseStatus is
// the HTTP status when there was one.
type Result struct {
	ResponseStatus int
	Err            error
}

// Sender sends one delivery's message; it bounds its own time.
type Sender interface {
	Send(ctx context.Context, d *Delivery, t Target) Result
}

// Options configure a Dispatcher.
type Options struct {
	DB *bun.DB
	// Webhooks sends webhook deliveries (required).
	Webhooks Sender
	// NATS publishes NATS deliveries; nil when this instance has no NATS_URL
	// (another instance's dispatcher publishes them).
	NATS Sender
	// Workers claim and attempt deliveries concurrently, each holding one
	// connection (and its rows' locks) for the length of its batch's attempts.
	Workers int
	// PollInterval bounds how late a decision.made event (whose trigger does
	// not notify) or an event whose notification was lost is seen.
	PollInterval time.Duration
	// MaxAttempts before a delivery is dead-lettered (DEAD).
	MaxAttempts int
	// RetryBase doubles after each failed attempt up to RetryMax, with jitter.
	RetryBase, RetryMax time.Duration
	// Retention keeps events (and their final deliveries) this long.
	Retention time.Duration
	Now       func() time.Time
	Log       *slog.Logger
}

// Dispatcher fans events out to deliveries and attempts them.
type Dispatcher struct {
	o     Options
	wakes []chan struct{}
	fan   chan struct{}
}

// Lock keys of the instance-wide jobs: one fan-out and one clean-up at a time.
const (
	fanOutLock  = 0x6f7574626f7801 // "outbox" 1
	cleanUpLock = 0x6f7574626f7802
)

// fanOutBatch and cleanUpBatch bound one statement's rows.
const (
	fanOutBatch  = 500
	cleanUpBatch = 1000
)

// New returns a dispatcher; Run starts it.
func New(o Options) *Dispatcher {
	if o.Workers < 1 {
		o.Workers = 1
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	d := &Dispatcher{o: o, fan: make(chan struct{}, 1)}
	for range o.Workers {
		d.wakes = append(d.wakes, make(chan struct{}, 1))
	}
	return d
}

// Wake tells the dispatcher events may be waiting (a notification arrived);
// it never blocks.
func (d *Dispatcher) Wake() {
	select {
	case d.fan <- struct{}{}:
	default:
	}
}

// Run fans out and delivers until ctx ends; it returns once every worker has
// finished its attempt in flight.
func (d *Dispatcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, wake := range d.wakes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.work(ctx, wake)
		}()
	}
	tick := time.NewTicker(d.o.PollInterval)
	defer tick.Stop()
	var lastCleanUp, lastSweep time.Time
	for {
		fanned, err := d.fanOut(ctx)
		if err != nil && ctx.Err() == nil {
			d.o.Log.Error("outbox: fan out", "err", err)
		}
		// Workers look for due rows when new ones were fanned out, and at
		// least once a second for retries coming due.
		if now := time.Now(); fanned > 0 || now.Sub(lastSweep) >= retrySweep {
			lastSweep = now
			for _, w := range d.wakes {
				select {
				case w <- struct{}{}:
				default:
				}
			}
		}
		if now := d.o.Now(); now.Sub(lastCleanUp) >= time.Minute {
			lastCleanUp = now
			if err := d.cleanUp(ctx); err != nil && ctx.Err() == nil {
				d.o.Log.Error("outbox: clean up", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-d.fan:
		case <-tick.C:
		}
	}
}

// retrySweep is how often workers look for retries that came due.
const retrySweep = time.Second

// work attempts due deliveries until none is left, then waits for a wake.
func (d *Dispatcher) work(ctx context.Context, wake <-chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		}
		for ctx.Err() == nil {
			attempted, err := d.attemptBatch(ctx)
			if err != nil {
				if ctx.Err() == nil {
					d.o.Log.Error("outbox: attempt a delivery", "err", err)
				}
				break
			}
			if attempted == 0 {
				break
			}
		}
	}
}

// fanOut turns undistributed events into one delivery per sink: each enabled
// webhook endpoint whose filter takes the type, and the NATS publisher when
// one is registered. One instance fans out at a time, so a later event of an
// aggregate never gets its deliveries before an earlier one; events are
// picked by their own fanned_out state, never by a high-water mark, so one
// committed late is picked up on the next round. It returns how many events
// it fanned out; when there are none it costs one index probe.
func (d *Dispatcher) fanOut(ctx context.Context) (int, error) {
	var waiting bool
	if err := d.o.DB.NewRaw("SELECT EXISTS (SELECT 1 FROM outbox_events WHERE NOT fanned_out)").Scan(ctx, &waiting); err != nil || !waiting {
		return 0, err
	}
	total := 0
	for {
		var n int
		err := d.o.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			var locked bool
			if err := tx.NewRaw("SELECT pg_try_advisory_xact_lock(?)", int64(fanOutLock)).Scan(ctx, &locked); err != nil || !locked {
				return err
			}
			return tx.NewRaw(`WITH ev AS (
				SELECT seq, type, aggregate_type, aggregate_id FROM outbox_events
				WHERE NOT fanned_out ORDER BY seq LIMIT ? FOR UPDATE
			), ins AS (
				INSERT INTO outbox_deliveries (event_seq, endpoint_id, event_type, aggregate_type, aggregate_id, next_attempt_at)
				SELECT ev.seq, w.id, ev.type, ev.aggregate_type, ev.aggregate_id, ?::timestamptz
				FROM ev JOIN webhook_endpoints AS w ON w.enabled AND (cardinality(w.event_types) = 0 OR ev.type = ANY (w.event_types))
				UNION ALL
				SELECT ev.seq, NULL, ev.type, ev.aggregate_type, ev.aggregate_id, ?::timestamptz
				FROM ev WHERE EXISTS (SELECT 1 FROM outbox_publishers WHERE name = 'nats')
			), done AS (
				UPDATE outbox_events AS e SET fanned_out = true FROM ev WHERE e.seq = ev.seq RETURNING 1
			)
			SELECT count(*) FROM done`, fanOutBatch, d.o.Now(), d.o.Now()).Scan(ctx, &n)
		})
		total += n
		if err != nil || n < fanOutBatch {
			return total, err
		}
	}
}

// claimed is a delivery row locked for an attempt, with its endpoint.
type claimed struct {
	Delivery
	URL                 *string    `bun:"url,scanonly"`
	Secret              *string    `bun:"secret,scanonly"`
	PreviousSecret      *string    `bun:"previous_secret,scanonly"`
	PreviousSecretUntil *time.Time `bun:"previous_secret_until,scanonly"`
}

// claimBatch bounds the deliveries one worker claims at once: one claim, one
// settling statement and one commit serve them all, and they are sent
// concurrently. The claim takes only each aggregate's earliest open delivery
// per sink, so no two in a batch (or across workers) can overtake each other.
const claimBatch = 16

// attemptBatch claims up to claimBatch due deliveries that no earlier open
// delivery of their aggregate holds back, attempts them while holding their
// rows' locks (so no other dispatcher can, and a crash leaves them open for
// the next), records the outcomes and commits. It returns how many it
// attempted: 0 when nothing was due.
func (d *Dispatcher) attemptBatch(ctx context.Context) (attempted int, err error) {
	tx, err := d.o.DB.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	now := d.o.Now()
	var cs []claimed
	err = tx.NewRaw(`SELECT `+deliveryColumns+`, e.id AS event_id, e.schema_version, e.occurred_at, e.payload,
			w.url, w.secret, w.previous_secret, w.previous_secret_until
		FROM outbox_deliveries AS od
		JOIN outbox_events AS e ON e.seq = od.event_seq
		LEFT JOIN webhook_endpoints AS w ON w.id = od.endpoint_id
		WHERE od.status IN ('PENDING', 'RETRYING') AND od.next_attempt_at <= ?
		  AND (w.enabled OR (od.endpoint_id IS NULL AND ?))
		  AND NOT EXISTS (SELECT 1 FROM outbox_deliveries AS p
			WHERE p.sink_key = od.sink_key AND p.aggregate_type = od.aggregate_type AND p.aggregate_id = od.aggregate_id
			  AND p.status IN ('PENDING', 'RETRYING') AND p.event_seq < od.event_seq)
		ORDER BY od.next_attempt_at, od.event_seq
		LIMIT ?
		FOR UPDATE OF od SKIP LOCKED`, now, d.o.NATS != nil, claimBatch).Scan(ctx, &cs)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("claim: %w", err)
	}
	if len(cs) == 0 {
		return 0, nil
	}
	results := make([]Result, len(cs))
	var wg sync.WaitGroup
	for i := range cs {
		wg.Go(func() { results[i] = d.send(ctx, &cs[i], now) })
	}
	wg.Wait()
	if ctx.Err() != nil {
		return len(cs), ctx.Err() // shutting down: the rows stay open for the next dispatcher
	}
	if err := d.record(ctx, tx, cs, results); err != nil {
		return len(cs), err
	}
	return len(cs), tx.Commit()
}

// send attempts one claimed delivery on its sink.
func (d *Dispatcher) send(ctx context.Context, c *claimed, now time.Time) Result {
	if c.EndpointID == nil {
		return d.o.NATS.Send(ctx, &c.Delivery, Target{})
	}
	t := Target{URL: *c.URL, Secrets: []string{*c.Secret}}
	if c.PreviousSecret != nil && c.PreviousSecretUntil != nil && now.Before(*c.PreviousSecretUntil) {
		t.Secrets = append(t.Secrets, *c.PreviousSecret)
	}
	return d.o.Webhooks.Send(ctx, &c.Delivery, t)
}

// record stores each attempt's outcome in one statement: delivered, retried
// after a backoff, or dead after MaxAttempts.
func (d *Dispatcher) record(ctx context.Context, tx bun.Tx, cs []claimed, results []Result) error {
	now := d.o.Now()
	n := len(cs)
	ids, attempts, responses := make([]int64, n), make([]int32, n), make([]int32, n)
	statuses, lastErrors, nextAttempts := make([]string, n), make([]string, n), make([]time.Time, n)
	for i := range cs {
		dl, res := &cs[i].Delivery, results[i]
		ids[i], attempts[i], responses[i], nextAttempts[i] = dl.ID, int32(dl.Attempts+1), int32(res.ResponseStatus), dl.NextAttemptAt
		switch {
		case res.Err == nil:
			statuses[i] = string(StatusDelivered)
		case dl.Attempts+1 >= d.o.MaxAttempts:
			statuses[i], lastErrors[i] = string(StatusDead), truncate(res.Err.Error())
			d.o.Log.WarnContext(ctx, "outbox: delivery dead-lettered", "delivery", dl.ID, "event", dl.EventID, "attempts", dl.Attempts+1, "err", res.Err)
		default:
			statuses[i], lastErrors[i] = string(StatusRetrying), truncate(res.Err.Error())
			nextAttempts[i] = now.Add(d.backoff(dl.Attempts + 1))
		}
	}
	// Sentinels keep the arrays non-null: response status 0 is none, an
	// empty error is none.
	_, err := tx.NewRaw(`UPDATE outbox_deliveries AS od SET
			attempts = r.attempts, last_attempt_at = ?, response_status = nullif(r.response_status, 0),
			status = r.status, last_error = nullif(r.last_error, ''), next_attempt_at = r.next_attempt_at,
			delivered_at = CASE WHEN r.status = 'DELIVERED' THEN ?::timestamptz ELSE od.delivered_at END
		FROM unnest(?::bigint[], ?::int[], ?::int[], ?::text[], ?::text[], ?::timestamptz[])
			AS r(id, attempts, response_status, status, last_error, next_attempt_at)
		WHERE od.id = r.id`, now, now, pgdialect.Array(ids), pgdialect.Array(attempts), pgdialect.Array(responses),
		pgdialect.Array(statuses), pgdialect.Array(lastErrors), pgdialect.Array(nextAttempts)).Exec(ctx)
	return err
}

// backoff is the wait after the n-th failed attempt: RetryBase doubled n-1
// times, capped at RetryMax, with "equal jitter" (between half and all of
// it) so endpoints recovering together aren't hit at once.
func (d *Dispatcher) backoff(n int) time.Duration {
	wait := d.o.RetryMax
	if n-1 < 32 {
		if w := d.o.RetryBase << (n - 1); w > 0 && w < wait {
			wait = w
		}
	}
	half := wait / 2
	return half + rand.N(wait-half+1)
}

// cleanUp deletes events older than Retention whose deliveries are all final
// (their deliveries go with them).
func (d *Dispatcher) cleanUp(ctx context.Context) error {
	cutoff := d.o.Now().Add(-d.o.Retention)
	for {
		var n int64
		err := d.o.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			var locked bool
			if err := tx.NewRaw("SELECT pg_try_advisory_xact_lock(?)", int64(cleanUpLock)).Scan(ctx, &locked); err != nil || !locked {
				return err
			}
			res, err := tx.NewRaw(`DELETE FROM outbox_events WHERE seq IN (
				SELECT e.seq FROM outbox_events AS e WHERE e.occurred_at < ? AND e.fanned_out
				  AND NOT EXISTS (SELECT 1 FROM outbox_deliveries AS od WHERE od.event_seq = e.seq AND od.status IN ('PENDING', 'RETRYING'))
				LIMIT ?)`, cutoff, cleanUpBatch).Exec(ctx)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil || n < cleanUpBatch {
			return err
		}
	}
}

// maxErrorBytes bounds a stored error message.
const maxErrorBytes = 1000

func truncate(s string) string {
	if len(s) <= maxErrorBytes {
		return s
	}
	return strings.ToValidUTF8(s[:maxErrorBytes], "")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
