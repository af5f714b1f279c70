package store

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// Submission is one submitTransaction's database transaction, run by hand on
// a pinned connection so that it costs three round trips instead of one per
// statement: BEGIN with the user's row lock and the idempotency look-up, the
// feature read, and every write with COMMIT. database/sql can't pipeline, so
// those go through pgx on the same connection (sql.Conn.Raw), as statements
// prepared on each connection and run with generic plans: bun would inline
// the values, and PostgreSQL would parse and plan every statement anew, which
// cost more than running them.
type Submission struct {
	conn bun.Conn
	// open is set while a transaction is open on conn.
	open bool
	// SourceStatus is the status of the data source the submission names,
	// read in the first round trip; "" without a source or for an unknown one.
	SourceStatus domain.DataSourceStatus
}

// Subject is the user a transaction is for, locked for the rest of the transaction.
type Subject struct {
	ID        int64
	Username  string
	Role      domain.Role
	Status    domain.UserStatus
	CreatedAt time.Time
}

// scanner scans a lock statement's row into s.
func (s *Subject) scanner() plannedScan {
	return plannedScan{stmtLock, []any{&s.ID, &s.Username, &s.Role, &s.Status, &s.CreatedAt}}
}

// The hot statements, prepared on each connection under these names.
const (
	stmtSettings = "riskgraph_submit_settings"
	stmtLock     = "riskgraph_submit_lock"
	stmtFindKey  = "riskgraph_submit_find_key"
	stmtSource   = "riskgraph_submit_source"
	stmtFeatures = "riskgraph_submit_features"
	stmtRecord   = "riskgraph_submit_record"
	stmtRecordEv = "riskgraph_submit_record_event"
)

var statements = []struct{ name, sql string }{
	{stmtSettings, settingsSQL}, {stmtLock, lockSQL}, {stmtFindKey, findKeySQL}, {stmtSource, sourceSQL}, {stmtFeatures, featuresSQL},
	{stmtRecord, record.sql}, {stmtRecordEv, recordEvent.sql},
	{stmtLockGroup, lockGroupSQL}, {stmtFindKeys, findKeysSQL}, {stmtSources, sourcesSQL}, {stmtRecordGroup, recordGroup.sql},
}

// The writes name their parameters (@user_id): numbering more than forty
// by hand is how a $17 ends up where $18 belongs.
var (
	record      = numbered(recordSQL)
	recordEvent = numbered(recordEventSQL)
)

// settingsSQL sets, for the submission's transaction only, generic plans for
// the prepared statements (PostgreSQL would otherwise re-plan the feature
// read and the writes for every call, costing more than running them), and
// no sequential scans: every statement here is a point or range look-up, and
// a plan made while a table was nearly empty must not scan it once it isn't.
// And no JIT: with sequential scans off, a statement that can only scan (the
// outbox triggers' one-row settings table) is costed past jit_above_cost, and
// PostgreSQL compiled it with LLVM on every submission — 8 ms of backend CPU
// each, 5× the submission's own work (make bench, outbox overhead row).
const settingsSQL = `SELECT set_config('plan_cache_mode', 'force_generic_plan', true), set_config('enable_seqscan', 'off', true),
	set_config('jit', 'off', true)`

// replanEvery is how many submissions a connection runs before preparing its
// statements again. PostgreSQL re-plans on its own after ANALYZE; without
// autovacuum a plan made from the stale size of a young table would live as
// long as the connection, so it is re-made from the table's current size.
const replanEvery = 1000

// lockSQL row-locks the user so concurrent submissions for them run one after
// another and each sees the ones before it (a burst can't slip under a
// velocity rule). FOR NO KEY UPDATE doesn't block inserts that reference the user.
const lockSQL = `SELECT id, username, role, status, created_at FROM users WHERE id = $1 FOR NO KEY UPDATE`

const findKeySQL = `SELECT request_hash, user_id, transaction_id FROM idempotency_keys WHERE caller_id = $1 AND key = $2`

const sourceSQL = `SELECT status FROM data_sources WHERE id = $1`

// BeginSubmission pins a connection, begins a transaction, locks the subject
// user and, when key is given, reads the caller's stored idempotency key
// (nil when there is none) and, when sourceID is, the data source's status —
// in one round trip. A missing user is apperr.ErrNotFound. The caller must
// Close the submission.
func BeginSubmission(ctx context.Context, db *bun.DB, userID, callerID int64, key *string, sourceID *int64) (*Submission, *Subject, *IdempotencyKey, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, nil, nil, mapErr(err)
	}
	s := &Submission{conn: conn}
	subject := new(Subject)
	var prior *IdempotencyKey
	err = s.pgx(func(c *pgx.Conn) error {
		if err := prepare(ctx, c); err != nil {
			return err
		}
		b := &pgx.Batch{}
		b.Queue("BEGIN")
		b.Queue(stmtSettings)
		b.Queue(stmtLock, userID).QueryRow(func(row pgx.Row) error {
			return row.Scan(subject.scanner())
		})
		if key != nil {
			b.Queue(stmtFindKey, callerID, *key).QueryRow(func(row pgx.Row) error {
				k := &IdempotencyKey{CallerID: callerID, Key: *key}
				err := row.Scan(&k.RequestHash, &k.UserID, &k.TransactionID)
				if err == nil {
					prior = k
				}
				if errors.Is(err, pgx.ErrNoRows) {
					return nil
				}
				return err
			})
		}
		if sourceID != nil {
			b.Queue(stmtSource, *sourceID).QueryRow(func(row pgx.Row) error {
				if err := row.Scan(&s.SourceStatus); !errors.Is(err, pgx.ErrNoRows) {
					return err
				}
				return nil // an unknown source fails the write, as a foreign key, with its own answer
			})
		}
		s.open = true
		return c.SendBatch(ctx, b).Close()
	})
	if err != nil {
		s.Close()
		return nil, nil, nil, mapErr(err)
	}
	return s, subject, prior, nil
}

// DB runs further statements inside the submission's transaction.
func (s *Submission) DB() bun.IDB { return s.conn }

// Features reads every stored feature of a transaction, in one round trip.
func (s *Submission) Features(ctx context.Context, q FeatureQuery) (*FeatureRow, error) {
	rows, err := s.FeaturesGroup(ctx, []FeatureQuery{q})
	if err != nil {
		return nil, err
	}
	return rows[0], nil
}

// Record is everything a scored submission writes.
type Record struct {
	// Transaction is stored and gets its ID, CreatedAt and DeviceID (the
	// device its fingerprint names, recorded as seen by the user at OccurredAt).
	// Its location, when it has one, becomes the user's last known location.
	Transaction *domain.Transaction
	// Detection is stored for the transaction and gets TransactionID and CreatedAt.
	Detection *domain.Detection
	// AuditAction, AuditDetails and AuditIP make the audit entry, by the
	// submitter, about the transaction.
	AuditAction  string
	AuditDetails json.RawMessage
	AuditIP      string
	// Key, when set, is stored with the transaction's ID.
	Key *IdempotencyKey
	// Event and Alert, when set (MEDIUM/HIGH), are stored and get their IDs and
	// stamps. The event's timeline starts with the detection and the alert:
	// DetectedDetails and RaisedDetails are their details, to which the
	// transaction and alert IDs are added.
	Event           *domain.RiskEvent
	Alert           *domain.Alert
	DetectedDetails json.RawMessage
	RaisedDetails   json.RawMessage
}

// Record writes r in one statement and, when commit is set, commits in the same round trip.
func (s *Submission) Record(ctx context.Context, r *Record, commit bool) error {
	t, d := r.Transaction, r.Detection
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
	var contributions []byte // NULL unless a model scored
	if d.ModelContributions != nil {
		if contributions, err = json.Marshal(d.ModelContributions); err != nil {
			return fmt.Errorf("store: model contributions: %w", err)
		}
	}
	audit := []byte(r.AuditDetails)
	if len(audit) == 0 {
		audit = []byte("{}")
	}
	var key, hash any
	if r.Key != nil {
		key, hash = r.Key.Key, r.Key.RequestHash
	}
	values := []namedValue{
		{"user_id", t.UserID}, {"fingerprint", t.DeviceFingerprint}, {"occurred_at", t.OccurredAt},
		{"amount", t.Amount.String()}, {"currency", t.Currency}, {"merchant_id", t.MerchantID},
		{"merchant_category", t.MerchantCategory}, {"channel", t.Channel}, {"ip_address", t.IPAddress},
		{"latitude", t.Latitude}, {"longitude", t.Longitude}, {"country", t.Country}, {"city", t.City},
		{"status", t.Status}, {"submitted_by", t.SubmittedBy}, {"source_id", t.SourceID},
		{"risk_score", d.RiskScore}, {"risk_level", d.RiskLevel}, {"decision", d.Decision}, {"rule_score", d.RuleScore},
		{"ml_score", d.MLScore}, {"model_version", d.ModelVersion}, {"reason", d.Reason}, {"matched_rules", matched},
		{"features", []byte(d.Features)}, {"latency_us", d.LatencyMicros}, {"shadow_rules", shadow},
		{"model_contributions", contributions}, {"audit_action", r.AuditAction}, {"audit_details", audit},
		{"audit_ip", r.AuditIP}, {"idempotency_key", key}, {"request_hash", hash},
	}
	statement, st := stmtRecord, record
	if ev, a := r.Event, r.Alert; ev != nil {
		statement, st = stmtRecordEv, recordEvent
		values = append(values, namedValue{"event_type", ev.Type}, namedValue{"event_status", ev.Status},
			namedValue{"event_title", ev.Title}, namedValue{"alert_status", a.Status}, namedValue{"alert_message", a.Message},
			namedValue{"timeline_detected", domain.TimelineDetection}, namedValue{"detected_details", []byte(r.DetectedDetails)},
			namedValue{"timeline_raised", domain.TimelineAlert}, namedValue{"raised_details", []byte(r.RaisedDetails)})
	}
	args, err := st.args(values)
	if err != nil {
		return err
	}
	err = s.pgx(func(c *pgx.Conn) error {
		b := &pgx.Batch{}
		if r.Event == nil {
			b.Queue(statement, args...).QueryRow(func(row pgx.Row) error {
				return row.Scan(plannedScan{stmtRecord, []any{&t.ID, &t.CreatedAt, &t.DeviceID, &d.CreatedAt}})
			})
		} else {
			ev, a := r.Event, r.Alert
			b.Queue(statement, args...).QueryRow(func(row pgx.Row) error {
				return row.Scan(plannedScan{stmtRecordEv, []any{&t.ID, &t.CreatedAt, &t.DeviceID, &d.CreatedAt,
					&ev.ID, &ev.Version, &ev.CreatedAt, &ev.UpdatedAt, &a.ID, &a.Status, &a.CreatedAt}})
			})
		}
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
	r.finish()
	return nil
}

// Commit commits the submission's transaction.
func (s *Submission) Commit(ctx context.Context) error {
	if _, err := s.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return mapErr(err)
	}
	s.open = false
	return nil
}

// Close rolls back what was not committed and returns the connection to the
// pool — or, if even the rollback fails, closes it.
func (s *Submission) Close() {
	if s.open {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := s.conn.ExecContext(ctx, "ROLLBACK"); err != nil {
			s.conn.Raw(func(any) error { return driver.ErrBadConn }) //nolint:errcheck // the error is the point
		}
		s.open = false
	}
	s.conn.Close() //nolint:errcheck // a discarded connection has nothing left to report
}

// pgx runs fn on the pinned connection's pgx connection.
func (s *Submission) pgx(fn func(c *pgx.Conn) error) error { return rawPgx(s.conn, fn) }

// withPgx runs fn on a pooled connection's pgx connection, for statements
// that pgx should prepare and cache per connection.
func withPgx(ctx context.Context, db *bun.DB, fn func(c *pgx.Conn) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return rawPgx(conn, fn)
}

func rawPgx(conn bun.Conn, fn func(c *pgx.Conn) error) error {
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: want the pgx driver, got %T", dc)
		}
		return fn(sc.Conn())
	})
}

// usesKey counts, in the connection's custom data, submissions since the statements were prepared.
const usesKey = "riskgraph_submit_uses"

// prepare makes sure the hot statements are prepared on c (a map look-up
// each once they are), and prepares them again every replanEvery uses.
func prepare(ctx context.Context, c *pgx.Conn) error {
	data := c.PgConn().CustomData()
	uses, _ := data[usesKey].(int)
	if uses >= replanEvery {
		for _, st := range statements {
			if err := c.Deallocate(ctx, st.name); err != nil {
				return fmt.Errorf("store: deallocate %s: %w", st.name, err)
			}
		}
		uses = 0
	}
	data[usesKey] = uses + 1
	for _, st := range statements {
		if _, err := c.Prepare(ctx, st.name, st.sql); err != nil {
			return fmt.Errorf("store: prepare %s: %w", st.name, err)
		}
	}
	return nil
}

// recordCTE writes the device sighting, the transaction (with its device's
// first sighting and its user's creation, for the merchant features), its
// detection, the user's last location, the audit entry and the idempotency
// key; t is the transaction. Every CTE runs even when nothing reads it.
const recordCTE = `
WITH dev AS (
	INSERT INTO devices AS d (fingerprint, status, first_seen_at, last_seen_at)
	SELECT @fingerprint::text, 'NORMAL', @occurred_at::timestamptz, @occurred_at::timestamptz WHERE @fingerprint::text IS NOT NULL
	ON CONFLICT (fingerprint) DO UPDATE SET
		first_seen_at = LEAST(d.first_seen_at, EXCLUDED.first_seen_at),
		last_seen_at = GREATEST(d.last_seen_at, EXCLUDED.last_seen_at)
	RETURNING d.id, d.first_seen_at
), link AS (
	INSERT INTO user_devices AS ud (user_id, device_id, first_seen_at, last_seen_at)
	SELECT @user_id::bigint, dev.id, @occurred_at, @occurred_at FROM dev
	ON CONFLICT (user_id, device_id) DO UPDATE SET
		first_seen_at = LEAST(ud.first_seen_at, EXCLUDED.first_seen_at),
		last_seen_at = GREATEST(ud.last_seen_at, EXCLUDED.last_seen_at)
), t AS (
	INSERT INTO transactions (user_id, amount, currency, merchant_id, merchant_category, channel, device_id,
		device_fingerprint, ip_address, latitude, longitude, country, city, status, submitted_by, source_id, occurred_at,
		device_first_seen_at, user_created_at)
	SELECT @user_id, @amount::numeric, @currency::text, @merchant_id::text, @merchant_category::text, @channel::text, (SELECT id FROM dev),
		@fingerprint, @ip_address::text, @latitude::float8, @longitude::float8, @country::text, @city::text, @status::text, @submitted_by::bigint, @source_id::bigint, @occurred_at,
		(SELECT first_seen_at FROM dev), (SELECT created_at FROM users WHERE id = @user_id)
	RETURNING id, created_at, device_id
), det AS (
	INSERT INTO detections (transaction_id, user_id, risk_score, risk_level, decision, rule_score, ml_score,
		model_version, model_contributions, reason, matched_rules, shadow_rules, features, latency_us)
	SELECT t.id, @user_id, @risk_score::numeric, @risk_level::text, @decision::text, @rule_score::int, @ml_score::numeric, @model_version::text, @model_contributions::jsonb, @reason::text,
		@matched_rules::jsonb, @shadow_rules::jsonb, @features::jsonb, @latency_us::int
	FROM t
	RETURNING created_at
), loc AS (
	-- The last known location only moves forward in time.
	UPDATE users SET
		last_latitude = CASE WHEN last_location_at IS NULL OR last_location_at <= @occurred_at THEN @latitude ELSE last_latitude END,
		last_longitude = CASE WHEN last_location_at IS NULL OR last_location_at <= @occurred_at THEN @longitude ELSE last_longitude END,
		last_country = CASE WHEN last_location_at IS NULL OR last_location_at <= @occurred_at THEN @country ELSE last_country END,
		last_city = CASE WHEN last_location_at IS NULL OR last_location_at <= @occurred_at THEN @city ELSE last_city END,
		last_location_at = GREATEST(last_location_at, @occurred_at)
	WHERE id = @user_id AND @latitude IS NOT NULL AND @longitude IS NOT NULL
), audit AS (
	INSERT INTO audit_logs (actor_id, action, target_type, target_id, details, ip_address)
	SELECT @submitted_by, @audit_action::text, 'transaction', t.id::text, @audit_details::jsonb, @audit_ip::text FROM t
), idem AS (
	INSERT INTO idempotency_keys (caller_id, key, request_hash, user_id, transaction_id)
	SELECT @submitted_by, @idempotency_key::text, @request_hash::bytea, @user_id, t.id FROM t WHERE @idempotency_key::text IS NOT NULL
)`

const recordSQL = recordCTE + `
SELECT t.id, t.created_at, t.device_id, det.created_at FROM t, det`

// recordEventSQL also opens the risk event, raises its alert and starts its
// timeline with the detection and the alert, in that order.
const recordEventSQL = recordCTE + `, ev AS (
	INSERT INTO risk_events (user_id, transaction_id, type, level, status, risk_score, title, description)
	SELECT @user_id, t.id, @event_type::text, @risk_level, @event_status::text, @risk_score, @event_title::text, @reason FROM t
	RETURNING id, version, created_at, updated_at
), al AS (
	INSERT INTO alerts (event_id, user_id, transaction_id, level, status, title, message)
	SELECT ev.id, @user_id, t.id, @risk_level, @alert_status::text, @event_title, @alert_message::text FROM ev, t
	RETURNING id, status, created_at
), tl AS (
	INSERT INTO event_timeline (event_id, kind, action, to_status, note, details)
	SELECT ev.id, @timeline_detected::text, 'DETECTED', @event_status, @reason, @detected_details::jsonb || jsonb_build_object('transactionId', t.id) FROM ev, t
	UNION ALL
	SELECT ev.id, @timeline_raised::text, 'ALERT_RAISED', @alert_status, @event_title, @raised_details::jsonb || jsonb_build_object('alertId', al.id) FROM ev, al
)
SELECT t.id, t.created_at, t.device_id, det.created_at, ev.id, ev.version, ev.created_at, ev.updated_at, al.id, al.status, al.created_at
FROM t, det, ev, al`
