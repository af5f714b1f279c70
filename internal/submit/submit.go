// Package submit is the hot path: validate, de-duplicate, load features, score
// and record a transaction with its detection, risk event and alert in one
// database transaction, serialized per user.
package submit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/access"
	"github.com/smartfinance/riskgraph/internal/anomaly"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/fraudmodel"
	"github.com/smartfinance/riskgraph/internal/store"
)

// Rules supplies the compiled rule set and takes hit statistics.
type Rules interface {
	Current() *engine.RuleSet
	RecordHits(matches []engine.Match, at time.Time)
}

// Lists supplies the block and allow lists rules read with inList.
type Lists interface {
	Current() *engine.ListSet
}

// Models supplies the active fraud model, nil when none is active.
type Models interface {
	Current() *fraudmodel.Scorer
}

// AnomalyModels supplies the active anomaly model, nil when none is active.
type AnomalyModels interface {
	Current() *anomaly.Scorer
}

// AlertNotifier queues alerts for delivery at commit, in the order given.
type AlertNotifier func(ctx context.Context, tx bun.IDB, alerts []*domain.Alert) error

// Observer is told about every committed detection (metrics).
type Observer interface {
	Scored(d *domain.Detection, engine, total time.Duration)
}

// StageObserver is told, for every committed submission, how long its feature
// read and its scoring took; an Observer may implement it. In a group commit
// the feature read is one statement for every member: each is
// charged an equal share of its wall time.
type StageObserver interface {
	Staged(featureRead, scoring time.Duration)
}

// Service runs submissions.
type Service struct {
	db       *bun.DB
	rules    Rules
	lists    Lists
	models   Models
	anomaly  AnomalyModels
	cfg      engine.Config
	notify   AlertNotifier
	observer Observer
	now      func() time.Time
	log      *slog.Logger
	// batch forms group commits; nil writes every submission alone.
	batch   *batcher
	maxBulk int
}

// Options wires a Service; Model and Observer may be nil.
type Options struct {
	DB    *bun.DB
	Rules Rules
	// Lists supplies the lists inList reads; nil means none.
	Lists Lists
	// Models supplies the active fraud model; nil or no active model scores with rules only.
	Models   Models
	Anomaly  AnomalyModels // the active anomaly model; nil or none active leaves anomalyScore 0
	Config   engine.Config
	Notify   AlertNotifier
	Observer Observer
	Now      func() time.Time
	Log      *slog.Logger
	// Group sizes group commits; a MaxSize of 1 or less (the zero value) writes every submission alone.
	Group GroupConfig
	// MaxBulk caps SubmitMany's inputs; 0 sets no cap.
	MaxBulk int
}

// New returns a submit service.
func New(o Options) *Service {
	s := &Service{db: o.DB, rules: o.Rules, lists: o.Lists, models: o.Models, anomaly: o.Anomaly, cfg: o.Config, notify: o.Notify,
		observer: o.Observer, now: o.Now, log: o.Log, maxBulk: o.MaxBulk}
	if g := o.Group; g.MaxSize > 1 {
		g.MaxInFlight = max(g.MaxInFlight, 1)
		s.batch = newBatcher(g, s.runGroup)
	}
	return s
}

// Result is everything a submission produced.
type Result struct {
	Transaction *domain.Transaction
	Detection   *domain.Detection
	RiskEvent   *domain.RiskEvent
	Alert       *domain.Alert
}

// Submit scores and records one transaction for the caller. Under load it
// is written in a group commit with other users' submissions (see batcher).
func (s *Service) Submit(ctx context.Context, p auth.Principal, in Input) (*Result, error) {
	m, err := s.member(ctx, p, in)
	if err != nil {
		return nil, err
	}
	if s.batch == nil {
		return s.submitAlone(m)
	}
	s.batch.add(m)
	o := <-m.done
	return o.res, o.err
}

// member validates a submission and makes it ready to run.
func (s *Service) member(ctx context.Context, p auth.Principal, in Input) (*member, error) {
	start := time.Now()
	userID, err := access.SubmitFor(p, in.UserID)
	if err != nil {
		return nil, err
	}
	if err := in.normalize(s.now()); err != nil {
		return nil, err
	}
	return &member{ctx: ctx, p: p, in: in, userID: userID, reqHash: in.hash(userID), start: start, done: make(chan outcome, 1)}, nil
}

// member is one submission on its way through the service.
type member struct {
	ctx     context.Context
	p       auth.Principal
	in      Input
	userID  int64
	reqHash []byte
	start   time.Time
	// queued is when it joined the batcher's queue.
	queued time.Time
	done   chan outcome
	// answered is set once done has its outcome (by the group's goroutine only).
	answered bool
}

type outcome struct {
	res *Result
	err error
}

// key is the member's idempotency key, if it has one.
func (m *member) key() (store.KeyRef, bool) {
	if m.in.IdempotencyKey == nil {
		return store.KeyRef{}, false
	}
	return store.KeyRef{CallerID: m.p.UserID, Key: *m.in.IdempotencyKey}, true
}

// submitAlone runs one submission in its own database transaction.
func (s *Service) submitAlone(m *member) (*Result, error) {
	ctx, in := m.ctx, &m.in
	// One round trip: BEGIN, the user's row lock, the caller's key if any.
	sub, subject, prior, err := store.BeginSubmission(ctx, s.db, m.userID, m.p.UserID, in.IdempotencyKey, in.SourceID)
	if err != nil {
		return nil, err
	}
	defer sub.Close()
	replay, err := admit(m, subject, prior, sub.SourceStatus, true)
	if err != nil {
		return nil, err
	}
	if replay != 0 {
		return load(ctx, sub.DB(), replay)
	}
	// Stamped under the user's lock, so concurrent live submissions order and count each other exactly once.
	at := s.occurredAt(in)
	q := s.featureQuery(subject, in, at)
	readStart := time.Now()
	row, err := sub.Features(ctx, q)
	if err != nil {
		return nil, err
	}
	read := time.Since(readStart)
	sc, err := s.score(m, subject, q, row)
	if err != nil {
		return nil, err
	}
	sc.read = read
	if err := s.record(ctx, sub, sc.rec); err != nil {
		if in.SourceID != nil && apperr.CodeOf(err) == apperr.BadInput {
			return nil, unknownSource()
		}
		return nil, err
	}
	return s.scored(m, sc), nil
}

// admit makes the checks a submission passes under its user's lock: it
// returns the transaction to replay for a key already used, or the
// submission's error. sourceKnown is whether a named data source exists.
func admit(m *member, subject *store.Subject, prior *store.IdempotencyKey, source domain.DataSourceStatus, sourceKnown bool) (int64, error) {
	// Payments are customers': staff and service accounts are no one's
	// payment subject, so a case can never be opened (and acted on) against them.
	if !access.CaseTarget(subject.Role) {
		return 0, apperr.ErrNotFound
	}
	if prior != nil {
		if !bytes.Equal(prior.RequestHash, m.reqHash) {
			return 0, apperr.New(apperr.Conflict, "idempotencyKey was already used for a different transaction")
		}
		return prior.TransactionID, nil
	}
	if source == domain.SourcePaused {
		// Refused, not flagged: a paused feed's payments are not scored until
		// an admin resumes it; the client can retry then.
		return 0, apperr.Invalid("sourceId", "this data source is paused: its transactions are refused until it is resumed")
	}
	if subject.Status != domain.UserActive {
		return 0, apperr.New(apperr.Forbidden, fmt.Sprintf("user account is %s: transactions are rejected", strings.ToLower(string(subject.Status))))
	}
	if !sourceKnown {
		return 0, unknownSource()
	}
	return 0, nil
}

func unknownSource() error { return apperr.Invalid("sourceId", "is not a known data source") }

// occurredAt is the submission's event time: as given, or now.
func (s *Service) occurredAt(in *Input) time.Time {
	if in.OccurredAt != nil {
		return *in.OccurredAt
	}
	return s.now().UTC()
}

func (s *Service) featureQuery(subject *store.Subject, in *Input, at time.Time) store.FeatureQuery {
	q := store.FeatureQuery{UserID: subject.ID, At: at, Fingerprint: deref(in.DeviceID), Merchant: deref(in.MerchantID), SmallAmount: s.cfg.SmallAmount}
	if in.Location != nil {
		q.Country = deref(in.Location.Country)
	}
	amount, _ := in.Amount.Float64()
	s.entityQuery(&q, in, amount)
	return q
}

// scoring is a scored submission, ready to write.
type scoring struct {
	rec     *store.Record
	result  engine.Result
	latency time.Duration
	// read is the submission's feature read; took is score's own time.
	read, took time.Duration
}

// score completes the feature vector of the read q, scores it and builds what it writes.
func (s *Service) score(m *member, subject *store.Subject, q store.FeatureQuery, row *store.FeatureRow) (*scoring, error) {
	start := time.Now()
	at := q.At
	f := s.features(subject, &m.in, q, row)
	if s.anomaly != nil {
		// Before scoring: rules and the fraud model read it.
		f.AnomalyScore = s.anomaly.Current().Score(f)
	}
	var active *fraudmodel.Scorer
	if s.models != nil {
		active = s.models.Current() // one snapshot, so the score and its explanation agree
	}
	engineStart := time.Now()
	result, scoreErr := engine.Score(m.ctx, s.rules.Current(), f, active.Engine(), s.cfg)
	latency := time.Since(engineStart)
	if scoreErr != nil {
		// A failing model must not block payments: the rules-only result stands.
		s.log.WarnContext(m.ctx, "model score failed; using rules only", "err", scoreErr)
	}
	rec, err := s.build(m, subject, at, f, result, active, latency)
	if err != nil {
		return nil, err
	}
	return &scoring{rec: rec, result: result, latency: latency, took: time.Since(start)}, nil
}

// scored reports a committed submission and returns its result.
func (s *Service) scored(m *member, sc *scoring) *Result {
	rec := sc.rec
	if hits := append(sc.result.Matched, sc.result.Shadow...); len(hits) > 0 {
		s.rules.RecordHits(hits, rec.Detection.CreatedAt)
	}
	if s.observer != nil {
		s.observer.Scored(rec.Detection, sc.latency, time.Since(m.start))
		if o, ok := s.observer.(StageObserver); ok {
			o.Staged(sc.read, sc.took)
		}
	}
	return &Result{Transaction: rec.Transaction, Detection: rec.Detection, RiskEvent: rec.Event, Alert: rec.Alert}
}

// features completes the vector from the stored features.
func (s *Service) features(subject *store.Subject, in *Input, q store.FeatureQuery, row *store.FeatureRow) *engine.Features {
	at, amount := q.At, q.Amount
	f := &engine.Features{
		Amount: amount, Currency: in.Currency, Merchant: q.Merchant,
		MerchantCategory: deref(in.MerchantCategory), Channel: deref(in.Channel), IPAddress: deref(in.IPAddress),
	}
	if s.lists != nil {
		f.Lists = s.lists.Current()
	}
	// The windows count what is stored; this transaction is included by definition.
	f.User = engine.UserFeatures{
		TxCount10m: row.TxCount10m + 1, TxCount1h: row.TxCount1h + 1, TxCount24h: row.TxCount24h + 1, TxCount7d: row.TxCount7d + 1,
		TxCount30d: row.TxCount30d + 1,
		Amount10m:  row.Amount10m + amount, Amount1h: row.Amount1h + amount, Amount24h: row.Amount24h + amount, Amount7d: row.Amount7d + amount,
		AvgAmount30d: row.AvgAmount30d, MaxAmount30d: row.MaxAmount30d,
		SmallTxCount10m: row.SmallCount10m, MerchantCount10m: row.OtherMerchants10m,
		TopMerchants: row.TopMerchants, CreatedAt: subject.CreatedAt, Role: string(subject.Role),
	}
	if amount < s.cfg.SmallAmount {
		f.User.SmallTxCount10m++
	}
	if q.Merchant != "" {
		f.User.MerchantCount10m++
		f.MerchantUsers24h = row.MerchantOthers24h + 1
		f.MerchantFirstSeen = deref(row.MerchantFirst)
	}
	f.User.PrevTxAt = deref(row.PrevTxAt)
	if q.Fingerprint != "" {
		f.Device = engine.DeviceFeatures{ID: q.Fingerprint, New: !row.DeviceSeen, UserCount: row.DeviceUsers + 1, Status: string(domain.DeviceNormal),
			UserCount24h: row.DeviceOthers24h + 1, UserCount7d: row.DeviceOthers7d + 1, UserFirstSeen: deref(row.UserDeviceFirst),
			TxCount24h: row.DeviceTx24h + 1, Amount24h: row.DeviceAmount24h + amount, LastSeen: deref(row.DeviceLastSeen)}
		if row.DeviceStatus != nil {
			f.Device.Status = *row.DeviceStatus
		}
		f.Device.FirstSeen = at
		if row.DeviceFirst != nil && row.DeviceFirst.Before(at) {
			f.Device.FirstSeen = *row.DeviceFirst
		}
	}
	// The previous location is kept even without a current one: it gives
	// the local time zone of a payment that has no place.
	if row.PrevLat != nil && row.PrevLon != nil && row.PrevAt != nil {
		f.Geo.HasPrevious, f.Geo.PrevLatitude, f.Geo.PrevLongitude, f.Geo.PrevAt = true, *row.PrevLat, *row.PrevLon, *row.PrevAt
		f.Geo.PrevCountry = deref(row.PrevCountry)
	}
	if loc := in.Location; loc != nil {
		f.Geo.Present, f.Geo.Latitude, f.Geo.Longitude, f.Geo.Country, f.Geo.City = true, loc.Latitude, loc.Longitude, q.Country, deref(loc.City)
		f.Geo.NewCountry = q.Country != "" && row.Located30d > 0 && !row.CountrySeen30d
	}
	entityFeatures(f, row)
	f.Derive(at)
	return f
}

var statusFor = map[engine.Decision]domain.TransactionStatus{
	engine.DecisionPass:   domain.TxApproved,
	engine.DecisionReview: domain.TxPendingReview,
	engine.DecisionReject: domain.TxDeclined,
}

// build makes what a scored submission writes: the transaction, its
// detection and, for MEDIUM/HIGH, the risk event, its timeline and alert.
func (s *Service) build(m *member, subject *store.Subject, at time.Time, f *engine.Features, r engine.Result,
	active *fraudmodel.Scorer, latency time.Duration,
) (*store.Record, error) {
	in, p := &m.in, m.p
	t := &domain.Transaction{
		UserID: subject.ID, Amount: in.Amount, Currency: in.Currency, MerchantID: in.MerchantID,
		MerchantCategory: in.MerchantCategory, Channel: in.Channel, DeviceFingerprint: in.DeviceID,
		IPAddress: in.IPAddress, Status: statusFor[r.Decision], SubmittedBy: p.UserID, OccurredAt: at, SourceID: in.SourceID,
	}
	if loc := in.Location; loc != nil {
		t.Latitude, t.Longitude, t.Country, t.City = &loc.Latitude, &loc.Longitude, loc.Country, loc.City
	}
	snapshot, err := f.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("submit: %w", err)
	}
	d := &domain.Detection{
		UserID: subject.ID, RiskScore: r.RiskScore, RiskLevel: domain.RiskLevel(r.Level),
		Decision: domain.Decision(r.Decision), RuleScore: r.RuleScore, MLScore: r.MLScore, Reason: r.Reason,
		MatchedRules: matchedRules(r.Matched), ShadowRules: matchedRules(r.Shadow), Features: snapshot,
		LatencyMicros: int(latency.Microseconds()),
	}
	if r.MLScore != nil && active != nil {
		version, contributions := active.Explain(f)
		d.ModelVersion, d.ModelContributions = &version, contributions
	}
	details, err := json.Marshal(auditDetails{Decision: d.Decision, RiskScore: d.RiskScore, RiskLevel: d.RiskLevel, UserID: subject.ID})
	if err != nil {
		return nil, err
	}
	rec := &store.Record{Transaction: t, Detection: d, AuditAction: "transaction.scored", AuditDetails: details, AuditIP: auth.ClientIP(m.ctx)}
	if in.IdempotencyKey != nil {
		rec.Key = &store.IdempotencyKey{CallerID: p.UserID, Key: *in.IdempotencyKey, RequestHash: m.reqHash, UserID: subject.ID}
	}
	if d.RiskLevel.Rank() >= domain.RiskMedium.Rank() {
		if err := openEvent(rec, subject); err != nil {
			return nil, err
		}
	}
	return rec, nil
}

// record writes rec and commits — in one round trip unless an alert must be
// queued for delivery at commit.
func (s *Service) record(ctx context.Context, sub *store.Submission, rec *store.Record) error {
	// An alert's notification is queued inside the transaction (PostgreSQL
	// delivers it at COMMIT) once the write has given the alert its ID, so
	// then COMMIT can't ride along with the write.
	commit := rec.Alert == nil || s.notify == nil
	if err := sub.Record(ctx, rec, commit); err != nil {
		return err
	}
	if commit {
		return nil
	}
	if err := s.notify(ctx, sub.DB(), []*domain.Alert{rec.Alert}); err != nil {
		return err
	}
	return sub.Commit(ctx)
}

// auditDetails is what the audit log keeps of a scored transaction.
type auditDetails struct {
	Decision  domain.Decision  `json:"decision"`
	RiskScore float64          `json:"riskScore"`
	RiskLevel domain.RiskLevel `json:"riskLevel"`
	UserID    int64            `json:"userId"`
}

func matchedRules(ms []engine.Match) []domain.MatchedRule {
	out := make([]domain.MatchedRule, len(ms))
	for i, m := range ms {
		out[i] = domain.MatchedRule{RuleID: m.RuleID, Name: m.Name, Version: m.Version, Score: m.Score,
			Type: m.Type, Action: domain.RuleAction(m.Action), Reason: m.Reason}
	}
	return out
}

// openEvent adds to rec the risk event, with its first timeline entries, and its alert.
func openEvent(rec *store.Record, subject *store.Subject) error {
	t, d := rec.Transaction, rec.Detection
	eventType := "RISK"
	names := make([]string, len(d.MatchedRules))
	for i, m := range d.MatchedRules {
		names[i] = m.Name
	}
	if len(d.MatchedRules) > 0 {
		eventType = d.MatchedRules[0].Type
	}
	title := fmt.Sprintf("%s risk: %s", d.RiskLevel, strings.Join(names, ", "))
	if len(names) == 0 {
		title = fmt.Sprintf("%s risk score %.2f", d.RiskLevel, d.RiskScore)
	}
	rec.Event = &domain.RiskEvent{Type: eventType, Status: domain.EventOpen, Title: title}
	rec.Alert = &domain.Alert{Status: domain.AlertNew,
		Message: fmt.Sprintf("%s %s %s by %s: %s", d.Decision, t.Amount.StringFixed(2), t.Currency, subject.Username, d.Reason)}
	var err error
	// The store adds the transaction's and the alert's IDs.
	if rec.DetectedDetails, err = json.Marshal(map[string]any{"riskScore": d.RiskScore, "decision": d.Decision, "matchedRules": names}); err != nil {
		return err
	}
	rec.RaisedDetails, err = json.Marshal(map[string]any{"level": d.RiskLevel})
	return err
}

// load rebuilds a stored submission's result (idempotent replay).
func load(ctx context.Context, db bun.IDB, txID int64) (*Result, error) {
	t, err := store.TransactionByID(ctx, db, txID)
	if err != nil {
		return nil, err
	}
	ds, err := store.DetectionsByTransactionIDs(ctx, db, []int64{txID})
	if err != nil || len(ds) == 0 {
		return nil, errors.Join(err, apperr.ErrNotFound)
	}
	res := &Result{Transaction: t, Detection: ds[0]}
	evs, err := store.RiskEventsByTransactionIDs(ctx, db, []int64{txID})
	if err != nil {
		return nil, err
	}
	if len(evs) > 0 {
		res.RiskEvent = evs[0]
		alerts, err := store.AlertsByEventIDs(ctx, db, []int64{evs[0].ID})
		if err != nil {
			return nil, err
		}
		if as := alerts[evs[0].ID]; len(as) > 0 {
			res.Alert = as[0]
		}
	}
	return res, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
