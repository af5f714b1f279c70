package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// A group commit writes the submissions of several users in one database
// transaction of three round trips, as a single submission does: BEGIN with
// every user's row lock, every idempotency key and data source in one
// statement each; the feature reads in one statement; every write in one
// set-based statement with COMMIT. Its members are for distinct users, so
// each member's feature read sees its user's history exactly as a
// submission of its own would.

// The group's statements, prepared with the single path's (see prepare).
const (
	stmtLockGroup   = "riskgraph_submit_lock_group"
	stmtFindKeys    = "riskgraph_submit_find_keys"
	stmtSources     = "riskgraph_submit_sources"
	stmtRecordGroup = "riskgraph_submit_record_group"
)

// lockGroupSQL locks the users in id order, so groups and single submissions
// locking overlapping users can't deadlock.
const lockGroupSQL = `SELECT id, username, role, status, created_at FROM users WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE`

const findKeysSQL = `SELECT k.caller_id, k.key, k.request_hash, k.user_id, k.transaction_id
FROM idempotency_keys k JOIN unnest($1::bigint[], $2::text[]) q(caller_id, key) ON k.caller_id = q.caller_id AND k.key = q.key`

const sourcesSQL = `SELECT id, status FROM data_sources WHERE id = ANY($1::bigint[])`

// KeyRef names one caller's idempotency key.
type KeyRef struct {
	CallerID int64
	Key      string
}

// GroupStart is what BeginGroup read under the locks.
type GroupStart struct {
	// Subjects are the locked users found, by ID.
	Subjects map[int64]*Subject
	// Keys are the stored idempotency keys found.
	Keys map[KeyRef]*IdempotencyKey
	// Sources are the statuses of the data sources found.
	Sources map[int64]domain.DataSourceStatus
}

// BeginGroup pins a connection, begins a transaction, locks the users and
// reads the given idempotency keys and data sources — in one round trip.
// Users, keys or sources not found are absent from the maps. The caller must
// Close the submission.
func BeginGroup(ctx context.Context, db *bun.DB, userIDs []int64, keys []KeyRef, sourceIDs []int64) (*Submission, *GroupStart, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, nil, mapErr(err)
	}
	s := &Submission{conn: conn}
	start := &GroupStart{Subjects: map[int64]*Subject{}, Keys: map[KeyRef]*IdempotencyKey{}, Sources: map[int64]domain.DataSourceStatus{}}
	callers, names := make([]int64, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		callers[i], names[i] = k.CallerID, k.Key
	}
	err = s.pgx(func(c *pgx.Conn) error {
		if err := prepare(ctx, c); err != nil {
			return err
		}
		b := &pgx.Batch{}
		b.Queue("BEGIN")
		b.Queue(stmtSettings)
		b.Queue(stmtLockGroup, userIDs).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				u := new(Subject)
				if err := rows.Scan(u.scanner()); err != nil {
					return err
				}
				start.Subjects[u.ID] = u
			}
			return rows.Err()
		})
		if len(keys) > 0 {
			b.Queue(stmtFindKeys, callers, names).Query(func(rows pgx.Rows) error {
				for rows.Next() {
					k := new(IdempotencyKey)
					if err := rows.Scan(&k.CallerID, &k.Key, &k.RequestHash, &k.UserID, &k.TransactionID); err != nil {
						return err
					}
					start.Keys[KeyRef{k.CallerID, k.Key}] = k
				}
				return rows.Err()
			})
		}
		if len(sourceIDs) > 0 {
			b.Queue(stmtSources, sourceIDs).Query(func(rows pgx.Rows) error {
				for rows.Next() {
					var id int64
					var status domain.DataSourceStatus
					if err := rows.Scan(&id, &status); err != nil {
						return err
					}
					start.Sources[id] = status
				}
				return rows.Err()
			})
		}
		s.open = true
		return c.SendBatch(ctx, b).Close()
	})
	if err != nil {
		s.Close()
		return nil, nil, mapErr(err)
	}
	return s, start, nil
}

// FeaturesGroup reads every query's features in one statement (see featuresSQL).
func (s *Submission) FeaturesGroup(ctx context.Context, qs []FeatureQuery) ([]*FeatureRow, error) {
	rows := make([]*FeatureRow, len(qs))
	err := s.pgx(func(c *pgx.Conn) error {
		r, err := c.Query(ctx, stmtFeatures, featureArgs(qs)...)
		if err != nil {
			return err
		}
		defer r.Close()
		n := 0
		for r.Next() {
			if n == len(qs) {
				return fmt.Errorf("store: the feature read returned more than %d rows", len(qs))
			}
			f := new(FeatureRow)
			if err := r.Scan(f.scanner()); err != nil {
				return err
			}
			rows[n] = f
			n++
		}
		if err := r.Err(); err != nil {
			return err
		}
		if n != len(qs) {
			return fmt.Errorf("store: the feature read returned %d of %d rows", n, len(qs))
		}
		return nil
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return rows, nil
}

// RecordGroup writes every record, each for a different user, in one
// statement and, when commit is set, commits in the same round trip. Each
// record gets its IDs and stamps as Record gives them. action is the audit
// action, the same for every record.
func (s *Submission) RecordGroup(ctx context.Context, rs []*Record, commit bool) error {
	n := len(rs)
	a := groupArrays{
		userID: make([]int64, n), fingerprint: make([]*string, n), occurredAt: make([]time.Time, n), amount: make(numericArray, n),
		currency: make([]string, n), merchantID: make([]*string, n), merchantCategory: make([]*string, n), channel: make([]*string, n),
		ipAddress: make([]*string, n), latitude: make([]*float64, n), longitude: make([]*float64, n), country: make([]*string, n),
		city: make([]*string, n), status: make([]string, n), submittedBy: make([]int64, n), sourceID: make([]*int64, n),
		riskScore: make(numericArray, n), riskLevel: make([]string, n), decision: make([]string, n), ruleScore: make([]int32, n),
		mlScore: make(numericArray, n), modelVersion: make([]*string, n), contributions: make([]*string, n), reason: make([]string, n),
		matched: make([]string, n), shadow: make([]string, n), features: make([]string, n), latency: make([]int32, n),
		auditDetails: make([]string, n), auditIP: make([]string, n), key: make([]*string, n), hash: make([][]byte, n),
		eventType: make([]*string, n), eventTitle: make([]*string, n), alertMessage: make([]*string, n),
		detectedDetails: make([]*string, n), raisedDetails: make([]*string, n),
	}
	byUser := make(map[int64]*Record, n)
	action := ""
	for i, r := range rs {
		t, d := r.Transaction, r.Detection
		if byUser[t.UserID] != nil {
			return fmt.Errorf("store: a group holds user %d twice", t.UserID)
		}
		byUser[t.UserID] = r
		if i > 0 && r.AuditAction != action {
			return errors.New("store: a group's records have one audit action")
		}
		action = r.AuditAction
		matched, err := json.Marshal(d.MatchedRules)
		if err != nil {
			return fmt.Errorf("store: matched rules: %w", err)
		}
		shadow := []byte("[]")
		if len(d.ShadowRules) > 0 {
			if shadow, err = json.Marshal(d.ShadowRules); err != nil {
				return fmt.Errorf("store: shadow rules: %w", err)
			}
		}
		if d.ModelContributions != nil {
			c, err := json.Marshal(d.ModelContributions)
			if err != nil {
				return fmt.Errorf("store: model contributions: %w", err)
			}
			a.contributions[i] = ptr(string(c))
		}
		audit := string(r.AuditDetails)
		if audit == "" {
			audit = "{}"
		}
		a.userID[i], a.fingerprint[i], a.occurredAt[i], a.amount[i] = t.UserID, t.DeviceFingerprint, t.OccurredAt, t.Amount.String()
		a.currency[i], a.merchantID[i], a.merchantCategory[i], a.channel[i] = t.Currency, t.MerchantID, t.MerchantCategory, t.Channel
		a.ipAddress[i], a.latitude[i], a.longitude[i], a.country[i], a.city[i] = t.IPAddress, t.Latitude, t.Longitude, t.Country, t.City
		a.status[i], a.submittedBy[i], a.sourceID[i] = string(t.Status), t.SubmittedBy, t.SourceID
		a.riskScore[i], a.riskLevel[i], a.decision[i], a.ruleScore[i] = numericText(d.RiskScore), string(d.RiskLevel), string(d.Decision), int32(d.RuleScore)
		a.modelVersion[i], a.reason[i] = d.ModelVersion, d.Reason
		if d.MLScore != nil {
			a.mlScore[i] = numericText(*d.MLScore)
		}
		a.matched[i], a.shadow[i], a.features[i], a.latency[i] = string(matched), string(shadow), string(d.Features), int32(d.LatencyMicros)
		a.auditDetails[i], a.auditIP[i] = audit, r.AuditIP
		if r.Key != nil {
			a.key[i], a.hash[i] = &r.Key.Key, r.Key.RequestHash
		}
		if ev, al := r.Event, r.Alert; ev != nil {
			a.eventType[i], a.eventTitle[i], a.alertMessage[i] = &ev.Type, &ev.Title, &al.Message
			a.detectedDetails[i], a.raisedDetails[i] = ptr(string(r.DetectedDetails)), ptr(string(r.RaisedDetails))
		}
	}
	args, err := recordGroup.args([]namedValue{
		{"user_id", a.userID}, {"fingerprint", a.fingerprint}, {"occurred_at", a.occurredAt}, {"amount", a.amount.text()},
		{"currency", a.currency}, {"merchant_id", a.merchantID}, {"merchant_category", a.merchantCategory}, {"channel", a.channel},
		{"ip_address", a.ipAddress}, {"latitude", a.latitude}, {"longitude", a.longitude}, {"country", a.country}, {"city", a.city},
		{"status", a.status}, {"submitted_by", a.submittedBy}, {"source_id", a.sourceID},
		{"risk_score", a.riskScore.text()}, {"risk_level", a.riskLevel}, {"decision", a.decision}, {"rule_score", a.ruleScore},
		{"ml_score", a.mlScore.text()}, {"model_version", a.modelVersion}, {"model_contributions", a.contributions}, {"reason", a.reason},
		{"matched_rules", a.matched}, {"shadow_rules", a.shadow}, {"features", a.features}, {"latency_us", a.latency},
		{"audit_details", a.auditDetails}, {"audit_ip", a.auditIP}, {"idempotency_key", a.key}, {"request_hash", a.hash},
		{"event_type", a.eventType}, {"event_title", a.eventTitle}, {"alert_message", a.alertMessage},
		{"detected_details", a.detectedDetails}, {"raised_details", a.raisedDetails},
		{"audit_action", action}, {"event_status", domain.EventOpen}, {"alert_status", domain.AlertNew},
		{"timeline_detected", domain.TimelineDetection}, {"timeline_raised", domain.TimelineAlert},
	})
	if err != nil {
		return err
	}
	err = s.pgx(func(c *pgx.Conn) error {
		b := &pgx.Batch{}
		b.Queue(stmtRecordGroup, args...).Query(func(rows pgx.Rows) error {
			seen := 0
			for rows.Next() {
				var userID, txID int64
				var txCreated, detCreated time.Time
				var deviceID, evID, alID *int64
				var evVersion *int
				var evCreated, evUpdated, alCreated *time.Time
				var alStatus *domain.AlertStatus
				if err := rows.Scan(plannedScan{stmtRecordGroup, []any{&userID, &txID, &txCreated, &deviceID, &detCreated,
					&evID, &evVersion, &evCreated, &evUpdated, &alID, &alStatus, &alCreated}}); err != nil {
					return err
				}
				r := byUser[userID]
				if r == nil {
					return fmt.Errorf("store: group write returned user %d, not a member", userID)
				}
				seen++
				t, d := r.Transaction, r.Detection
				t.ID, t.CreatedAt, t.DeviceID, d.CreatedAt = txID, txCreated, deviceID, detCreated
				if (evID != nil) != (r.Event != nil) || (evID != nil && alID == nil) {
					return fmt.Errorf("store: group write: user %d's risk event is missing or unexpected", userID)
				}
				if evID != nil {
					r.Event.ID, r.Event.Version, r.Event.CreatedAt, r.Event.UpdatedAt = *evID, *evVersion, *evCreated, *evUpdated
					r.Alert.ID, r.Alert.Status, r.Alert.CreatedAt = *alID, *alStatus, *alCreated
				}
			}
			if err := rows.Err(); err != nil {
				return err
			}
			if seen != n {
				return fmt.Errorf("store: group write returned %d of %d members", seen, n)
			}
			return nil
		})
		if commit {
			b.Queue("COMMIT")
		}
		return c.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return mapErr(err)
	}
	if commit {
		s.open = false
	}
	for _, r := range rs {
		r.finish()
	}
	return nil
}

// finish fills in what the write implies once r has its IDs.
func (r *Record) finish() {
	t, d := r.Transaction, r.Detection
	d.TransactionID = t.ID
	if ev, a := r.Event, r.Alert; ev != nil {
		ev.UserID, ev.TransactionID, ev.Level, ev.RiskScore, ev.Description = t.UserID, t.ID, d.RiskLevel, d.RiskScore, d.Reason
		a.EventID, a.UserID, a.TransactionID, a.Level, a.Title = ev.ID, t.UserID, t.ID, d.RiskLevel, ev.Title
	}
}

// groupArrays are recordGroupSQL's columns, one element per record.
type groupArrays struct {
	userID                                                     []int64
	fingerprint, merchantID, merchantCategory, channel         []*string
	ipAddress, country, city, modelVersion, contributions, key []*string
	eventType, eventTitle, alertMessage                        []*string
	detectedDetails, raisedDetails                             []*string
	occurredAt                                                 []time.Time
	currency, status, riskLevel, decision, reason              []string
	matched, shadow, features, auditDetails, auditIP           []string
	amount, riskScore, mlScore                                 numericArray
	latitude, longitude                                        []*float64
	submittedBy                                                []int64
	sourceID                                                   []*int64
	ruleScore, latency                                         []int32
	hash                                                       [][]byte
}

func ptr[T any](v T) *T { return &v }

// numericArray is a numeric[] parameter's elements as decimal text, "" for
// NULL. It is sent as PostgreSQL's array text (pgx sends a string argument
// in text format), so PostgreSQL reads each number as it reads a numeric
// literal; in binary, pgx converted every element through math/big, a tenth
// of the group write's Go time.
type numericArray []string

func (a numericArray) text() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, v := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		if v == "" {
			v = "NULL"
		}
		b.WriteString(v)
	}
	b.WriteByte('}')
	return b.String()
}

// numericText is f as numeric text, with the digits pgx's binary encoding
// of a float64 keeps (its shortest exact decimal form).
func numericText(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

var recordGroup = numbered(recordGroupSQL)

// recordGroupSQL is recordEventSQL over arrays, one element per record (m,
// in the records' order, which the inserted IDs follow). Every member is for
// a different user, so t, ev and al join back to m on user_id. Devices are
// upserted once per fingerprint, in fingerprint order (as the users are
// locked in id order) so concurrent groups can't deadlock on them. Each
// transaction records its device's first sighting after the upsert and its
// user's creation, for the merchant features (see featuresSQL's pay_1h).
const recordGroupSQL = `
WITH m AS (
	SELECT * FROM unnest(@user_id::bigint[], @fingerprint::text[], @occurred_at::timestamptz[], @amount::numeric[], @currency::text[],
		@merchant_id::text[], @merchant_category::text[], @channel::text[], @ip_address::text[], @latitude::float8[], @longitude::float8[],
		@country::text[], @city::text[], @status::text[], @submitted_by::bigint[], @source_id::bigint[],
		@risk_score::numeric[], @risk_level::text[], @decision::text[], @rule_score::int[], @ml_score::numeric[], @model_version::text[],
		@model_contributions::jsonb[], @reason::text[], @matched_rules::jsonb[], @shadow_rules::jsonb[], @features::jsonb[], @latency_us::int[],
		@audit_details::jsonb[], @audit_ip::text[], @idempotency_key::text[], @request_hash::bytea[],
		@event_type::text[], @event_title::text[], @alert_message::text[], @detected_details::jsonb[], @raised_details::jsonb[])
		WITH ORDINALITY AS m(user_id, fingerprint, occurred_at, amount, currency, merchant_id, merchant_category, channel, ip_address,
			latitude, longitude, country, city, status, submitted_by, source_id, risk_score, risk_level, decision, rule_score, ml_score,
			model_version, model_contributions, reason, matched_rules, shadow_rules, features, latency_us, audit_details, audit_ip,
			idempotency_key, request_hash, event_type, event_title, alert_message, detected_details, raised_details, ord)
), dev AS (
	INSERT INTO devices AS d (fingerprint, status, first_seen_at, last_seen_at)
	SELECT fingerprint, 'NORMAL', min(occurred_at), max(occurred_at) FROM m WHERE fingerprint IS NOT NULL
	GROUP BY fingerprint ORDER BY fingerprint
	ON CONFLICT (fingerprint) DO UPDATE SET
		first_seen_at = LEAST(d.first_seen_at, EXCLUDED.first_seen_at),
		last_seen_at = GREATEST(d.last_seen_at, EXCLUDED.last_seen_at)
	RETURNING d.id, d.fingerprint, d.first_seen_at
), link AS (
	INSERT INTO user_devices AS ud (user_id, device_id, first_seen_at, last_seen_at)
	SELECT m.user_id, dev.id, m.occurred_at, m.occurred_at FROM m JOIN dev ON dev.fingerprint = m.fingerprint ORDER BY m.user_id
	ON CONFLICT (user_id, device_id) DO UPDATE SET
		first_seen_at = LEAST(ud.first_seen_at, EXCLUDED.first_seen_at),
		last_seen_at = GREATEST(ud.last_seen_at, EXCLUDED.last_seen_at)
), t AS (
	INSERT INTO transactions (user_id, amount, currency, merchant_id, merchant_category, channel, device_id,
		device_fingerprint, ip_address, latitude, longitude, country, city, status, submitted_by, source_id, occurred_at,
		device_first_seen_at, user_created_at)
	SELECT m.user_id, m.amount, m.currency, m.merchant_id, m.merchant_category, m.channel, dev.id,
		m.fingerprint, m.ip_address, m.latitude, m.longitude, m.country, m.city, m.status, m.submitted_by, m.source_id, m.occurred_at,
		dev.first_seen_at, (SELECT created_at FROM users WHERE id = m.user_id)
	FROM m LEFT JOIN dev ON dev.fingerprint = m.fingerprint ORDER BY m.ord
	RETURNING id, user_id, created_at, device_id
), det AS (
	INSERT INTO detections (transaction_id, user_id, risk_score, risk_level, decision, rule_score, ml_score,
		model_version, model_contributions, reason, matched_rules, shadow_rules, features, latency_us)
	SELECT t.id, m.user_id, m.risk_score, m.risk_level, m.decision, m.rule_score, m.ml_score, m.model_version, m.model_contributions, m.reason,
		m.matched_rules, m.shadow_rules, m.features, m.latency_us
	FROM t JOIN m ON m.user_id = t.user_id ORDER BY m.ord
	RETURNING transaction_id, created_at
), loc AS (
	-- The last known location only moves forward in time.
	UPDATE users u SET
		last_latitude = CASE WHEN u.last_location_at IS NULL OR u.last_location_at <= m.occurred_at THEN m.latitude ELSE u.last_latitude END,
		last_longitude = CASE WHEN u.last_location_at IS NULL OR u.last_location_at <= m.occurred_at THEN m.longitude ELSE u.last_longitude END,
		last_country = CASE WHEN u.last_location_at IS NULL OR u.last_location_at <= m.occurred_at THEN m.country ELSE u.last_country END,
		last_city = CASE WHEN u.last_location_at IS NULL OR u.last_location_at <= m.occurred_at THEN m.city ELSE u.last_city END,
		last_location_at = GREATEST(u.last_location_at, m.occurred_at)
	FROM m WHERE u.id = m.user_id AND m.latitude IS NOT NULL AND m.longitude IS NOT NULL
), audit AS (
	INSERT INTO audit_logs (actor_id, action, target_type, target_id, details, ip_address)
	SELECT m.submitted_by, @audit_action::text, 'transaction', t.id::text, m.audit_details, m.audit_ip
	FROM t JOIN m ON m.user_id = t.user_id ORDER BY m.ord
), idem AS (
	INSERT INTO idempotency_keys (caller_id, key, request_hash, user_id, transaction_id)
	SELECT m.submitted_by, m.idempotency_key, m.request_hash, m.user_id, t.id
	FROM t JOIN m ON m.user_id = t.user_id WHERE m.idempotency_key IS NOT NULL ORDER BY m.ord
), ev AS (
	INSERT INTO risk_events (user_id, transaction_id, type, level, status, risk_score, title, description)
	SELECT m.user_id, t.id, m.event_type, m.risk_level, @event_status::text, m.risk_score, m.event_title, m.reason
	FROM t JOIN m ON m.user_id = t.user_id WHERE m.event_type IS NOT NULL ORDER BY m.ord
	RETURNING id, user_id, version, created_at, updated_at
), al AS (
	INSERT INTO alerts (event_id, user_id, transaction_id, level, status, title, message)
	SELECT ev.id, ev.user_id, t.id, m.risk_level, @alert_status::text, m.event_title, m.alert_message
	FROM ev JOIN t ON t.user_id = ev.user_id JOIN m ON m.user_id = ev.user_id ORDER BY m.ord
	RETURNING id, user_id, status, created_at
), tl AS (
	-- Each event's timeline starts with its detection, then its alert.
	INSERT INTO event_timeline (event_id, kind, action, to_status, note, details)
	SELECT event_id, kind, action, to_status, note, details FROM (
		SELECT ev.id AS event_id, 1 AS step, @timeline_detected::text AS kind, 'DETECTED' AS action, @event_status AS to_status,
			m.reason AS note, m.detected_details || jsonb_build_object('transactionId', t.id) AS details
		FROM ev JOIN t ON t.user_id = ev.user_id JOIN m ON m.user_id = ev.user_id
		UNION ALL
		SELECT ev.id, 2, @timeline_raised::text, 'ALERT_RAISED', @alert_status, m.event_title,
			m.raised_details || jsonb_build_object('alertId', al.id)
		FROM ev JOIN al ON al.user_id = ev.user_id JOIN m ON m.user_id = ev.user_id
	) x ORDER BY event_id, step
)
SELECT t.user_id, t.id, t.created_at, t.device_id, det.created_at, ev.id, ev.version, ev.created_at, ev.updated_at, al.id, al.status, al.created_at
FROM t JOIN det ON det.transaction_id = t.id LEFT JOIN ev ON ev.user_id = t.user_id LEFT JOIN al ON al.user_id = t.user_id`
