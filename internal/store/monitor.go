package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// EventGroup counts the risk events sharing a level, status and type.
type EventGroup struct {
	Level  string
	Status string
	Type   string
	Count  int
	// Timed counts the group's events with a handled_at; HandleSeconds sums
	// their time from creation to handling.
	Timed         int
	HandleSeconds float64
}

// RiskEventGroups groups the risk events created in [from, to). The groups are
// few (levels × statuses × types), so callers fold them into any breakdown.
func RiskEventGroups(ctx context.Context, db bun.IDB, from, to time.Time) ([]EventGroup, error) {
	var groups []EventGroup
	err := db.NewRaw(`
		SELECT level, status, type, count(*) AS count,
			count(handled_at) AS timed,
			coalesce(sum(extract(epoch FROM handled_at - created_at)), 0)::float8 AS handle_seconds
		FROM risk_events
		WHERE created_at >= ? AND created_at < ?
		GROUP BY level, status, type`, from, to).Scan(ctx, &groups)
	return groups, mapErr(err)
}

// RiskTrend buckets [from, to) by unit ("hour" or "day", truncated in UTC),
// every step apart, zero-filled; from must be a bucket start. Everything
// falls in the bucket of when it happened (event time): transactions and
// their detections of occurred_at, events and alerts of their payment's
// occurred_at or their login's time.
func RiskTrend(ctx context.Context, db bun.IDB, unit string, step time.Duration, from, to time.Time) ([]*domain.TrendPoint, error) {
	var points []*domain.TrendPoint
	// The series stops short of to: a bucket starting at to lies outside the range.
	err := db.NewRaw(`
		WITH buckets AS (
			SELECT generate_series(?0::timestamptz, ?1::timestamptz - interval '1 microsecond', ?2 * interval '1 second') AS bucket_start
		), tx AS (
			SELECT date_trunc(?3, t.occurred_at, 'UTC') AS bucket_start,
				count(*) AS transactions,
				sum(t.amount) AS volume,
				count(*) FILTER (WHERE d.risk_level = 'LOW') AS low,
				count(*) FILTER (WHERE d.risk_level = 'MEDIUM') AS medium,
				count(*) FILTER (WHERE d.risk_level = 'HIGH') AS high,
				count(*) FILTER (WHERE d.decision = 'PASS') AS pass,
				count(*) FILTER (WHERE d.decision = 'REVIEW') AS review,
				count(*) FILTER (WHERE d.decision = 'REJECT') AS reject
			FROM transactions AS t
			LEFT JOIN detections AS d ON d.user_id = t.user_id AND d.transaction_id = t.id
			WHERE t.occurred_at >= ?0 AND t.occurred_at < ?1
			GROUP BY 1
		), happened AS (
			-- An event (and its alerts) happened when its payment or login did.
			-- That is at most 30 days (backfill) before it was opened and 5
			-- minutes (clock skew) after, so created_at bounds the scan by index.
			SELECT e.id, coalesce(t.occurred_at, l.created_at) AS at
			FROM risk_events AS e
			LEFT JOIN transactions AS t ON t.user_id = e.user_id AND t.id = e.transaction_id
			LEFT JOIN login_logs AS l ON l.id = e.login_log_id
			WHERE e.created_at >= ?0::timestamptz - interval '5 minutes' AND e.created_at < ?1::timestamptz + interval '30 days'
		), ev AS (
			SELECT date_trunc(?3, at, 'UTC') AS bucket_start, count(*) AS events
			FROM happened WHERE at >= ?0 AND at < ?1
			GROUP BY 1
		), al AS (
			SELECT date_trunc(?3, h.at, 'UTC') AS bucket_start, count(*) AS alerts
			FROM alerts AS a JOIN happened AS h ON h.id = a.event_id
			WHERE h.at >= ?0 AND h.at < ?1
			GROUP BY 1
		)
		SELECT b.bucket_start,
			coalesce(tx.transactions, 0) AS transactions, coalesce(tx.volume, 0) AS volume,
			coalesce(tx.low, 0) AS low, coalesce(tx.medium, 0) AS medium, coalesce(tx.high, 0) AS high,
			coalesce(tx.pass, 0) AS pass, coalesce(tx.review, 0) AS review, coalesce(tx.reject, 0) AS reject,
			coalesce(ev.events, 0) AS events, coalesce(al.alerts, 0) AS alerts
		FROM buckets AS b
		LEFT JOIN tx USING (bucket_start)
		LEFT JOIN ev USING (bucket_start)
		LEFT JOIN al USING (bucket_start)
		ORDER BY b.bucket_start`, from, to, step.Seconds(), unit).Scan(ctx, &points)
	if err != nil {
		return nil, mapErr(err)
	}
	for _, p := range points {
		p.BucketStart = p.BucketStart.UTC()
	}
	return points, nil
}

// DetectionsSince counts detections created after since (detections_created_idx).
func DetectionsSince(ctx context.Context, db bun.IDB, since time.Time) (int, error) {
	n, err := db.NewSelect().Model((*domain.Detection)(nil)).Where("created_at > ?", since).Count(ctx)
	return int(n), mapErr(err)
}
