package apikey

import (
	"sync"
	"time"

	"github.com/smartfinance/riskgraph/internal/store"
)

// cache keeps each presented key's state (the key row, its user's role and
// status) for at most ttl of real time, keyed by the key's hash, so a request
// with a known key needs no database round trip. As the session cache in
// package account, changes end entries sooner: every instance's through the
// session notifications (Forget), and the ttl bounds staleness when a
// notification is lost.
type cache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[[32]byte]cached
	byUser  map[int64][][32]byte
	// gen counts forgets: a state read before one may predate the change it
	// announced, so it is not stored.
	gen uint64
}

type cached struct {
	state    store.APIKeyState
	loadedAt time.Time // real time (monotonic), not the service's clock
}

// maxCachedKeys bounds the cache; past it, it starts over.
const maxCachedKeys = 100_000

func newCache(ttl time.Duration) *cache {
	c := &cache{ttl: ttl}
	c.reset()
	return c
}

func (c *cache) reset() {
	c.entries, c.byUser = map[[32]byte]cached{}, map[int64][][32]byte{}
}

// get returns a fresh cached state, or the generation to pass to put after
// reading the state from the database.
func (c *cache) get(hash [32]byte) (store.APIKeyState, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[hash]
	if !ok || time.Since(e.loadedAt) >= c.ttl {
		return store.APIKeyState{}, c.gen, false
	}
	return e.state, c.gen, true
}

// put stores a state read since generation gen, unless something was forgotten meanwhile.
func (c *cache) put(hash [32]byte, st store.APIKeyState, gen uint64, loadedAt time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) >= maxCachedKeys {
		c.reset()
	}
	if _, ok := c.entries[hash]; !ok {
		c.byUser[st.Key.UserID] = append(c.byUser[st.Key.UserID], hash)
	}
	c.entries[hash] = cached{state: st, loadedAt: loadedAt}
}

// forgetUser drops every key of the user; userID 0 drops them all.
func (c *cache) forgetUser(userID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if userID == 0 {
		c.reset()
		return
	}
	for _, h := range c.byUser[userID] {
		delete(c.entries, h)
	}
	delete(c.byUser, userID)
}
