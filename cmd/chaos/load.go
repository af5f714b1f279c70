//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

const submitMutation = `mutation($in: SubmitTransactionInput!) {
  submitTransaction(input: $in) { transaction { id createdAt } detection { riskLevel } alert { id } }
}`

// attempt is one request of one submission.
type attempt struct {
	reply
	client int
	via    string // the server's name
	key    string // idempotency key, also the merchant id, so rows can be traced to it
	retry  bool   // an earlier attempt with this key failed
	// From an acknowledged reply.
	txID      string
	txCreated time.Time
	level     string
	alertID   string
}

func (a attempt) ok() bool { return a.outcome() == outOK }

// loadSpec describes concurrent clients submitting transactions, each with
// unique idempotency keys.
type loadSpec struct {
	prefix  string
	clients int
	targets []*gqlClient // client i submits through targets[i % len(targets)]
	token   string       // the submitting account's: the admin's where alerts are followed, since a payment system's answers never show the case
	users   []string     // client i submits for users[i % len(users)]: no lock contention between clients
	// retry resends a failed submission with the same key until it is acknowledged.
	retry bool
	// stopWhenRefused ends a client at its first refused connection (its server is gone).
	stopWhenRefused bool
}

// load runs a loadSpec until finish.
type load struct {
	spec  loadSpec
	stop  chan struct{}      // closed: start no new keys
	drain context.Context    // done: give up retrying pending keys
	quit  context.CancelFunc // ends drain
	wg    sync.WaitGroup

	mu       sync.Mutex
	attempts []attempt
	acked    int
}

// retryPause spaces retries of a failed key, as a client backing off would.
const retryPause = 100 * time.Millisecond

func startLoad(ctx context.Context, spec loadSpec) *load {
	l := &load{spec: spec, stop: make(chan struct{})}
	l.drain, l.quit = context.WithCancel(ctx)
	for n := range spec.clients {
		l.wg.Add(1)
		go l.client(ctx, n)
	}
	return l
}

// submission is the request for key: a deterministic body, so a retry is
// byte-for-byte the same request. Every fourth is large: MEDIUM alone, HIGH
// once the user's velocity rule fires.
func submission(user, key string, seq int) map[string]any {
	amount := "120.00"
	if seq%4 == 3 {
		amount = "12000.00"
	}
	return map[string]any{"in": map[string]any{
		"userId": user, "amount": amount, "currency": "CNY", "merchantId": key, "idempotencyKey": key,
	}}
}

func (l *load) client(ctx context.Context, n int) {
	defer l.wg.Done()
	target := l.spec.targets[n%len(l.spec.targets)]
	user := l.spec.users[n%len(l.spec.users)]
	for seq := 0; ; seq++ {
		select {
		case <-l.stop:
			return
		default:
		}
		key := fmt.Sprintf("%s-c%d-%d", l.spec.prefix, n, seq)
		vars := submission(user, key, seq)
		for try := 0; ; try++ {
			a := l.submit(ctx, n, target, key, vars, try > 0)
			if a.ok() {
				break
			}
			if l.spec.stopWhenRefused && a.outcome() == outRefused {
				return
			}
			if !l.spec.retry {
				// The next key is a new submission; the pause keeps a failing server from being hammered.
				if !sleep(l.drain, 20*time.Millisecond) {
					return
				}
				break
			}
			if !sleep(l.drain, retryPause) {
				return
			}
		}
	}
}

func (l *load) submit(ctx context.Context, n int, target *gqlClient, key string, vars map[string]any, retry bool) attempt {
	a := decoded(attempt{reply: target.post(ctx, l.spec.token, submitMutation, vars), client: n, via: target.name, key: key, retry: retry})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.attempts = append(l.attempts, a)
	if a.ok() {
		l.acked++
	}
	return a
}

// decoded fills in what a successful submitTransaction reply acknowledged.
func decoded(a attempt) attempt {
	if !a.ok() {
		return a
	}
	var out struct {
		SubmitTransaction struct {
			Transaction struct {
				ID        string
				CreatedAt time.Time
			}
			Detection struct{ RiskLevel string }
			Alert     *struct{ ID string }
		}
	}
	if err := json.Unmarshal(a.data, &out); err != nil || out.SubmitTransaction.Transaction.ID == "" {
		a.body = a.data // data without the transaction acknowledges nothing
		return a
	}
	p := out.SubmitTransaction
	a.txID, a.txCreated, a.level = p.Transaction.ID, p.Transaction.CreatedAt, p.Detection.RiskLevel
	if p.Alert != nil {
		a.alertID = p.Alert.ID
	}
	return a
}

// ackedSoFar is the number of acknowledged submissions until now.
func (l *load) ackedSoFar() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.acked
}

// finish stops starting new submissions, lets pending retries go on for up to
// drain, waits for every client, and returns all attempts. It is bounded by
// drain plus one request timeout.
func (l *load) finish(drain time.Duration) []attempt {
	close(l.stop)
	t := time.AfterFunc(drain, l.quit)
	l.wg.Wait()
	t.Stop()
	l.quit()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.attempts
}

// tally summarizes attempts.
type tally struct {
	attempts, acked int
	keys, ackedKeys int
	retries         int
	byOutcome       map[string]int // failed attempts by outcome, GraphQL errors by code
	hung            int            // took longer than hangLimit
	slowest         time.Duration
	bad             []string // descriptions of non-GraphQL replies
	high            int      // acknowledged as HIGH
}

func tallyOf(as []attempt) tally {
	t := tally{byOutcome: map[string]int{}}
	keys, acked := map[string]bool{}, map[string]bool{}
	for _, a := range as {
		t.attempts++
		keys[a.key] = true
		if a.retry {
			t.retries++
		}
		t.slowest = max(t.slowest, a.elapsed())
		if a.elapsed() > hangLimit {
			t.hung++
		}
		switch o := a.outcome(); o {
		case outOK:
			t.acked++
			acked[a.key] = true
			if a.level == "HIGH" {
				t.high++
			}
		case outBad:
			t.byOutcome[string(o)]++
			t.bad = append(t.bad, a.describe())
		default:
			t.byOutcome[outcomeLabel(a)]++
		}
	}
	t.keys, t.ackedKeys = len(keys), len(acked)
	return t
}

// outcomeLabel is the error code of a GraphQL error, else the outcome.
func outcomeLabel(a attempt) string {
	if a.outcome() == outGQL {
		return a.code()
	}
	return string(a.outcome())
}
