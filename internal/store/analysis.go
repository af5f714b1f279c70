package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// Bounds of the link walk, per level: a hub (a carrier-grade NAT address, a
// shop's shared tablet) must not turn one lookup into a scan of everyone.
const (
	// walkLinksPerUser is how many of a frontier user's most recently used
	// devices, and separately IP addresses, are followed.
	walkLinksPerUser = 20
	// walkUsersPerLink is how many users (lowest IDs first) are read per device or IP.
	walkUsersPerLink = 100
	// walkHistoryRows is how many of a user's newest logins and transactions are read to find their IPs.
	walkHistoryRows = 200
)

// LinkRow is one piece of evidence for a linked user: the hop from ParentID to UserID.
type LinkRow struct {
	UserID      int64           `bun:"user_id"`
	Depth       int             `bun:"depth"`
	ParentID    int64           `bun:"parent_id"`
	Kind        domain.LinkKind `bun:"kind"`
	Value       string          `bun:"value"`
	DeviceID    *int64          `bun:"device_id"`
	FirstSeenAt time.Time       `bun:"first_seen_at"`
	LastSeenAt  time.Time       `bun:"last_seen_at"`
}

// nonEvidenceNetworks are addresses that say nothing about who is behind
// them — loopback, private, link-local — so sharing one links nobody.
var nonEvidenceNetworks = []string{"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
	"169.254.0.0/16", "0.0.0.0/32", "::1/128", "fc00::/7", "fe80::/10"}

// LinkedUsers walks the graph of users sharing devices (user_devices) or IP
// addresses (successful logins and transactions) breadth first from userID,
// up to maxDepth hops and at most limit users, and returns the evidence of the
// hop that reached each one, ordered by depth, user ID, kind and first sighting.
//
// The walk is one recursive CTE whose rows are whole BFS levels: each row
// carries the level's users (frontier), the user each was reached from
// (parents, the lowest-ID neighbor on the previous level) and every user seen
// so far. Keeping the seen set in the row lets a level skip users already
// found, so every user appears once at its shortest depth, and lets the level
// be cut to the remaining budget (limit − found) by user ID. The frontier is
// therefore never larger than limit, the walk stops at maxDepth or when the
// budget is spent, and each frontier user reads at most walkLinksPerUser
// devices and IPs × walkUsersPerLink users. Within the links-per-user cap, and
// with limit ≤ walkUsersPerLink, the result is exactly the first `limit` users
// by (depth, ID): a level is only cut when it fills the budget, and then no
// deeper level is read.
func LinkedUsers(ctx context.Context, db bun.IDB, userID int64, maxDepth, limit int) ([]LinkRow, error) {
	var rows []LinkRow
	err := db.NewRaw(`
WITH RECURSIVE walk (depth, frontier, parents, seen) AS (
	SELECT 0, ARRAY[?0::bigint], ARRAY[0::bigint], ARRAY[?0::bigint]
	UNION ALL
	SELECT w.depth + 1, lvl.ids, lvl.parents, w.seen || lvl.ids
	FROM walk w
	CROSS JOIN LATERAL (
		SELECT array_agg(c.user_id ORDER BY c.user_id) AS ids, array_agg(c.parent_id ORDER BY c.user_id) AS parents
		FROM (
			SELECT n.user_id, min(f.id) AS parent_id
			FROM unnest(w.frontier) AS f(id)
			CROSS JOIN LATERAL (
				SELECT o.user_id
				FROM (SELECT device_id FROM user_devices WHERE user_id = f.id
				      ORDER BY last_seen_at DESC, device_id LIMIT ?3) dv
				CROSS JOIN LATERAL (
					SELECT user_id FROM user_devices
					WHERE device_id = dv.device_id AND user_id <> ALL (w.seen)
					ORDER BY user_id LIMIT ?4
				) o
				UNION
				SELECT o.user_id
				FROM (
					SELECT r.ip FROM (
						(SELECT ip_address AS ip, created_at AS at FROM login_logs
						 WHERE user_id = f.id AND success AND ip_address <> '' AND NOT ip_address::inet <<= ANY (?6::inet[])
						 ORDER BY created_at DESC LIMIT ?5)
						UNION ALL
						(SELECT ip_address, occurred_at FROM transactions
						 WHERE user_id = f.id AND ip_address <> '' AND NOT ip_address::inet <<= ANY (?6::inet[])
						 ORDER BY occurred_at DESC LIMIT ?5)
					) r
					GROUP BY r.ip ORDER BY max(r.at) DESC, r.ip LIMIT ?3
				) ip
				CROSS JOIN LATERAL (
					(SELECT DISTINCT user_id FROM login_logs
					 WHERE ip_address = ip.ip AND success AND ip_address <> '' AND user_id <> ALL (w.seen)
					 ORDER BY user_id LIMIT ?4)
					UNION
					(SELECT DISTINCT user_id FROM transactions
					 WHERE ip_address = ip.ip AND user_id <> ALL (w.seen)
					 ORDER BY user_id LIMIT ?4)
				) o
			) n
			GROUP BY n.user_id
			ORDER BY n.user_id
			LIMIT ?2 + 1 - cardinality(w.seen)
		) c
	) lvl
	WHERE w.depth < ?1 AND cardinality(w.seen) <= ?2 AND lvl.ids IS NOT NULL
), found AS (
	SELECT r.user_id, r.parent_id, w.depth
	FROM walk w CROSS JOIN LATERAL unnest(w.frontier, w.parents) AS r(user_id, parent_id)
	WHERE w.depth > 0
), ip_use AS (
	SELECT user_id, ip_address AS ip, created_at AS at FROM login_logs
	WHERE success AND ip_address <> '' AND NOT ip_address::inet <<= ANY (?6::inet[]) AND user_id IN (SELECT user_id FROM found UNION SELECT parent_id FROM found)
	UNION ALL
	SELECT user_id, ip_address, occurred_at FROM transactions
	WHERE ip_address <> '' AND NOT ip_address::inet <<= ANY (?6::inet[]) AND user_id IN (SELECT user_id FROM found UNION SELECT parent_id FROM found)
), evidence AS (
	-- A device's shared use is when both users used it: the overlap of their
	-- sightings, or, when one stopped before the other started, the gap between.
	SELECT f.user_id, 'DEVICE' AS kind, d.fingerprint AS value, d.id AS device_id,
		least(greatest(a.first_seen_at, b.first_seen_at), least(a.last_seen_at, b.last_seen_at)) AS first_seen_at,
		greatest(greatest(a.first_seen_at, b.first_seen_at), least(a.last_seen_at, b.last_seen_at)) AS last_seen_at
	FROM found f
	JOIN user_devices a ON a.user_id = f.parent_id
	JOIN user_devices b ON b.user_id = f.user_id AND b.device_id = a.device_id
	JOIN devices d ON d.id = a.device_id
	UNION ALL
	SELECT f.user_id, 'IP', u.ip, NULL, min(u.at), max(u.at)
	FROM found f JOIN ip_use u ON u.user_id IN (f.user_id, f.parent_id)
	GROUP BY f.user_id, u.ip
	HAVING count(DISTINCT u.user_id) = 2
)
SELECT f.user_id, f.depth, f.parent_id, e.kind, e.value, e.device_id, e.first_seen_at, e.last_seen_at
FROM found f JOIN evidence e ON e.user_id = f.user_id
ORDER BY f.depth, f.user_id, e.kind, e.first_seen_at, e.value`,
		userID, maxDepth, limit, walkLinksPerUser, walkUsersPerLink, walkHistoryRows, pgArray(nonEvidenceNetworks)).Scan(ctx, &rows)
	return rows, mapErr(err)
}

// confirmedFraud is the SQL predicate "event ev is or was confirmed fraud":
// a CLOSED event that went through CONFIRMED_FRAUD still counts.
const confirmedFraud = `(ev.status = 'CONFIRMED_FRAUD' OR EXISTS (
	SELECT 1 FROM event_timeline tl WHERE tl.event_id = ev.id AND tl.to_status = 'CONFIRMED_FRAUD'))`

// RiskFacts is what a user's risk profile is computed from, as of one instant.
type RiskFacts struct {
	Status    domain.UserStatus `bun:"status"`
	CreatedAt time.Time         `bun:"created_at"`

	Count24h  int             `bun:"count_24h"`
	Volume24h decimal.Decimal `bun:"volume_24h"`
	Count7d   int             `bun:"count_7d"`
	Volume7d  decimal.Decimal `bun:"volume_7d"`
	Count30d  int             `bun:"count_30d"`
	Volume30d decimal.Decimal `bun:"volume_30d"`
	// Average30d is rounded to cents.
	Average30d decimal.Decimal `bun:"average_30d"`
	Max30d     decimal.Decimal `bun:"max_30d"`

	Low    int `bun:"low"`
	Medium int `bun:"medium"`
	High   int `bun:"high"`

	// EventStatuses and EventCounts are parallel, sorted by status.
	EventStatuses  []string `bun:"event_statuses,array"`
	EventCounts    []int    `bun:"event_counts,array"`
	ConfirmedFraud int      `bun:"confirmed_fraud"`

	Devices       int `bun:"devices"`
	SharedDevices int `bun:"shared_devices"`
	Countries30d  int `bun:"countries_30d"`

	LastLoginAt   *time.Time `bun:"last_login_at"`
	LastLatitude  *float64   `bun:"last_latitude"`
	LastLongitude *float64   `bun:"last_longitude"`
	LastCountry   *string    `bun:"last_country"`
	LastCity      *string    `bun:"last_city"`
}

// UserRiskFacts loads a user's risk facts in one round trip: transaction
// windows ending at now, detections by level over 30 days, events by status
// (all time), devices (all time, and how many other users share), countries of
// transactions and successful logins over 30 days, and the last successful
// login. Every part is an index range scan on the user. A missing user is apperr.ErrNotFound.
func UserRiskFacts(ctx context.Context, db bun.IDB, userID int64, now time.Time) (*RiskFacts, error) {
	f := new(RiskFacts)
	err := db.NewRaw(`
SELECT u.status, u.created_at,
	tx.count_24h, tx.volume_24h, tx.count_7d, tx.volume_7d, tx.count_30d, tx.volume_30d, tx.average_30d, tx.max_30d,
	det.low, det.medium, det.high,
	ev.event_statuses, ev.event_counts, ev.confirmed_fraud,
	dev.devices, dev.shared_devices, geo.countries_30d,
	ll.created_at AS last_login_at, ll.latitude AS last_latitude, ll.longitude AS last_longitude,
	ll.country AS last_country, ll.city AS last_city
FROM users u
CROSS JOIN LATERAL (
	SELECT count(*) FILTER (WHERE occurred_at > ?1::timestamptz - interval '24 hours') AS count_24h,
		coalesce(sum(amount) FILTER (WHERE occurred_at > ?1::timestamptz - interval '24 hours'), 0) AS volume_24h,
		count(*) FILTER (WHERE occurred_at > ?1::timestamptz - interval '7 days') AS count_7d,
		coalesce(sum(amount) FILTER (WHERE occurred_at > ?1::timestamptz - interval '7 days'), 0) AS volume_7d,
		count(*) AS count_30d,
		coalesce(sum(amount), 0) AS volume_30d,
		coalesce(round(avg(amount), 2), 0) AS average_30d,
		coalesce(max(amount), 0) AS max_30d
	FROM transactions
	WHERE user_id = u.id AND occurred_at > ?1::timestamptz - interval '30 days' AND occurred_at <= ?1
) tx
CROSS JOIN LATERAL (
	SELECT count(*) FILTER (WHERE risk_level = 'LOW') AS low,
		count(*) FILTER (WHERE risk_level = 'MEDIUM') AS medium,
		count(*) FILTER (WHERE risk_level = 'HIGH') AS high
	FROM detections
	WHERE user_id = u.id AND created_at > ?1::timestamptz - interval '30 days' AND created_at <= ?1
) det
CROSS JOIN LATERAL (
	SELECT coalesce(array_agg(s.status ORDER BY s.status), '{}') AS event_statuses,
		coalesce(array_agg(s.n ORDER BY s.status), '{}') AS event_counts,
		coalesce(sum(s.confirmed), 0) AS confirmed_fraud
	FROM (
		SELECT ev.status, count(*) AS n, count(*) FILTER (WHERE `+confirmedFraud+`) AS confirmed
		FROM risk_events ev WHERE ev.user_id = u.id GROUP BY ev.status
	) s
) ev
CROSS JOIN LATERAL (
	SELECT count(*) AS devices,
		count(*) FILTER (WHERE EXISTS (
			SELECT 1 FROM user_devices o WHERE o.device_id = ud.device_id AND o.user_id <> ud.user_id)) AS shared_devices
	FROM user_devices ud WHERE ud.user_id = u.id
) dev
CROSS JOIN LATERAL (
	SELECT count(DISTINCT c.country) AS countries_30d FROM (
		SELECT country FROM transactions
		WHERE user_id = u.id AND occurred_at > ?1::timestamptz - interval '30 days' AND occurred_at <= ?1 AND country <> ''
		UNION ALL
		SELECT country FROM login_logs
		WHERE user_id = u.id AND success AND created_at > ?1::timestamptz - interval '30 days' AND created_at <= ?1 AND country <> ''
	) c
) geo
LEFT JOIN LATERAL (
	SELECT created_at, latitude, longitude, country, city FROM login_logs
	WHERE user_id = u.id AND success ORDER BY created_at DESC, id DESC LIMIT 1
) ll ON true
WHERE u.id = ?0`, userID, now).Scan(ctx, f)
	return f, mapErr(err)
}

// EventFacts is what handling suggestions for a risk event are drawn from.
type EventFacts struct {
	UserID        int64             `bun:"user_id"`
	UserRole      domain.Role       `bun:"user_role"`
	UserStatus    domain.UserStatus `bun:"user_status"`
	UserCreatedAt time.Time         `bun:"user_created_at"`
	// MatchedRules and Features come from the detection; nil without one.
	MatchedRules []domain.MatchedRule `bun:"matched_rules,type:jsonb"`
	Features     json.RawMessage      `bun:"features,type:jsonb"`
	// The transaction's device, if any, now.
	DeviceID          *int64               `bun:"device_id"`
	DeviceFingerprint *string              `bun:"device_fingerprint"`
	DeviceStatus      *domain.DeviceStatus `bun:"device_status"`
	// DeviceUsers counts every user of the device; DeviceFraudUsers those with confirmed fraud.
	DeviceUsers      int `bun:"device_users"`
	DeviceFraudUsers int `bun:"device_fraud_users"`
	// OtherEvents and OtherFraud count the user's other risk events, and those confirmed as fraud.
	OtherEvents int `bun:"other_events"`
	OtherFraud  int `bun:"other_fraud"`
}

// RiskEventFacts loads an event's facts in one round trip; a missing event is apperr.ErrNotFound.
func RiskEventFacts(ctx context.Context, db bun.IDB, eventID int64) (*EventFacts, error) {
	f := new(EventFacts)
	err := db.NewRaw(`
SELECT e.user_id, u.role AS user_role, u.status AS user_status, u.created_at AS user_created_at,
	coalesce(dt.matched_rules, ll.matched_rules, '[]') AS matched_rules, coalesce(dt.features, '{}') AS features,
	d.id AS device_id, d.fingerprint AS device_fingerprint, d.status AS device_status,
	(SELECT count(*) FROM user_devices ud WHERE ud.device_id = d.id) AS device_users,
	(SELECT count(*) FROM user_devices ud WHERE ud.device_id = d.id AND EXISTS (
		SELECT 1 FROM risk_events ev WHERE ev.user_id = ud.user_id AND `+confirmedFraud+`)) AS device_fraud_users,
	(SELECT count(*) FROM risk_events ev WHERE ev.user_id = e.user_id AND ev.id <> e.id) AS other_events,
	(SELECT count(*) FROM risk_events ev WHERE ev.user_id = e.user_id AND ev.id <> e.id AND `+confirmedFraud+`) AS other_fraud
FROM risk_events e
JOIN users u ON u.id = e.user_id
LEFT JOIN transactions t ON t.user_id = e.user_id AND t.id = e.transaction_id
LEFT JOIN detections dt ON dt.user_id = e.user_id AND dt.transaction_id = e.transaction_id
-- A LOGIN event's rules and device are its login's.
LEFT JOIN login_logs ll ON ll.id = e.login_log_id
LEFT JOIN devices d ON d.id = coalesce(t.device_id, ll.device_id)
WHERE e.id = ?0`, eventID).Scan(ctx, f)
	return f, mapErr(err)
}
