// Package credcache keeps the state behind a credential (a session, an API
// key) per instance for at most a TTL of real time, so an authenticated
// request needs no database round trip. Changes end entries sooner: the
// instance that makes one forgets its user at once, the others when the
// change's notification reaches them; the TTL bounds staleness when a
// notification is lost.
package credcache

import (
	"sync"
	"time"
)

// Cache maps a credential K to its state V and the user it belongs to.
type Cache[K comparable, V any] struct {
	ttl     time.Duration
	max     int
	mu      sync.Mutex
	entries map[K]entry[V]
	byUser  map[int64][]K
	// gen counts forgets: a state read before one may predate the change it
	// announced, so it is not stored.
	gen uint64
}

type entry[V any] struct {
	userID   int64
	state    V
	loadedAt time.Time // real time (monotonic), not the service's clock
}

// New returns a cache whose entries live for ttl (0 caches nothing) and
// which starts over past max entries.
func New[K comparable, V any](ttl time.Duration, max int) *Cache[K, V] {
	c := &Cache[K, V]{ttl: ttl, max: max}
	c.reset()
	return c
}

func (c *Cache[K, V]) reset() {
	c.entries, c.byUser = map[K]entry[V]{}, map[int64][]K{}
}

// Get returns a fresh cached state and its user, or the generation to pass
// to Put after reading the state from the database.
func (c *Cache[K, V]) Get(key K) (state V, userID int64, gen uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || time.Since(e.loadedAt) >= c.ttl {
		return state, 0, c.gen, false
	}
	return e.state, e.userID, c.gen, true
}

// Put stores a state read since generation gen, unless something was
// forgotten meanwhile.
func (c *Cache[K, V]) Put(key K, userID int64, state V, gen uint64, loadedAt time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) >= c.max {
		c.reset()
	}
	if _, ok := c.entries[key]; !ok {
		c.byUser[userID] = append(c.byUser[userID], key)
	}
	c.entries[key] = entry[V]{userID: userID, state: state, loadedAt: loadedAt}
}

// ForgetUser drops every entry of the user; userID 0 drops them all.
func (c *Cache[K, V]) ForgetUser(userID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if userID == 0 {
		c.reset()
		return
	}
	for _, k := range c.byUser[userID] {
		delete(c.entries, k)
	}
	delete(c.byUser, userID)
}
