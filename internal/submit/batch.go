package submit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// GroupConfig sizes group commits: submissions that arrive together are
// written by one database transaction.
type GroupConfig struct {
	// MaxSize is the most submissions one group commit writes; 1 or less
	// writes every submission alone.
	MaxSize int
	// MaxWait is the longest a submission waits for batch-mates while
	// another group is in flight; one arriving while none is goes at once.
	MaxWait time.Duration
	// MaxInFlight is the most group commits running at once.
	MaxInFlight int
}

// BatchObserver is told the size of every group commit; an Observer may implement it.
type BatchObserver interface {
	Batched(size int)
}

// groupTimeout bounds one group commit's database work.
const groupTimeout = 10 * time.Second

// batcher forms group commits. Its queue is first come, first served, with
// two exceptions that keep the single path's semantics: a group holds at most
// one submission per user and per idempotency key, and a submission waits
// while its user or key is in a group in flight — so a user's submissions are
// scored one after another, each seeing those before it, and a key's second
// use finds the first committed.
type batcher struct {
	cfg GroupConfig
	run func([]*member)

	mu      sync.Mutex
	queue   []*member
	users   map[int64]bool        // users in a group in flight
	keys    map[store.KeyRef]bool // idempotency keys in a group in flight
	running int
	timer   *time.Timer
	timerAt time.Time // when timer fires; zero when it is idle
}

func newBatcher(cfg GroupConfig, run func([]*member)) *batcher {
	b := &batcher{cfg: cfg, run: run, users: map[int64]bool{}, keys: map[store.KeyRef]bool{}}
	b.timer = time.AfterFunc(time.Hour, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.timerAt = time.Time{}
		b.dispatch(time.Now())
	})
	b.timer.Stop()
	return b
}

// add queues submissions, in order, and starts what may start.
func (b *batcher) add(ms ...*member) {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range ms {
		m.queued = now
	}
	b.queue = append(b.queue, ms...)
	b.dispatch(now)
}

// dispatch starts groups while it may: at once when none is in flight,
// else when one is full or its oldest member has waited MaxWait. Called
// with mu held.
func (b *batcher) dispatch(now time.Time) {
	for b.running < b.cfg.MaxInFlight && len(b.queue) > 0 {
		group := b.eligible()
		if len(group) == 0 {
			return
		}
		if b.running > 0 && len(group) < b.cfg.MaxSize {
			if wait := group[0].queued.Add(b.cfg.MaxWait).Sub(now); wait > 0 {
				if at := now.Add(wait); b.timerAt.IsZero() || at.Before(b.timerAt) {
					b.timerAt = at
					b.timer.Reset(wait)
				}
				return
			}
		}
		b.take(group)
		b.running++
		go b.runGroup(group)
	}
}

// eligible is the next group, oldest first: members whose user and key are
// neither in flight nor already in the group, nor behind an earlier
// submission for the same user still waiting.
func (b *batcher) eligible() []*member {
	var group []*member
	seenUsers := map[int64]bool{}
	seenKeys := map[store.KeyRef]bool{}
	for _, m := range b.queue {
		if len(group) == b.cfg.MaxSize {
			break
		}
		k, keyed := m.key()
		ok := !b.users[m.userID] && !seenUsers[m.userID] && (!keyed || !b.keys[k] && !seenKeys[k])
		seenUsers[m.userID] = true
		if keyed {
			seenKeys[k] = true
		}
		if ok {
			group = append(group, m)
		}
	}
	return group
}

// take moves group from the queue to the in-flight set.
func (b *batcher) take(group []*member) {
	taken := make(map[*member]bool, len(group))
	for _, m := range group {
		taken[m] = true
		b.users[m.userID] = true
		if k, ok := m.key(); ok {
			b.keys[k] = true
		}
	}
	rest := b.queue[:0]
	for _, m := range b.queue {
		if !taken[m] {
			rest = append(rest, m)
		}
	}
	clear(b.queue[len(rest):])
	b.queue = rest
}

func (b *batcher) runGroup(group []*member) {
	defer func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, m := range group {
			delete(b.users, m.userID)
			if k, ok := m.key(); ok {
				delete(b.keys, k)
			}
		}
		b.running--
		b.dispatch(time.Now())
	}()
	b.run(group)
}

// answer gives m its outcome, once.
func (m *member) answer(res *Result, err error) {
	if m.answered {
		return
	}
	m.answered = true
	m.done <- outcome{res: res, err: err}
}

// runGroup writes a group: alone if it has one member, else as a group
// commit whose members, if the group fails as a whole, each go alone.
func (s *Service) runGroup(ms []*member) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("group commit panicked", "panic", r)
			for _, m := range ms {
				m.answer(nil, apperr.New(apperr.Internal, "internal error"))
			}
		}
	}()
	if o, ok := s.observer.(BatchObserver); ok {
		o.Batched(len(ms))
	}
	live := make([]*member, 0, len(ms))
	for _, m := range ms {
		if err := m.ctx.Err(); err != nil {
			m.answer(nil, apperr.Wrap(apperr.Unavailable, "the request ended before it was written", err))
			continue
		}
		live = append(live, m)
	}
	if len(live) == 1 {
		live[0].answer(s.submitAlone(live[0]))
		return
	}
	if len(live) == 0 {
		return
	}
	retry, err := s.submitGroup(live)
	if err != nil {
		s.log.Warn("group commit failed; its members go alone", "size", len(live), "retried", len(retry), "err", err)
	}
	for _, m := range retry {
		m.answer(s.submitAlone(m))
	}
}

// submitGroup writes members, each for a different user, in one database
// transaction and answers them. On a failure that certainly wrote nothing
// it returns the members still to answer, to be retried alone; on one that
// may have committed (the connection lost at COMMIT) it answers them with
// the error, as a single submission would.
func (s *Service) submitGroup(ms []*member) (retry []*member, err error) {
	ctx, cancel := groupContext(ms)
	defer cancel()
	users := make([]int64, len(ms))
	var keys []store.KeyRef
	var sources []int64
	for i, m := range ms {
		users[i] = m.userID
		if k, ok := m.key(); ok {
			keys = append(keys, k)
		}
		if id := m.in.SourceID; id != nil {
			sources = append(sources, *id)
		}
	}
	sub, start, err := store.BeginGroup(ctx, s.db, users, keys, sources)
	if err != nil {
		return ms, err
	}
	defer sub.Close()
	type replay struct {
		m    *member
		txID int64
	}
	var replays []replay
	defer func() {
		// Replays read committed rows: after the group's locks are released.
		for _, r := range replays {
			r.m.answer(load(r.m.ctx, s.db, r.txID))
		}
	}()
	live := make([]*member, 0, len(ms))
	subjects := make([]*store.Subject, 0, len(ms))
	for _, m := range ms {
		subject := start.Subjects[m.userID]
		if subject == nil {
			m.answer(nil, apperr.ErrNotFound)
			continue
		}
		var prior *store.IdempotencyKey
		if k, ok := m.key(); ok {
			prior = start.Keys[k]
		}
		var status domain.DataSourceStatus
		known := true
		if id := m.in.SourceID; id != nil {
			status, known = start.Sources[*id]
		}
		txID, err := admit(m, subject, prior, status, known)
		switch {
		case err != nil:
			m.answer(nil, err)
		case txID != 0:
			replays = append(replays, replay{m, txID})
		default:
			live, subjects = append(live, m), append(subjects, subject)
		}
	}
	if len(live) == 0 {
		return nil, nil
	}
	// Stamped under the users' locks, as a single submission is.
	qs := make([]store.FeatureQuery, len(live))
	for i, m := range live {
		qs[i] = s.featureQuery(subjects[i], &m.in, s.occurredAt(&m.in))
	}
	readStart := time.Now()
	rows, err := sub.FeaturesGroup(ctx, qs)
	if err != nil {
		return live, err
	}
	// One statement for every member: each is charged an equal share.
	read := time.Since(readStart) / time.Duration(len(live))
	scored := make([]*scoring, 0, len(live))
	recs := make([]*store.Record, 0, len(live))
	var alerts []*domain.Alert
	members := live[:0:0]
	for i, m := range live {
		sc, err := s.score(m, subjects[i], qs[i], rows[i])
		if err != nil {
			m.answer(nil, err)
			continue
		}
		sc.read = read
		members, scored, recs = append(members, m), append(scored, sc), append(recs, sc.rec)
		if sc.rec.Alert != nil {
			alerts = append(alerts, sc.rec.Alert)
		}
	}
	if len(recs) == 0 {
		return nil, nil
	}
	// As in record: alerts are queued for delivery at COMMIT once they have IDs.
	commit := len(alerts) == 0 || s.notify == nil
	if err := sub.RecordGroup(ctx, recs, commit); err != nil {
		if commit && !wroteNothing(err) {
			for _, m := range members {
				m.answer(nil, err)
			}
			return nil, err
		}
		return members, err
	}
	if !commit {
		if err := s.notify(ctx, sub.DB(), alerts); err != nil {
			return members, err
		}
		if err := sub.Commit(ctx); err != nil {
			if wroteNothing(err) {
				return members, err
			}
			for _, m := range members {
				m.answer(nil, err)
			}
			return nil, err
		}
	}
	for i, m := range members {
		m.answer(s.scored(m, scored[i]), nil)
	}
	return nil, nil
}

// groupContext serves every member: no one caller's cancellation ends it,
// and it ends with the latest member deadline (at most groupTimeout away),
// so it never outlives all of its callers.
func groupContext(ms []*member) (context.Context, context.CancelFunc) {
	deadline := time.Now().Add(groupTimeout)
	latest := time.Time{}
	for _, m := range ms {
		d, ok := m.ctx.Deadline()
		if !ok {
			latest = deadline
			break
		}
		if d.After(latest) {
			latest = d
		}
	}
	if latest.After(deadline) {
		latest = deadline
	}
	return context.WithDeadline(context.WithoutCancel(ms[0].ctx), latest)
}

// wroteNothing tells whether a failed write-and-commit certainly committed
// nothing: PostgreSQL refused a statement (the transaction is aborted), or
// nothing reached it.
func wroteNothing(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) || pgconn.SafeToRetry(err)
}

// Item is one bulk submission's outcome: a result or an error.
type Item struct {
	Result *Result
	Err    error
}

// SubmitMany scores and records several transactions for the caller, each as
// Submit would, through the same group commits; a user's transactions are
// written in the order given. Items come back in input order. More than
// Options.MaxBulk inputs (when set) is an error.
func (s *Service) SubmitMany(ctx context.Context, p auth.Principal, ins []*Input) ([]Item, error) {
	if s.maxBulk > 0 && len(ins) > s.maxBulk {
		return nil, apperr.Invalid("inputs", fmt.Sprintf("at most %d transactions per call", s.maxBulk))
	}
	items := make([]Item, len(ins))
	ms := make([]*member, 0, len(ins))
	index := make([]int, 0, len(ins))
	for i, in := range ins {
		m, err := s.member(ctx, p, *in)
		if err != nil {
			items[i].Err = err
			continue
		}
		ms, index = append(ms, m), append(index, i)
	}
	if s.batch == nil {
		for j, m := range ms {
			items[index[j]].Result, items[index[j]].Err = s.submitAlone(m)
		}
		return items, nil
	}
	s.batch.add(ms...)
	for j, m := range ms {
		o := <-m.done
		items[index[j]] = Item{Result: o.res, Err: o.err}
	}
	return items, nil
}
