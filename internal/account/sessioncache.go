package account

import (
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/smartfinance/riskgraph/internal/store"
)

// sessionCache keeps each session's state (live, the user's role and status)
// for at most ttl of real time, so an authenticated request needs no
// database round trip. Changes end entries sooner: this instance's own
// account changes at once, every instance's through the session
// notifications (SessionChanged); the ttl bounds staleness when a
// notification is lost.
type sessionCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[uuid.UUID]cachedSession
	byUser  map[int64][]uuid.UUID
	// gen counts forgets: a state read before one may predate the change it
	// announced, so it is not stored.
	gen uint64
}

type cachedSession struct {
	userID   int64
	state    store.SessionState
	loadedAt time.Time // real time (monotonic), not the service's clock
}

// maxCachedSessions bounds the cache; past it, it starts over.
const maxCachedSessions = 100_000

func newSessionCache(ttl time.Duration) *sessionCache {
	c := &sessionCache{ttl: ttl}
	c.reset()
	return c
}

func (c *sessionCache) reset() {
	c.entries, c.byUser = map[uuid.UUID]cachedSession{}, map[int64][]uuid.UUID{}
}

// get returns a fresh cached state, or the generation to pass to put after
// reading the state from the database.
func (c *sessionCache) get(sessionID uuid.UUID, userID int64) (store.SessionState, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[sessionID]
	if !ok || e.userID != userID || time.Since(e.loadedAt) >= c.ttl {
		return store.SessionState{}, c.gen, false
	}
	return e.state, c.gen, true
}

// put stores a state read since generation gen, unless something was forgotten meanwhile.
func (c *sessionCache) put(sessionID uuid.UUID, userID int64, st store.SessionState, gen uint64, loadedAt time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) >= maxCachedSessions {
		c.reset()
	}
	if _, ok := c.entries[sessionID]; !ok {
		c.byUser[userID] = append(c.byUser[userID], sessionID)
	}
	c.entries[sessionID] = cachedSession{userID: userID, state: st, loadedAt: loadedAt}
}

// forgetUser drops every session of the user; userID 0 drops them all.
func (c *sessionCache) forgetUser(userID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if userID == 0 {
		c.reset()
		return
	}
	for _, id := range c.byUser[userID] {
		delete(c.entries, id)
	}
	delete(c.byUser, userID)
}
