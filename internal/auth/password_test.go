package auth

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestHasherCapsConcurrentHashing(t *testing.T) {
	h := NewHasher(1)
	release, err := h.Acquire(context.Background())
	if err != nil {
		t.Fatalf("first slot: %v", err)
	}
	// Waiters queue up to the bound…
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, hashQueuePerSlot)
	for range hashQueuePerSlot {
		go func() {
			r, err := h.Acquire(ctx)
			if err == nil {
				r()
			}
			got <- err
		}()
	}
	for h.waiting.Load() < hashQueuePerSlot {
		time.Sleep(time.Millisecond)
	}
	// …and one more is refused at once rather than piling up.
	if _, err := h.Acquire(context.Background()); !errors.Is(err, ErrHashBusy) {
		t.Fatalf("beyond the queue: got %v, want ErrHashBusy", err)
	}
	// Waiters respect their context.
	cancel()
	for range hashQueuePerSlot {
		if err := <-got; !errors.Is(err, ErrHashBusy) || !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled waiter: got %v", err)
		}
	}
	release()
	if _, err := h.Hash(context.Background(), "a password"); err != nil {
		t.Fatalf("hash after release: %v", err)
	}
}
