package pubsub

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// Hub fans alerts out to this instance's subscribers.
// A subscriber that cannot keep up is disconnected rather than allowed to slow
// the publisher (and with it every other subscriber).
type Hub struct {
	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	closed bool

	dropped atomic.Uint64
}

type subscriber struct {
	ch      chan *domain.Alert
	minRank int
	// stop detaches the context.AfterFunc that unsubscribes on ctx end, so a
	// subscriber removed for another reason holds nothing of its context.
	stop func() bool
}

// NewHub returns a hub with no subscribers.
func NewHub() *Hub {
	return &Hub{subs: make(map[*subscriber]struct{})}
}

// Subscribe registers a subscriber for alerts at or above minLevel (by RiskLevel.Rank()).
// The returned channel is closed when ctx ends, when the subscriber falls
// behind (its buffer of size buffer, at least 1, is full when an alert is
// published), or when the hub is closed. Alerts are shared between
// subscribers: receivers must not modify them.
func (h *Hub) Subscribe(ctx context.Context, minLevel domain.RiskLevel, buffer int) <-chan *domain.Alert {
	s := &subscriber{ch: make(chan *domain.Alert, max(buffer, 1)), minRank: minLevel.Rank()}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || ctx.Err() != nil {
		close(s.ch)
		return s.ch
	}
	h.subs[s] = struct{}{}
	// AfterFunc starts no goroutine until ctx ends, so an idle subscription costs none.
	s.stop = context.AfterFunc(ctx, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.remove(s)
	})
	return s.ch
}

// remove unregisters s and closes its channel, once; h.mu must be held.
func (h *Hub) remove(s *subscriber) {
	if _, ok := h.subs[s]; !ok {
		return
	}
	delete(h.subs, s)
	s.stop()
	close(s.ch)
}

// Publish delivers a to every subscriber whose level it meets. It never
// blocks: a subscriber with a full buffer is disconnected instead.
func (h *Hub) Publish(a *domain.Alert) { h.publish(a, 0) }

// PublishPatiently is Publish for replaying a backlog after a reconnect: a
// burst the server itself produced is not a subscriber falling behind, so each
// one gets up to patience to make room before it is dropped.
func (h *Hub) PublishPatiently(a *domain.Alert, patience time.Duration) { h.publish(a, patience) }

func (h *Hub) publish(a *domain.Alert, patience time.Duration) {
	if a == nil {
		return
	}
	rank := a.Level.Rank()
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if rank < s.minRank {
			continue
		}
		select {
		case s.ch <- a:
			continue
		default:
		}
		if patience > 0 && sendWithin(s.ch, a, patience) {
			continue
		}
		h.remove(s)
		h.dropped.Add(1)
	}
}

func sendWithin(ch chan<- *domain.Alert, a *domain.Alert, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case ch <- a:
		return true
	case <-t.C:
		return false
	}
}

// Subscribers is the current number of subscribers.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Dropped counts the subscribers disconnected for falling behind.
func (h *Hub) Dropped() uint64 { return h.dropped.Load() }

// Close closes every subscriber channel; later subscriptions get a closed
// channel and later publishes go nowhere. It is for server shutdown.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		h.remove(s)
	}
}
