package fraudmodel

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/page"
	"github.com/smartfinance/riskgraph/internal/pgtest"
	"github.com/smartfinance/riskgraph/internal/pubsub"
	"github.com/smartfinance/riskgraph/internal/store"
)

// periodStart is where fixture transactions begin; training reads [periodStart, periodEnd).
var (
	periodStart = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	periodEnd   = periodStart.Add(30 * 24 * time.Hour)
)

// fixture inserts labelled transactions with raw SQL, so the tests do not
// depend on the submit pipeline.
type fixture struct {
	t    *testing.T
	db   *bun.DB
	user int64
	rng  *rand.Rand
	n    int
	// features of every labelled transaction, by label.
	fraud, legit []*engine.Features
}

func newFixture(t *testing.T, db *bun.DB) *fixture {
	t.Helper()
	fx := &fixture{t: t, db: db, rng: rand.New(rand.NewPCG(42, 42))}
	fx.scan(&fx.user, `INSERT INTO users (username, password_hash) VALUES ('payer', 'x') RETURNING id`)
	return fx
}

func (fx *fixture) scan(dst any, query string, args ...any) {
	fx.t.Helper()
	if err := fx.db.NewRaw(query, args...).Scan(context.Background(), dst); err != nil {
		fx.t.Fatalf("seed %q: %v", query, err)
	}
}

// add stores a transaction occurring at, its detection with f's snapshot,
// and, unless label is empty, its label.
func (fx *fixture) add(at time.Time, f *engine.Features, label domain.Label) {
	fx.t.Helper()
	snapshot, err := f.Snapshot()
	if err != nil {
		fx.t.Fatal(err)
	}
	var id int64
	fx.scan(&id, `INSERT INTO transactions (user_id, amount, currency, status, submitted_by, occurred_at)
		VALUES (?, round(?::numeric, 2), 'CNY', 'APPROVED', ?, ?) RETURNING id`, fx.user, f.Amount, fx.user, at)
	var one int
	fx.scan(&one, `INSERT INTO detections (transaction_id, user_id, risk_score, risk_level, decision, rule_score,
		reason, features, latency_us) VALUES (?, ?, 0, 'LOW', 'PASS', 0, '', ?, 1) RETURNING 1`, id, fx.user, string(snapshot))
	if label != "" {
		fx.scan(&one, `INSERT INTO transaction_labels (user_id, transaction_id, label, source)
			VALUES (?, ?, ?, 'test') RETURNING 1`, fx.user, id, label)
	}
}

// next is the time of the next fixture transaction inside the period.
func (fx *fixture) next() time.Time {
	fx.n++
	return periodStart.Add(time.Duration(fx.n) * time.Hour)
}

// addFraud stores a fraud of the separable kind: a large amount at night
// from a new device on a young account, at an unfamiliar merchant.
func (fx *fixture) addFraud() {
	r := fx.rng
	f := &engine.Features{Amount: 5000 + 4900*r.Float64(), Hour: 1 + r.IntN(4), Merchant: "m-x"}
	n := 1 + r.IntN(3)
	f.User = engine.UserFeatures{TxCount10m: n, TxCount1h: n, TxCount24h: n, Amount24h: float64(n) * f.Amount,
		AvgAmount24h: f.Amount, AccountAgeDays: 1 + 29*r.Float64(), Role: "USER"}
	f.Device = engine.DeviceFeatures{ID: "fp-new-" + strconv.Itoa(fx.n), Present: true, New: true, UserCount: 1 + r.IntN(3), Status: "NORMAL"}
	fx.fraud = append(fx.fraud, f)
	fx.add(fx.next(), f, domain.LabelFraud)
}

// addLegit stores an ordinary purchase: small, daytime, known device and merchant.
func (fx *fixture) addLegit() {
	r := fx.rng
	f := &engine.Features{Amount: 10 + 290*r.Float64(), Hour: 9 + r.IntN(12), Merchant: "m-home"}
	n := 1 + r.IntN(4)
	f.User = engine.UserFeatures{TxCount10m: 1, TxCount1h: 1, TxCount24h: n, Amount24h: float64(n) * f.Amount,
		AvgAmount24h: f.Amount, TopMerchants: []string{"m-home"}, KnownMerchant: true, AccountAgeDays: 200 + 1800*r.Float64(), Role: "USER"}
	f.Device = engine.DeviceFeatures{ID: "fp-home", Present: true, UserCount: 1, Status: "NORMAL", AgeDays: 100 + 400*r.Float64()}
	fx.legit = append(fx.legit, f)
	fx.add(fx.next(), f, domain.LabelLegitimate)
}

// separable stores 50 frauds and 100 legitimate transactions, interleaved.
func separable(t *testing.T, db *bun.DB) *fixture {
	t.Helper()
	fx := newFixture(t, db)
	for range 50 {
		fx.addFraud()
		fx.addLegit()
		fx.addLegit()
	}
	return fx
}

func train(t *testing.T, db *bun.DB, seed uint64) *domain.Model {
	t.Helper()
	m, err := Train(t.Context(), db, TrainOptions{From: periodStart, To: periodEnd, Seed: seed}, time.Now())
	if err != nil {
		t.Fatalf("Train: %v", err)
	}
	return m
}

func TestTrainSeparable(t *testing.T) {
	db, _ := pgtest.New(t)
	fx := separable(t, db)
	// Unlabelled and out-of-period transactions are not training data.
	fx.add(fx.next(), fx.legit[0], "")
	fx.add(periodEnd, fx.fraud[0], domain.LabelLegitimate)

	admin := fx.user
	m, err := Train(t.Context(), db, TrainOptions{From: periodStart, To: periodEnd, Seed: 7, TrainedBy: &admin}, time.Now())
	if err != nil {
		t.Fatalf("Train: %v", err)
	}
	got := m.Metrics
	if m.Version != 1 || m.Active || m.Algorithm != domain.ModelLogisticRegression {
		t.Errorf("got version %d, active %v, algorithm %s; want 1, inactive, %s", m.Version, m.Active, m.Algorithm, domain.ModelLogisticRegression)
	}
	if want := (domain.ModelSplit{Rows: 120, Fraud: 40, Legitimate: 80}); got.Train != want {
		t.Errorf("train split: got %+v; want %+v", got.Train, want)
	}
	if want := (domain.ModelSplit{Rows: 30, Fraud: 10, Legitimate: 20}); got.HeldOut != want {
		t.Errorf("held-out split: got %+v; want %+v", got.HeldOut, want)
	}
	if got.AUC != 1 {
		t.Errorf("AUC: got %v; want exactly 1", got.AUC)
	}
	if got.Precision == nil || *got.Precision != 1 || got.Recall != 1 {
		t.Errorf("precision %v, recall %v; want 1 and 1", got.Precision, got.Recall)
	}
	if got.TruePositives != 10 || got.FalsePositives != 0 || got.TrueNegatives != 20 || got.FalseNegatives != 0 {
		t.Errorf("confusion: got TP %d FP %d TN %d FN %d; want 10 0 20 0", got.TruePositives, got.FalsePositives, got.TrueNegatives, got.FalseNegatives)
	}
	if got.Seed != 7 || got.L2 != DefaultL2 || got.Threshold != Threshold || got.Truncated || !got.From.Equal(periodStart) || !got.To.Equal(periodEnd) {
		t.Errorf("training record: got %+v", got)
	}

	// The stored model is the returned one, and it ranks every fraud, held
	// out or not, above every legitimate transaction.
	stored, err := store.ModelByID(t.Context(), db, m.ID)
	if err != nil {
		t.Fatalf("ModelByID: %v", err)
	}
	if !slices.Equal(stored.Coefficients, m.Coefficients) || stored.Intercept != m.Intercept ||
		!slices.Equal(stored.Means, m.Means) || !slices.Equal(stored.Stds, m.Stds) || !slices.Equal(stored.FeatureNames, m.FeatureNames) ||
		stored.Metrics.AUC != 1 || stored.TrainedBy == nil || *stored.TrainedBy != admin {
		t.Errorf("stored model differs from the trained one:\n got %+v\nwant %+v", stored, m)
	}
	s, err := Load(stored)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	lowestFraud, highestLegit := 1.0, 0.0
	for _, f := range fx.fraud {
		lowestFraud = min(lowestFraud, s.Probability(f))
	}
	for _, f := range fx.legit {
		highestLegit = max(highestLegit, s.Probability(f))
	}
	if !(lowestFraud > highestLegit) {
		t.Errorf("lowest fraud probability %v is not above highest legitimate %v", lowestFraud, highestLegit)
	}

	// The fraud signals push towards fraud.
	_, top := s.Explain(fx.fraud[0])
	if len(top) != MaxContributions || top[0].Contribution <= 0 {
		t.Errorf("fraud explanation: got %+v; want %d contributions led by a positive one", top, MaxContributions)
	}

	var audited int
	fx.scan(&audited, `SELECT count(*) FROM audit_logs WHERE action = 'model.trained' AND target_id = ? AND actor_id = ?`,
		strconv.FormatInt(m.ID, 10), admin)
	if audited != 1 {
		t.Errorf("model.trained audit entries: got %d; want 1", audited)
	}
}

func TestTrainDeterministic(t *testing.T) {
	db, _ := pgtest.New(t)
	separable(t, db)
	a, b, other := train(t, db, 11), train(t, db, 11), train(t, db, 12)
	if a.Version != 1 || b.Version != 2 || other.Version != 3 {
		t.Errorf("versions: got %d, %d, %d; want 1, 2, 3", a.Version, b.Version, other.Version)
	}
	if !slices.Equal(a.Coefficients, b.Coefficients) || a.Intercept != b.Intercept ||
		!slices.Equal(a.Means, b.Means) || !slices.Equal(a.Stds, b.Stds) || a.Metrics.AUC != b.Metrics.AUC {
		t.Errorf("same seed, different models:\n%+v\n%+v", a, b)
	}
	// Another seed holds out other transactions, so it fits other data.
	if slices.Equal(a.Means, other.Means) {
		t.Errorf("seeds 11 and 12 gave the same training means %v", a.Means)
	}

	listed, err := store.ListModels(t.Context(), db, page.Request{Size: 2})
	if err != nil {
		t.Fatalf("ListModels: %v", err)
	}
	var versions []int
	for _, m := range listed.Rows {
		versions = append(versions, m.Version)
	}
	if !slices.Equal(versions, []int{3, 2}) || !listed.HasNextPage || listed.TotalCount != 3 {
		t.Errorf("first page: got versions %v, more %v, total %d; want [3 2], more, 3", versions, listed.HasNextPage, listed.TotalCount)
	}
}

func TestTrainRefuses(t *testing.T) {
	tests := []struct {
		name   string
		seed   func(fx *fixture)
		from   time.Time
		to     time.Time
		l2     float64
		reason string
	}{
		{"too few labels", func(fx *fixture) {
			for range 5 {
				fx.addFraud()
				fx.addLegit()
			}
		}, periodStart, periodEnd, 0, "10 labels"},
		{"one class", func(fx *fixture) {
			for range 30 {
				fx.addLegit()
			}
		}, periodStart, periodEnd, 0, "no fraud"},
		{"too few of a class", func(fx *fixture) {
			for range 4 {
				fx.addFraud()
			}
			for range 30 {
				fx.addLegit()
			}
		}, periodStart, periodEnd, 0, "4 frauds"},
		{"labels outside the period", func(fx *fixture) {
			for range 20 {
				fx.addFraud()
				fx.addLegit()
			}
		}, periodStart.Add(-30 * 24 * time.Hour), periodStart, 0, "none in period"},
		{"empty period", func(*fixture) {}, periodEnd, periodStart, 0, "to before from"},
		{"period too long", func(*fixture) {}, periodStart, periodStart.Add(400 * 24 * time.Hour), 0, "400 days"},
		{"negative l2", func(*fixture) {}, periodStart, periodEnd, -1, "l2 < 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := pgtest.New(t)
			tt.seed(newFixture(t, db))
			m, err := Train(t.Context(), db, TrainOptions{From: tt.from, To: tt.to, L2: tt.l2}, time.Now())
			if code := apperr.CodeOf(err); code != apperr.BadInput {
				t.Fatalf("%s: got model %v, error %v (%s); want %s", tt.reason, m, err, code, apperr.BadInput)
			}
			var stored int
			if err := db.NewSelect().Model((*domain.Model)(nil)).ColumnExpr("count(*)").Scan(t.Context(), &stored); err != nil || stored != 0 {
				t.Errorf("stored models: got %d (%v); want 0", stored, err)
			}
		})
	}
}

func activeIDs(t *testing.T, db *bun.DB) []int64 {
	t.Helper()
	var ids []int64
	if err := db.NewSelect().Model((*domain.Model)(nil)).Column("id").Where("active").Order("id").Scan(t.Context(), &ids); err != nil {
		t.Fatalf("active models: %v", err)
	}
	return ids
}

func reload(t *testing.T, r *Registry) {
	t.Helper()
	if err := r.Reload(t.Context()); err != nil {
		t.Fatalf("Reload: %v", err)
	}
}

func TestActivation(t *testing.T) {
	db, _ := pgtest.New(t)
	fx := separable(t, db)
	a, b := train(t, db, 1), train(t, db, 2)
	reg := NewRegistry(db)
	actor := fx.user

	got, err := Activate(t.Context(), db, a.ID, &actor, time.Now())
	if err != nil {
		t.Fatalf("Activate a: %v", err)
	}
	if !got.Active || got.ActivatedBy == nil || *got.ActivatedBy != actor || got.ActivatedAt == nil {
		t.Errorf("activated model: got active %v, by %v, at %v", got.Active, got.ActivatedBy, got.ActivatedAt)
	}
	reload(t, reg)
	if cur := reg.Current(); !reg.Active() || cur == nil || cur.Model().ID != a.ID {
		t.Fatalf("registry after activating a: active %v, current %v; want model %d", reg.Active(), cur, a.ID)
	}
	score, err := reg.Score(t.Context(), fx.fraud[0])
	if err != nil || score < 50 || score > 100 {
		t.Errorf("registry score of a fraud: got %v, %v; want 50..100", score, err)
	}
	if version, top := reg.Explain(fx.fraud[0]); version != "v1" || len(top) == 0 {
		t.Errorf("registry explanation: got %q, %+v; want v1 with contributions", version, top)
	}

	if _, err := Activate(t.Context(), db, b.ID, &actor, time.Now()); err != nil {
		t.Fatalf("Activate b: %v", err)
	}
	if ids := activeIDs(t, db); !slices.Equal(ids, []int64{b.ID}) {
		t.Errorf("active after activating b: got %v; want [%d]", ids, b.ID)
	}
	// Activating the active model again changes nothing.
	if _, err := Activate(t.Context(), db, b.ID, &actor, time.Now()); err != nil {
		t.Fatalf("Activate b again: %v", err)
	}
	// The database itself refuses a second active model.
	_, err = db.NewUpdate().Model((*domain.Model)(nil)).Set("active = true").Where("id = ?", a.ID).Exec(t.Context())
	if code := apperr.CodeOf(store.Classify(err)); code != apperr.Conflict {
		t.Errorf("second active model: got %v (%s); want %s", err, code, apperr.Conflict)
	}
	// Deactivating an inactive model changes nothing.
	if m, err := Deactivate(t.Context(), db, a.ID, &actor); err != nil || m.Active {
		t.Fatalf("Deactivate inactive a: got %+v, %v", m, err)
	}
	if m, err := Deactivate(t.Context(), db, b.ID, &actor); err != nil || m.Active {
		t.Fatalf("Deactivate b: got %+v, %v", m, err)
	}
	if ids := activeIDs(t, db); len(ids) != 0 {
		t.Errorf("active after deactivating b: got %v; want none", ids)
	}
	reload(t, reg)
	if reg.Active() {
		t.Error("registry still active after deactivation")
	}

	var actions []string
	err = db.NewSelect().Model((*domain.AuditLog)(nil)).Column("action").
		Where("target_type = 'model' AND action <> 'model.trained' AND actor_id = ?", actor).Order("id").Scan(t.Context(), &actions)
	if want := []string{"model.activated", "model.activated", "model.deactivated"}; err != nil || !slices.Equal(actions, want) {
		t.Errorf("audit: got %v, %v; want %v", actions, err, want)
	}

	if _, err := Activate(t.Context(), db, 999999, &actor, time.Now()); !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("activate an unknown model: got %v; want NOT_FOUND", err)
	}
	if _, err := Deactivate(t.Context(), db, 999999, &actor); !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("deactivate an unknown model: got %v; want NOT_FOUND", err)
	}
}

// TestUnloadableModel covers a model that names a feature this build lacks:
// it cannot be activated, and if it is active all the same the registry
// holds no model, so scoring falls back to rules only.
func TestUnloadableModel(t *testing.T) {
	db, _ := pgtest.New(t)
	separable(t, db)
	m := train(t, db, 1)
	if _, err := db.NewUpdate().Model((*domain.Model)(nil)).Set("feature_names[1] = 'retired.feature'").Where("id = ?", m.ID).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := Activate(t.Context(), db, m.ID, nil, time.Now()); apperr.CodeOf(err) != apperr.BadInput {
		t.Errorf("Activate: got %v; want %s", err, apperr.BadInput)
	}
	if ids := activeIDs(t, db); len(ids) != 0 {
		t.Errorf("active: got %v; want none", ids)
	}

	if _, err := db.NewUpdate().Model((*domain.Model)(nil)).Set("active = true").Where("id = ?", m.ID).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	reg := NewRegistry(db)
	if err := reg.Reload(t.Context()); err == nil || reg.Active() {
		t.Errorf("Reload: got error %v, active %v; want an error and no model", err, reg.Active())
	}
}

func TestRegistryWithoutModel(t *testing.T) {
	db, _ := pgtest.New(t)
	reg := NewRegistry(db)
	reload(t, reg)
	if reg.Active() || reg.Current() != nil {
		t.Errorf("got active %v, current %v; want no model", reg.Active(), reg.Current())
	}
	if _, err := reg.Score(t.Context(), handFeatures()); !errors.Is(err, ErrNoActiveModel) {
		t.Errorf("Score: got %v; want ErrNoActiveModel", err)
	}
	if version, top := reg.Explain(handFeatures()); version != "" || top != nil {
		t.Errorf("Explain: got %q, %v; want nothing", version, top)
	}
	if reg.Current().Engine() != nil {
		t.Error("Current().Engine(): got a model; want a nil interface")
	}
}

// TestActivationReachesEveryInstance runs two instances' listeners, each
// reloading its own registry on the models channel as the server wires it.
func TestActivationReachesEveryInstance(t *testing.T) {
	db, dbURL := pgtest.New(t)
	separable(t, db)
	m := train(t, db, 1)

	type instance struct {
		reg      *Registry
		reloaded chan error
	}
	var instances []*instance
	for range 2 {
		in := &instance{reg: NewRegistry(db), reloaded: make(chan error, 16)}
		l := pubsub.NewListener(dbURL, db, pubsub.NewHub(), pubsub.Reloads{Model: func(ctx context.Context) { in.reloaded <- in.reg.Reload(ctx) }},
			slog.New(slog.NewTextHandler(t.Output(), nil)))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- l.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			<-done
		})
		waitReload(t, in.reloaded) // the reload every listener does on connect
		instances = append(instances, in)
	}

	if _, err := Activate(t.Context(), db, m.ID, nil, time.Now()); err != nil {
		t.Fatalf("Activate: %v", err)
	}
	for i, in := range instances {
		waitReload(t, in.reloaded)
		if cur := in.reg.Current(); cur == nil || cur.Model().ID != m.ID {
			t.Errorf("instance %d: current %v; want model %d", i, cur, m.ID)
		}
	}
	if _, err := Deactivate(t.Context(), db, m.ID, nil); err != nil {
		t.Fatalf("Deactivate: %v", err)
	}
	for i, in := range instances {
		waitReload(t, in.reloaded)
		if in.reg.Active() {
			t.Errorf("instance %d still has a model", i)
		}
	}
}

// waitReload waits for one reload, failing the test if it errs. The bound
// only keeps a broken listener from hanging the suite.
func waitReload(t *testing.T, reloaded <-chan error) {
	t.Helper()
	select {
	case err := <-reloaded:
		if err != nil {
			t.Fatalf("Reload: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no reload within 30s")
	}
}
