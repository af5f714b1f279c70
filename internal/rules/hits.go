package rules

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// hitDelta is what one rule has accumulated since the last flush.
type hitDelta struct {
	count int64
	last  time.Time
}

func (d hitDelta) plus(o hitDelta) hitDelta {
	d.count += o.count
	if o.last.After(d.last) {
		d.last = o.last
	}
	return d
}

// shutdownFlushTimeout bounds the final flush, which runs after its context is done.
const shutdownFlushTimeout = 10 * time.Second

// RecordHits counts a committed detection's matches in memory; Flush writes them.
func (s *Service) RecordHits(matches []engine.Match, at time.Time) {
	if len(matches) == 0 {
		return
	}
	s.hitsMu.Lock()
	defer s.hitsMu.Unlock()
	for _, m := range matches {
		s.pending[m.RuleID] = s.pending[m.RuleID].plus(hitDelta{count: 1, last: at})
	}
}

// addPending adds this instance's unflushed hits to rules just read; the
// caller holds flushMu so no flush is halfway.
func (s *Service) addPending(rs ...*domain.Rule) {
	s.hitsMu.Lock()
	defer s.hitsMu.Unlock()
	for _, r := range rs {
		d, ok := s.pending[r.ID]
		if !ok {
			continue
		}
		r.HitCount += d.count
		if r.LastHitAt == nil || d.last.After(*r.LastHitAt) {
			last := d.last
			r.LastHitAt = &last
		}
	}
}

// Flush writes the accumulated hits, one UPDATE per rule. Each statement
// touches one row, so flushes from several instances never deadlock. Hits
// not written are kept for the next flush.
func (s *Service) Flush(ctx context.Context) error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.hitsMu.Lock()
	batch := s.pending
	s.pending = make(map[int64]hitDelta, len(batch))
	s.hitsMu.Unlock()

	ids := slices.Sorted(maps.Keys(batch))
	for i, id := range ids {
		d := batch[id]
		if err := store.AddRuleHits(ctx, s.db, id, d.count, d.last); err != nil {
			s.hitsMu.Lock()
			for _, unwritten := range ids[i:] {
				s.pending[unwritten] = s.pending[unwritten].plus(batch[unwritten])
			}
			s.hitsMu.Unlock()
			return fmt.Errorf("rules: flush hits of rule %d: %w", id, err)
		}
	}
	return nil
}

// RunFlusher flushes hits every interval until ctx is done, then once more,
// so a graceful shutdown loses none; wait for it before closing the database.
func (s *Service) RunFlusher(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := s.Flush(ctx); err != nil {
				s.log.Warn("rules: flush hits", "err", err)
			}
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownFlushTimeout)
			defer cancel()
			if err := s.Flush(fctx); err != nil {
				s.log.Error("rules: final flush of hits", "err", err)
			}
			return
		}
	}
}
