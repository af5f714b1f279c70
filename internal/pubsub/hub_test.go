package pubsub

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// wait bounds every receive so a broken test fails instead of hanging.
const wait = 10 * time.Second

// recv takes one value from ch, failing the test if ch is closed or stays empty.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatalf("%s: channel closed", what)
		}
		return v
	case <-time.After(wait):
		t.Fatalf("%s: nothing within %v", what, wait)
	}
	var zero T
	return zero
}

// waitClosed drains ch until it is closed and returns what it held.
func waitClosed[T any](t *testing.T, ch <-chan T, what string) []T {
	t.Helper()
	var got []T
	timeout := time.After(wait)
	for {
		select {
		case v, ok := <-ch:
			if !ok {
				return got
			}
			got = append(got, v)
		case <-timeout:
			t.Fatalf("%s: not closed within %v", what, wait)
			return got
		}
	}
}

// buffered returns the alert ids waiting in ch without blocking.
func buffered(ch <-chan *domain.Alert) []int64 {
	var ids []int64
	for {
		select {
		case a, ok := <-ch:
			if !ok {
				return ids
			}
			ids = append(ids, a.ID)
		default:
			return ids
		}
	}
}

// drained reports whether ch is closed within wait, discarding what it holds.
func drained(ch <-chan *domain.Alert) bool {
	timeout := time.After(wait)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return true
			}
		case <-timeout:
			return false
		}
	}
}

func alertIDs(alerts []*domain.Alert) []int64 {
	ids := make([]int64, len(alerts))
	for i, a := range alerts {
		ids[i] = a.ID
	}
	return ids
}

func TestHubFiltersByLevel(t *testing.T) {
	published := []*domain.Alert{
		{ID: 1, Level: domain.RiskLow},
		{ID: 2, Level: domain.RiskMedium},
		{ID: 3, Level: domain.RiskHigh},
	}
	tests := []struct {
		minLevel domain.RiskLevel
		want     []int64
	}{
		{domain.RiskLow, []int64{1, 2, 3}},
		{domain.RiskMedium, []int64{2, 3}},
		{domain.RiskHigh, []int64{3}},
	}
	h := NewHub()
	subs := make([]<-chan *domain.Alert, len(tests))
	for i, tt := range tests {
		subs[i] = h.Subscribe(t.Context(), tt.minLevel, 8)
	}
	for _, a := range published {
		h.Publish(a)
	}
	for i, tt := range tests {
		t.Run(string(tt.minLevel), func(t *testing.T) {
			if got := buffered(subs[i]); !slices.Equal(got, tt.want) {
				t.Errorf("got ids %v; want %v", got, tt.want)
			}
		})
	}
}

func TestHubDropsSlowSubscriber(t *testing.T) {
	const n = 100
	h := NewHub()
	slow := h.Subscribe(t.Context(), domain.RiskLow, 1)
	fast := h.Subscribe(t.Context(), domain.RiskLow, n)

	// Nobody reads while publishing: Publish must return regardless.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			h.Publish(&domain.Alert{ID: int64(i + 1), Level: domain.RiskHigh})
		}
	}()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("Publish blocked on a subscriber that does not read")
	}

	if got := alertIDs(waitClosed(t, slow, "slow subscriber")); !slices.Equal(got, []int64{1}) {
		t.Errorf("slow subscriber got ids %v; want [1] and then a closed channel", got)
	}
	got := buffered(fast)
	if len(got) != n || got[0] != 1 || got[n-1] != n {
		t.Errorf("fast subscriber got %d alerts (%v…); want all %d in order", len(got), got[:min(len(got), 3)], n)
	}
	if got := h.Dropped(); got != 1 {
		t.Errorf("got Dropped() %d; want 1", got)
	}
	if got := h.Subscribers(); got != 1 {
		t.Errorf("got Subscribers() %d; want 1", got)
	}
}

func TestHubUnsubscribesWhenContextEnds(t *testing.T) {
	h := NewHub()
	ctx, cancel := context.WithCancel(t.Context())
	ch := h.Subscribe(ctx, domain.RiskLow, 4)
	other := h.Subscribe(t.Context(), domain.RiskLow, 4)
	if got := h.Subscribers(); got != 2 {
		t.Fatalf("got Subscribers() %d; want 2", got)
	}

	cancel()
	waitClosed(t, ch, "cancelled subscriber")
	if got := h.Subscribers(); got != 1 {
		t.Errorf("after cancel: got Subscribers() %d; want 1", got)
	}
	h.Publish(&domain.Alert{ID: 1, Level: domain.RiskHigh})
	if got := buffered(other); !slices.Equal(got, []int64{1}) {
		t.Errorf("remaining subscriber got ids %v; want [1]", got)
	}
	if got := h.Dropped(); got != 0 {
		t.Errorf("got Dropped() %d; want 0: cancelling is not falling behind", got)
	}

	waitClosed(t, h.Subscribe(ctx, domain.RiskLow, 4), "subscription with an ended context")
	if got := h.Subscribers(); got != 1 {
		t.Errorf("after subscribing with an ended context: got Subscribers() %d; want 1", got)
	}
}

func TestHubClose(t *testing.T) {
	h := NewHub()
	a := h.Subscribe(t.Context(), domain.RiskLow, 4)
	b := h.Subscribe(t.Context(), domain.RiskHigh, 4)
	h.Close()
	waitClosed(t, a, "first subscriber")
	waitClosed(t, b, "second subscriber")
	waitClosed(t, h.Subscribe(t.Context(), domain.RiskLow, 4), "subscription after Close")
	h.Publish(&domain.Alert{ID: 1, Level: domain.RiskHigh})
	if got := h.Subscribers(); got != 0 {
		t.Errorf("got Subscribers() %d; want 0", got)
	}
}

// TestHubConcurrentUse is for the race detector: subscribers come, go and
// fall behind while alerts are published.
func TestHubConcurrentUse(t *testing.T) {
	h := NewHub()
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Go(func() {
			for i := range 500 {
				h.Publish(&domain.Alert{ID: int64(p*1000 + i), Level: domain.RiskHigh})
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			for range 50 {
				ctx, cancel := context.WithCancel(t.Context())
				ch := h.Subscribe(ctx, domain.RiskMedium, 2)
				_ = h.Subscribers()
				cancel()
				// Fatal is for the test goroutine only, so report and move on.
				if !drained(ch) {
					t.Error("subscriber not closed after its context ended")
					return
				}
			}
		})
	}
	wg.Wait()
	h.Close()
	if got := h.Subscribers(); got != 0 {
		t.Errorf("got Subscribers() %d; want 0", got)
	}
}

// A backlog larger than a subscriber's buffer is delivered in full when the
// subscriber keeps reading: catch-up waits for room instead of dropping it.
func TestHubPublishPatientlyWaitsForRoom(t *testing.T) {
	h := NewHub()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := h.Subscribe(ctx, domain.RiskLow, 4)
	const backlog = 50
	got := make(chan int, 1)
	go func() {
		n := 0
		for range ch {
			n++
			if n == backlog {
				break
			}
			time.Sleep(time.Millisecond) // a reader slower than the burst
		}
		got <- n
	}()
	for i := 1; i <= backlog; i++ {
		h.PublishPatiently(&domain.Alert{ID: int64(i), Level: domain.RiskHigh}, time.Second)
	}
	select {
	case n := <-got:
		if n != backlog || h.Dropped() != 0 {
			t.Fatalf("received %d of %d, dropped %d; want all and none dropped", n, backlog, h.Dropped())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("subscriber never finished reading the backlog")
	}
	// A subscriber that never reads is still dropped once patience runs out.
	stuck := h.Subscribe(ctx, domain.RiskLow, 1)
	h.PublishPatiently(&domain.Alert{ID: 100, Level: domain.RiskHigh}, 10*time.Millisecond)
	h.PublishPatiently(&domain.Alert{ID: 101, Level: domain.RiskHigh}, 10*time.Millisecond)
	<-stuck // the one buffered alert
	if _, open := <-stuck; open || h.Dropped() != 1 {
		t.Fatalf("stuck subscriber: open %v, dropped %d; want closed and 1", open, h.Dropped())
	}
}
