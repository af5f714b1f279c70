// Package monitor reports how the service and the risk workflow are doing:
// Prometheus metrics and latency percentiles of submissions and GraphQL
// operations, event statistics and trends for dashboards, and instance health.
package monitor

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/dbmigrate"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// maxSpan bounds the period of event statistics.
const maxSpan = 366 * 24 * time.Hour

// maxBuckets bounds a trend's length.
const maxBuckets = 1000

// pingTimeout keeps a hung database from hanging the status report.
const pingTimeout = 2 * time.Second

// StatusInfo is what the status report learns from the rest of the server; every field must be set.
type StatusInfo struct {
	Version     string
	StartedAt   time.Time
	Subscribers func() int
	RulesLoaded func() int
}

// Service answers the monitoring queries.
type Service struct {
	db      *bun.DB
	now     func() time.Time
	metrics *Metrics
	info    StatusInfo
}

// New returns a monitoring service.
func New(db *bun.DB, now func() time.Time, metrics *Metrics, info StatusInfo) *Service {
	return &Service{db: db, now: now, metrics: metrics, info: info}
}

// Event statuses still being worked, and those with a verdict.
var (
	openStatuses    = []domain.EventStatus{domain.EventOpen, domain.EventInvestigating, domain.EventEscalated}
	handledStatuses = []domain.EventStatus{domain.EventConfirmedFraud, domain.EventFalsePositive, domain.EventClosed}
)

// RiskEventStats summarizes the risk events created in [from, to).
func (s *Service) RiskEventStats(ctx context.Context, from, to time.Time) (*domain.RiskEventStats, error) {
	if !from.Before(to) {
		return nil, apperr.Invalid("to", "must be after from")
	}
	if to.Sub(from) > maxSpan {
		return nil, apperr.Invalid("to", "the period may span at most 366 days")
	}
	groups, err := store.RiskEventGroups(ctx, s.db, from, to)
	if err != nil {
		return nil, err
	}
	stats := &domain.RiskEventStats{From: from, To: to}
	byLevel, byStatus, byType := map[string]int{}, map[string]int{}, map[string]int{}
	var timed int
	var handleSeconds float64
	for _, g := range groups {
		stats.Total += g.Count
		byLevel[g.Level] += g.Count
		byStatus[g.Status] += g.Count
		byType[g.Type] += g.Count
		status := domain.EventStatus(g.Status)
		switch {
		case slices.Contains(openStatuses, status):
			stats.Open += g.Count
		case slices.Contains(handledStatuses, status):
			stats.Handled += g.Count
			timed += g.Timed
			handleSeconds += g.HandleSeconds
		}
	}
	stats.ByLevel, stats.ByStatus, stats.ByType = keyCounts(byLevel), keyCounts(byStatus), keyCounts(byType)
	if timed > 0 {
		mean := handleSeconds / float64(timed)
		stats.MeanTimeToHandle = &mean
	}
	return stats, nil
}

func keyCounts(m map[string]int) []*domain.KeyCount {
	out := make([]*domain.KeyCount, 0, len(m))
	for k, n := range m {
		out = append(out, &domain.KeyCount{Key: k, Count: n})
	}
	slices.SortFunc(out, func(a, b *domain.KeyCount) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

// RiskTrend buckets [from, to) by "HOUR" or "DAY" in UTC, zero-filled; from
// is moved back to the start of its bucket.
func (s *Service) RiskTrend(ctx context.Context, from, to time.Time, bucket string) ([]*domain.TrendPoint, error) {
	if !from.Before(to) {
		return nil, apperr.Invalid("to", "must be after from")
	}
	var unit string
	var step time.Duration
	switch bucket {
	case "HOUR":
		unit, step = "hour", time.Hour
	case "DAY":
		unit, step = "day", 24*time.Hour
	default:
		return nil, apperr.Invalid("bucket", "must be HOUR or DAY")
	}
	// UTC days are 24 hours and Go truncates from its zero time, a UTC midnight.
	start := from.UTC().Truncate(step)
	// Counted without rounding up by addition, which would overflow on a
	// saturated Sub of a centuries-long range.
	span := to.Sub(start)
	n := span / step
	if span%step != 0 {
		n++
	}
	if n > maxBuckets {
		return nil, apperr.Invalid("to", fmt.Sprintf("the trend may have at most %d buckets, this one has %d", maxBuckets, n))
	}
	return store.RiskTrend(ctx, s.db, unit, step, start, to)
}

// SystemStatus reports this instance's health. A database that cannot be
// reached is reported as such, with everything known without it.
func (s *Service) SystemStatus(ctx context.Context) (*domain.SystemStatus, error) {
	now := s.now()
	st := &domain.SystemStatus{
		Version:             s.info.Version,
		StartedAt:           s.info.StartedAt,
		UptimeSeconds:       now.Sub(s.info.StartedAt).Seconds(),
		ScoringLatency:      s.metrics.ScoringLatency(),
		EngineLatency:       s.metrics.EngineLatency(),
		ActiveSubscriptions: s.info.Subscribers(),
		RulesLoaded:         s.info.RulesLoaded(),
		Database:            s.database(ctx),
	}
	if !st.Database.Reachable {
		return st, nil
	}
	var err error
	if st.TransactionsLastMinute, err = store.DetectionsSince(ctx, s.db, now.Add(-time.Minute)); err == nil {
		st.MigrationVersion, err = dbmigrate.Version(ctx, s.db)
	}
	if err != nil {
		// The database went away after the ping: report it, not fail the report.
		st.Database.Reachable = false
	}
	return st, nil
}

// database pings the database and reads the pool's statistics.
func (s *Service) database(ctx context.Context) *domain.DatabaseStatus {
	pingCtx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	// Latency is measured on the monotonic clock, not the service's clock.
	start := time.Now()
	err := s.db.PingContext(pingCtx)
	latency := time.Since(start)
	pool := s.db.DB.Stats()
	st := &domain.DatabaseStatus{
		Reachable:       err == nil,
		OpenConnections: pool.OpenConnections,
		InUse:           pool.InUse,
		Idle:            pool.Idle,
		MaxOpen:         pool.MaxOpenConnections,
		WaitCount:       pool.WaitCount,
	}
	if st.Reachable {
		st.LatencyMs = milliseconds(latency)
	}
	return st
}
