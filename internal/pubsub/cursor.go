package pubsub

import (
	"maps"
	"slices"
)

// gapSpan bounds how far below the newest alert id a skipped id is still
// awaited: a transaction that holds an id while this many later alerts commit
// is taken to have rolled back.
const gapSpan = 1000

// cursor decides which alert ids are new. Identity values are handed out at
// INSERT but become visible at COMMIT, so alerts can arrive out of id order
// (alert 11 commits before alert 10). Besides the highest id published it
// therefore remembers the recent ids it skipped over: those may still commit,
// or may belong to rolled-back transactions and never come.
type cursor struct {
	last int64
	gaps map[int64]struct{}
}

func newCursor(last int64) *cursor {
	return &cursor{last: last, gaps: make(map[int64]struct{})}
}

// admit reports whether id is new, and records it as published if so; it
// admits each id at most once.
func (c *cursor) admit(id int64) bool {
	if id <= c.last {
		if _, ok := c.gaps[id]; !ok {
			return false
		}
		delete(c.gaps, id)
		return true
	}
	floor := id - gapSpan
	for g := max(c.last+1, floor+1); g < id; g++ {
		c.gaps[g] = struct{}{}
	}
	for g := range c.gaps {
		if g <= floor {
			delete(c.gaps, g)
		}
	}
	c.last = id
	return true
}

// missing lists the skipped ids still awaited, in order; catch-up queries them with the ids above last.
func (c *cursor) missing() []int64 {
	return slices.Sorted(maps.Keys(c.gaps))
}
