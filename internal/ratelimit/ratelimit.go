// Package ratelimit throttles actions per key (a client IP) with token buckets
// from golang.org/x/time/rate, forgetting idle keys so memory stays bounded.
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter allows Burst actions at once per key and refills Per/Burst apart.
type Limiter struct {
	every rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	limiter *rate.Limiter
	seen    time.Time
}

// maxKeys bounds memory under a flood of distinct keys; beyond it idle keys are swept early.
const maxKeys = 100_000

// New allows burst actions per key per period, refilled evenly over the period.
func New(burst int, period time.Duration, now func() time.Time) *Limiter {
	return &Limiter{every: rate.Every(period / time.Duration(max(burst, 1))), burst: burst, now: now, buckets: map[string]*bucket{}}
}

// Allow takes one token for key; when none is left it reports how long until one is.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	if l == nil || l.burst <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{limiter: rate.NewLimiter(l.every, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.limiter.ReserveN(now, 1)
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now)
		return false, delay
	}
	return true, 0
}

// sweep drops keys idle long enough that their bucket is full again.
func (l *Limiter) sweep(now time.Time) {
	full := time.Duration(float64(l.burst) / float64(l.every) * float64(time.Second))
	if now.Sub(l.swept) < full && len(l.buckets) < maxKeys {
		return
	}
	l.swept = now
	for k, b := range l.buckets {
		if now.Sub(b.seen) >= full {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxKeys {
		// A flood from more addresses than per-IP limits can help with: start
		// over rather than let memory grow without bound.
		clear(l.buckets)
	}
}
