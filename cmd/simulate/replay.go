package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// replayer is one replay's identities on the server. Every name the traffic uses
// (accounts, devices, merchants) gets the run's tag, so runs against one
// long-lived server never see each other's history.
type replayer struct {
	c        *client
	tag      string
	admin    *session
	service  *session
	password string   // every simulated customer's: only account takeovers log in
	userIDs  []string // by account index
	// IPv4 /24 blocks are moved to blocks of the run's own (see ip), so
	// per-address and per-block features never count another run's traffic.
	blocksMu  sync.Mutex
	blocks    map[string]string
	nextBlock uint32
}

func newReplayer(c *client, admin *session) *replayer {
	var b [4]byte
	rand.Read(b[:]) //nolint:errcheck // crypto/rand.Read never fails
	return &replayer{c: c, admin: admin, tag: "sim" + strings.ToLower(rand.Text()[:6]), password: rand.Text(),
		blocks: map[string]string{}, nextBlock: binary.BigEndian.Uint32(b[:]) % (runBlocks - maxRunBlocks)}
}

func (r *replayer) name(s string) string { return r.tag + "-" + s }

// A run's blocks are consecutive, from a random start among the /24s of
// 1.0.0.0–126.255.255.255; a run uses a few thousand, so two runs overlap
// with a chance of about one in a thousand.
const (
	runBlocks    = 126 << 16
	maxRunBlocks = 1 << 16
)

// ip is the run's address for a generated IPv4 address: its /24 is mapped to
// one of the run's own, the host part kept, so addresses that share a block
// in the traffic share one on the server and no others do.
func (r *replayer) ip(addr string) string {
	i := strings.LastIndexByte(addr, '.')
	if addr == "" || i < 0 {
		return addr
	}
	r.blocksMu.Lock()
	defer r.blocksMu.Unlock()
	block, ok := r.blocks[addr[:i]]
	if !ok {
		n := r.nextBlock
		r.nextBlock++
		block = fmt.Sprintf("%d.%d.%d", 1+n>>16, n>>8&255, n&255)
		r.blocks[addr[:i]] = block
	}
	return block + addr[i:]
}

const createUserMutation = `mutation($in: CreateUserInput!) { createUser(input: $in) { id } }`

// createAccounts creates the SERVICE account that submits and every account
// of the traffic, a few at a time: each costs the server an argon2 hash.
func (r *replayer) createAccounts(ctx context.Context, accounts []account) error {
	servicePassword := rand.Text()
	if _, err := r.createUser(ctx, r.name("gateway"), servicePassword, "SERVICE"); err != nil {
		return err
	}
	r.service = &session{c: r.c, username: r.name("gateway"), password: servicePassword}
	if err := r.service.renew(ctx, ""); err != nil {
		return err
	}
	r.userIDs = make([]string, len(accounts))
	return each(ctx, len(accounts), 4, func(ctx context.Context, i int) (err error) {
		r.userIDs[i], err = r.createUser(ctx, r.name(accounts[i].Name), r.password, accounts[i].Role)
		return err
	})
}

// each runs fn for 0 … n-1 on up to workers goroutines; the first error
// cancels the rest and is returned.
func each(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i := range n {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return fn(gctx, i) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err() // cancelled from outside before any job failed
}

func (r *replayer) createUser(ctx context.Context, username, password, role string) (string, error) {
	var out struct{ CreateUser struct{ ID string } }
	err := r.admin.call(ctx, createUserMutation, map[string]any{"in": map[string]any{"username": username, "password": password, "role": role}}, &out)
	if err != nil {
		return "", fmt.Errorf("create %s: %w", username, err)
	}
	return out.CreateUser.ID, nil
}

// outcome is the server's verdict on one event (logins only succeed or fail).
type outcome struct {
	Done bool
	// TxID is the transaction the server recorded (submissions only), for labelling.
	TxID     string
	Level    string
	Decision string
	Rules    []string
	Err      string
}

func (o outcome) flagged() bool { return o.Level == "MEDIUM" || o.Level == "HIGH" }
func (o outcome) stopped() bool { return o.Decision == "REVIEW" || o.Decision == "REJECT" }

const submitMutation = `mutation($in: SubmitTransactionInput!) {
  submitTransaction(input: $in) { transaction { id } detection { riskLevel decision matchedRules { name } } }
}`

// maxFailures stops a replay that is clearly going wrong (a server that
// refuses the input, or is gone) instead of retrying every remaining event.
const maxFailures = 50

// replay sends every event through the API, up to concurrency at once, in an
// order the server can't tell from one-by-one event-time order (see
// schedule). alive reports whether the server is still there.
func (r *replayer) replay(ctx context.Context, t *traffic, concurrency int, alive func() error) ([]outcome, time.Duration, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	out := make([]outcome, len(t.Events))
	var done, failed atomic.Int64
	started := time.Now()
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t.schedule(ctx, concurrency, func(i int) {
			out[i] = r.send(ctx, t, i)
			done.Add(1)
			if out[i].Err != "" && failed.Add(1) == maxFailures {
				cancel(fmt.Errorf("%d events failed, the last with %s", maxFailures, out[i].Err))
			}
		})
	}()
	progress := time.NewTicker(15 * time.Second)
	defer progress.Stop()
	for {
		select {
		case <-finished:
			return out, time.Since(started), context.Cause(ctx)
		case <-progress.C:
			log.Printf("replayed %d of %d events", done.Load(), len(t.Events))
			if err := alive(); err != nil {
				cancel(err)
			}
		}
	}
}

// schedule calls fn for every event, up to workers at once, each only after
// every earlier event sharing its account, device, IP address or merchant
// has finished. Every feature the server keeps per user, device, address or
// merchant (velocity, previous location, users on a device, payers of a
// merchant) then sees exactly the history a strictly sequential replay would
// show it, whatever the concurrency: the table is the same on every run.
// The chains are short (about 250 events deep for 20,000), so it costs
// almost no parallelism. It returns when all are done or ctx ends.
func (t *traffic) schedule(ctx context.Context, workers int, fn func(i int)) {
	n := len(t.Events)
	if n == 0 {
		return
	}
	dependents := make([][]int, n)
	pending := make([]atomic.Int32, n)
	last := map[string]int{}
	for i, e := range t.Events {
		for _, k := range e.keys() {
			if j, ok := last[k]; ok && !slices.Contains(dependents[j], i) {
				dependents[j] = append(dependents[j], i)
				pending[i].Add(1)
			}
			last[k] = i
		}
	}
	// Room for every event, so finishing one never blocks on queueing another.
	ready := make(chan int, n)
	for i := range n {
		if pending[i].Load() == 0 {
			ready <- i
		}
	}
	var completed atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case i, ok := <-ready:
					if !ok {
						return
					}
					fn(i)
					for _, d := range dependents[i] {
						if pending[d].Add(-1) == 0 {
							ready <- d
						}
					}
					if completed.Add(1) == int64(n) {
						close(ready)
					}
				}
			}
		})
	}
	wg.Wait()
}

// send replays one event.
func (r *replayer) send(ctx context.Context, t *traffic, i int) outcome {
	e := &t.Events[i]
	if e.Kind == loginEvent {
		in := map[string]any{"username": r.name(t.Accounts[e.Account].Name), "password": r.password,
			"deviceId": r.name(e.Device), "ipAddress": r.ip(e.IP), "userAgent": "Mozilla/5.0 (Linux; Android 14) riskgraph-simulate",
			"location": location(e)}
		// The payment system reports its customer's login: only a SERVICE
		// caller's stated address and location are taken as facts.
		if err := r.service.call(ctx, loginMutation, map[string]any{"in": in}, nil); err != nil {
			return outcome{Err: fmt.Errorf("login %v: %w", in["username"], err).Error()}
		}
		return outcome{Done: true}
	}
	in := map[string]any{
		"userId":           r.userIDs[e.Account],
		"amount":           fmt.Sprintf("%d.%02d", e.AmountCents/100, e.AmountCents%100),
		"currency":         "CNY",
		"merchantId":       r.name(e.Merchant),
		"merchantCategory": e.Category,
		"channel":          e.Channel,
		"occurredAt":       e.At.Format(time.RFC3339),
		// A retried submission must not count twice in the velocity windows.
		"idempotencyKey": fmt.Sprintf("%s-%d", r.tag, i),
	}
	if e.Device != "" {
		in["deviceId"] = r.name(e.Device)
	}
	if e.IP != "" {
		in["ipAddress"] = r.ip(e.IP)
	}
	if e.HasLocation {
		in["location"] = location(e)
	}
	var res struct {
		SubmitTransaction struct {
			Transaction struct{ ID string }
			Detection   struct {
				RiskLevel    string
				Decision     string
				MatchedRules []struct{ Name string }
			}
		}
	}
	if err := r.service.call(ctx, submitMutation, map[string]any{"in": in}, &res); err != nil {
		return outcome{Err: err.Error()}
	}
	d := res.SubmitTransaction.Detection
	o := outcome{Done: true, TxID: res.SubmitTransaction.Transaction.ID, Level: d.RiskLevel, Decision: d.Decision}
	for _, m := range d.MatchedRules {
		o.Rules = append(o.Rules, m.Name)
	}
	return o
}

func location(e *event) map[string]any {
	return map[string]any{"latitude": e.Lat, "longitude": e.Lon, "country": e.City.Country, "city": e.City.Name}
}

// keys are what the event shares with other events, as the server could
// count it: its account, device, IP address and merchant.
func (e *event) keys() []string {
	keys := []string{fmt.Sprint("account ", e.Account)}
	if e.Device != "" {
		keys = append(keys, "device "+e.Device)
	}
	if e.IP != "" {
		keys = append(keys, "ip "+e.IP)
	}
	if e.Kind == submitEvent {
		keys = append(keys, "merchant "+e.Merchant)
	}
	return keys
}
