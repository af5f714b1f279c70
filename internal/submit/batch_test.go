package submit

import (
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/smartfinance/riskgraph/internal/auth"
)

// TestBatcherForms checks how groups form from a queue: first come, first
// served, at most one member per user and per key, a user's (or key's) next
// submission only after the group holding the previous one is done, at most
// MaxSize members, and at once when nothing is in flight.
func TestBatcherForms(t *testing.T) {
	groups := make(chan []int, 10)
	release := make(chan struct{})
	b := newBatcher(GroupConfig{MaxSize: 3, MaxWait: time.Hour, MaxInFlight: 1}, func(ms []*member) {
		var ids []int
		for _, m := range ms {
			ids = append(ids, int(m.in.Amount.IntPart()))
		}
		groups <- ids
		<-release
	})
	key := func(k string) *string { return &k }
	var ms []*member
	// Members are numbered by their amount: user, key.
	for i, spec := range []struct {
		user int64
		key  *string
	}{{1, nil}, {2, nil}, {1, nil}, {3, key("a")}, {4, key("a")}, {5, nil}, {6, nil}, {2, nil}} {
		m := &member{p: auth.Principal{UserID: 99}, userID: spec.user, done: make(chan outcome, 1)}
		m.in.Amount = decimal.NewFromInt(int64(i))
		m.in.IdempotencyKey = spec.key
		ms = append(ms, m)
	}
	b.add(ms...)
	want := [][]int{
		{0, 1, 3}, // 2: user 1 again; 4: key a again; then full
		{2, 4, 5}, // user 1's and key a's next, then the oldest left
		{6, 7},    // MaxWait is an hour, but nothing else is in flight
	}
	for _, w := range want {
		if got := <-groups; !slices.Equal(got, w) {
			t.Fatalf("group: got %v, want %v", got, w)
		}
		release <- struct{}{}
	}
}

// TestBatcherWaitsAtMostMaxWait: an arrival while a group is in flight
// waits for batch-mates, but goes after MaxWait even though that group is
// still running.
func TestBatcherWaitsAtMostMaxWait(t *testing.T) {
	groups := make(chan []int64, 10)
	release := make(chan struct{})
	b := newBatcher(GroupConfig{MaxSize: 64, MaxWait: time.Millisecond, MaxInFlight: 2}, func(ms []*member) {
		var users []int64
		for _, m := range ms {
			users = append(users, m.userID)
		}
		groups <- users
		<-release
	})
	b.add(&member{userID: 1, done: make(chan outcome, 1)})
	if got := <-groups; !slices.Equal(got, []int64{1}) {
		t.Fatalf("first group: got %v, want [1] at once", got)
	}
	b.add(&member{userID: 2, done: make(chan outcome, 1)}, &member{userID: 3, done: make(chan outcome, 1)})
	if got := <-groups; !slices.Equal(got, []int64{2, 3}) {
		t.Fatalf("second group: got %v, want [2 3] while the first is in flight", got)
	}
	close(release)
}
