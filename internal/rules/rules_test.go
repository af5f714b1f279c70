package rules_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/pgtest"
	"github.com/smartfinance/riskgraph/internal/rules"
	"github.com/smartfinance/riskgraph/internal/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var clock = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

type env struct {
	db    *bun.DB
	svc   *rules.Service
	admin auth.Principal
}

func newEnv(t *testing.T, notify func(ctx context.Context, tx bun.IDB, ruleID int64) error) *env {
	t.Helper()
	db, _ := pgtest.New(t)
	u := &domain.User{Username: "root", PasswordHash: "x", Role: domain.RoleAdmin, Status: domain.UserActive}
	if err := store.InsertUser(context.Background(), db, u); err != nil {
		t.Fatalf("insert admin: %v", err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	return &env{
		db:    db,
		svc:   rules.New(db, func() time.Time { return clock }, log, notify),
		admin: auth.Principal{UserID: u.ID, Role: domain.RoleAdmin},
	}
}

func (e *env) create(t *testing.T, name, condition string, score int) *domain.Rule {
	t.Helper()
	r, err := e.svc.Upsert(context.Background(), e.admin, rules.Input{Name: name, Condition: condition, Score: score})
	if err != nil {
		t.Fatalf("create %q: %v", name, err)
	}
	return r
}

func ptr[T any](v T) *T { return &v }

func ruleNames(rs *engine.RuleSet) []string {
	var names []string
	for _, r := range rs.Rules() {
		names = append(names, r.Name)
	}
	return names
}

func versionNumbers(vs []*domain.RuleVersion) []int {
	var out []int
	for _, v := range vs {
		out = append(out, v.Version)
	}
	return out
}

func TestSeedRulePacksOnce(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	packs := []string{"seed", "default"}

	// Three instances starting together, then a restart.
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { errs[i] = e.svc.SeedRulePacks(ctx, packs) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
	}
	if err := e.svc.SeedRulePacks(ctx, packs); err != nil {
		t.Fatalf("second seed: %v", err)
	}

	stored, err := e.svc.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]engine.Rule{}
	for _, p := range engine.RulePacks() {
		for _, r := range p.Since(0) {
			want[r.Name] = r
		}
	}
	if got := len(stored); got != len(want) {
		t.Fatalf("rules after seeding: got %d, want %d", got, len(want))
	}
	ids := make([]int64, len(stored))
	for i, r := range stored {
		ids[i] = r.ID
		b, ok := want[r.Name]
		if !ok || r.Expression != b.Condition || r.Condition != b.Condition || r.Score != b.Score ||
			string(r.Action) != string(cmp.Or(b.Action, engine.ActionScore)) || string(r.Scope) != string(cmp.Or(b.Scope, engine.ScopeTransaction)) ||
			!r.Builtin || !r.Enabled || r.Version != 1 {
			t.Errorf("rule %d: got %+v, want pack rule %+v", i, r, b)
		}
	}
	versions, err := e.svc.Versions(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if got := versionNumbers(versions[id]); !slices.Equal(got, []int{1}) {
			t.Errorf("rule %d versions: got %v, want [1]", id, got)
		}
	}

	if got := len(e.svc.Current().Rules()); got != 0 {
		t.Fatalf("rules before Reload: got %d, want 0", got)
	}
	if err := e.svc.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	// Each scope compiles to its own set: payments never run LOGIN rules.
	if got, gotLogin, wantLogin := len(e.svc.Current().Rules()), len(e.svc.CurrentLogin().Rules()), len(engine.BuiltinLoginRules()); got != len(want)-wantLogin || gotLogin != wantLogin {
		t.Fatalf("compiled rules: got %d TRANSACTION and %d LOGIN, want %d and %d", got, gotLogin, len(want)-wantLogin, wantLogin)
	}

	// A pack rule the operator renamed is theirs: a restart doesn't bring the original back.
	if _, err := e.svc.Upsert(ctx, e.admin, rules.Input{ID: &stored[0].ID, Name: "renamed", Condition: stored[0].Condition, Score: stored[0].Score}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SeedRulePacks(ctx, packs); err != nil {
		t.Fatal(err)
	}
	if all, err := e.svc.Rules(ctx); err != nil || len(all) != len(want) {
		t.Fatalf("rules after a rename and a restart: got %d (%v), want %d", len(all), err, len(want))
	}
}

func TestSeedRulePacksChoosesAndYields(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	// The operator's own rule holds a pack rule's name before the pack is seeded.
	mine := e.create(t, "Card Testing", "user.txCount10m >= 20", 10)
	if err := e.svc.SeedRulePacks(ctx, []string{"default"}); err != nil {
		t.Fatal(err)
	}
	stored, err := e.svc.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(stored), len(engine.DefaultRulePack())+len(engine.GeneralisingRules())+len(engine.BaselineRules()); got != want {
		t.Fatalf("rules: got %d, want %d (the default pack's versions less its card testing rule, plus mine)", got, want)
	}
	for _, r := range stored {
		if strings.EqualFold(r.Name, "card testing") && (r.ID != mine.ID || r.Condition != mine.Condition) {
			t.Errorf("card testing: got %+v; want the operator's rule untouched", r)
		}
		if r.Name == "large amount" {
			t.Errorf("the seed pack was not asked for, got its rule %+v", r)
		}
		for _, b := range engine.BaselineRules() {
			if r.Name == b.Name && (r.Shadow != b.Shadow || string(r.Action) != string(cmp.Or(b.Action, engine.ActionScore)) || r.Score != b.Score) {
				t.Errorf("%s: stored shadow %v, action %s, score %d; want the pack's %v, %s, %d", r.Name, r.Shadow, r.Action, r.Score, b.Shadow, b.Action, b.Score)
			}
		}
	}
	if err := e.svc.SeedRulePacks(ctx, nil); err != nil {
		t.Fatalf("no packs: %v", err)
	}
}

func TestUpsertCreate(t *testing.T) {
	tests := []struct {
		name           string
		condition      string
		wantExpression string
		hit, miss      engine.Features
	}{
		{
			name:           "expression",
			condition:      "  amount >= 5000 && user.txCount10m >= 3 ",
			wantExpression: "amount >= 5000 && user.txCount10m >= 3",
			hit:            engine.Features{Amount: 5000, User: engine.UserFeatures{TxCount10m: 3}},
			miss:           engine.Features{Amount: 5000, User: engine.UserFeatures{TxCount10m: 2}},
		},
		{
			name:           "seed-004 JSON",
			condition:      `{"amount": {"$gt": 10000}}`,
			wantExpression: "amount > 10000",
			hit:            engine.Features{Amount: 10001},
			miss:           engine.Features{Amount: 10000},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			ctx := context.Background()
			r, err := e.svc.Upsert(ctx, e.admin, rules.Input{Name: "rule " + tt.name, Condition: tt.condition, Score: 35})
			if err != nil {
				t.Fatal(err)
			}
			want := strings.TrimSpace(tt.condition)
			if r.Condition != want || r.Expression != tt.wantExpression {
				t.Errorf("condition, expression: got %q, %q; want %q, %q", r.Condition, r.Expression, want, tt.wantExpression)
			}
			if r.ID == 0 || r.Version != 1 || r.Type != "CUSTOM" || r.Action != domain.RuleScoreAction ||
				!r.Enabled || r.Priority != 0 || r.Description != "" || r.Builtin || *r.UpdatedBy != e.admin.UserID {
				t.Errorf("created rule: got %+v", r)
			}
			versions, err := e.svc.Versions(ctx, []int64{r.ID})
			if err != nil {
				t.Fatal(err)
			}
			if vs := versions[r.ID]; len(vs) != 1 || vs[0].Version != 1 || vs[0].Expression != tt.wantExpression {
				t.Errorf("versions: got %+v, want version 1 with the expression", vs)
			}

			rs := e.svc.Current()
			if got := rs.Evaluate(&tt.hit); len(got) != 1 || got[0].RuleID != r.ID || got[0].Score != 35 {
				t.Errorf("evaluate %+v: got %+v, want the new rule", tt.hit, got)
			}
			if got := rs.Evaluate(&tt.miss); len(got) != 0 {
				t.Errorf("evaluate %+v: got %+v, want no match", tt.miss, got)
			}
		})
	}
}

func TestUpsertRejectsBadInput(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.create(t, "Large Amount", "amount >= 10000", 50)
	_, compileErr := engine.CompileCondition("amount >")
	if compileErr == nil {
		t.Fatal("engine compiled a broken condition")
	}

	valid := rules.Input{Name: "ok", Condition: "amount > 1", Score: 10}
	with := func(edit func(*rules.Input)) rules.Input {
		in := valid
		edit(&in)
		return in
	}
	tests := []struct {
		name        string
		in          rules.Input
		wantCode    apperr.Code
		wantField   string
		wantMessage string
	}{
		{"syntax error", with(func(in *rules.Input) { in.Condition = "amount >" }), apperr.BadInput, "condition", compileErr.Error()},
		{"unknown feature", with(func(in *rules.Input) { in.Condition = "amonut > 1" }), apperr.BadInput, "condition", "unknown name amonut"},
		{"not a test", with(func(in *rules.Input) { in.Condition = "amount + 1" }), apperr.BadInput, "condition", "true/false"},
		{"empty condition", with(func(in *rules.Input) { in.Condition = "  " }), apperr.BadInput, "condition", "empty"},
		{"long condition", with(func(in *rules.Input) { in.Condition = "amount > " + strings.Repeat("1", engine.MaxConditionLen) }), apperr.BadInput, "condition", "at most"},
		{"bad JSON key", with(func(in *rules.Input) { in.Condition = `{"colour": 1}` }), apperr.BadInput, "condition", `unknown condition key "colour"`},
		{"score too high", with(func(in *rules.Input) { in.Score = 101 }), apperr.BadInput, "score", "between -100 and 100"},
		{"score too low", with(func(in *rules.Input) { in.Score = -101 }), apperr.BadInput, "score", "between -100 and 100"},
		{"blank name", with(func(in *rules.Input) { in.Name = " " }), apperr.BadInput, "name", "required"},
		{"long name", with(func(in *rules.Input) { in.Name = strings.Repeat("é", 101) }), apperr.BadInput, "name", "at most 100"},
		{"long description", with(func(in *rules.Input) { in.Description = ptr(strings.Repeat("d", 1001)) }), apperr.BadInput, "description", "at most 1000"},
		{"priority too low", with(func(in *rules.Input) { in.Priority = ptr(-1001) }), apperr.BadInput, "priority", "between"},
		{"bad type", with(func(in *rules.Input) { in.Type = ptr("geo-fence") }), apperr.BadInput, "type", "letters, digits"},
		{"long type", with(func(in *rules.Input) { in.Type = ptr(strings.Repeat("A", 33)) }), apperr.BadInput, "type", "1 to 32"},
		{"bad action", with(func(in *rules.Input) { in.Action = ptr(domain.RuleAction("BLOCK")) }), apperr.BadInput, "action", "SCORE, REVIEW or REJECT"},
		{"duplicate name", with(func(in *rules.Input) { in.Name = "large amount" }), apperr.Conflict, "name", "a rule with this name exists"},
		{"missing rule", with(func(in *rules.Input) { in.ID = ptr(int64(424242)) }), apperr.NotFound, "", "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Upsert(ctx, e.admin, tt.in)
			var ae *apperr.Error
			if !errors.As(err, &ae) {
				t.Fatalf("got %v, want an apperr", err)
			}
			if ae.Code != tt.wantCode || ae.Field != tt.wantField || !strings.Contains(ae.Message, tt.wantMessage) {
				t.Errorf("got %s field %q %q; want %s field %q containing %q", ae.Code, ae.Field, ae.Message, tt.wantCode, tt.wantField, tt.wantMessage)
			}
		})
	}
	all, err := e.svc.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 {
		t.Errorf("rules after rejected input: got %d, want 1", len(all))
	}
}

func TestUpdateVersionsAndAudit(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	in := rules.Input{
		Name: "night owl", Description: ptr("late and large"), Condition: "hour < 5 && amount > 1000", Score: 25,
		Priority: ptr(10), Type: ptr("time"), Action: ptr(domain.RuleScoreAction),
	}
	r, err := e.svc.Upsert(ctx, e.admin, in)
	if err != nil {
		t.Fatal(err)
	}
	if r.Type != "TIME" {
		t.Errorf("type: got %q, want it uppercased to TIME", r.Type)
	}
	other := e.create(t, "other", "amount > 1", 1)

	// An update gives only the required fields: the optional ones keep their values.
	update := rules.Input{ID: &r.ID, Name: "night owl", Condition: "hour < 6 && amount > 1000", Score: 25}
	v2, err := e.svc.Upsert(ctx, e.admin, update)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Version != 2 || v2.Condition != update.Condition || v2.Description != "late and large" || v2.Priority != 10 || v2.Type != "TIME" || !v2.Enabled {
		t.Errorf("after update: got %+v", v2)
	}

	same, err := e.svc.Upsert(ctx, e.admin, update)
	if err != nil {
		t.Fatal(err)
	}
	if same.Version != 2 {
		t.Errorf("no-op update: got version %d, want 2", same.Version)
	}

	rename := update
	rename.Name = "OTHER"
	if _, err := e.svc.Upsert(ctx, e.admin, rename); apperr.CodeOf(err) != apperr.Conflict {
		t.Errorf("rename onto another rule: got %v, want CONFLICT", err)
	}

	disabled, err := e.svc.SetEnabled(ctx, e.admin, r.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if disabled.Enabled || disabled.Version != 3 {
		t.Errorf("disabled: got enabled %v version %d, want false 3", disabled.Enabled, disabled.Version)
	}
	if again, err := e.svc.SetEnabled(ctx, e.admin, r.ID, false); err != nil || again.Version != 3 {
		t.Errorf("disabling again: got %v, %v; want version 3 unchanged", again, err)
	}
	if got, want := ruleNames(e.svc.Current()), []string{"other"}; !slices.Equal(got, want) {
		t.Errorf("compiled rules after disabling: got %v, want %v", got, want)
	}
	if _, err := e.svc.SetEnabled(ctx, e.admin, 424242, true); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("enable a missing rule: got %v, want NOT_FOUND", err)
	}

	versions, err := e.svc.Versions(ctx, []int64{r.ID, other.ID})
	if err != nil {
		t.Fatal(err)
	}
	vs := versions[r.ID]
	if got := versionNumbers(vs); !slices.Equal(got, []int{3, 2, 1}) {
		t.Fatalf("versions: got %v, want [3 2 1]", got)
	}
	if vs[2].Condition != in.Condition || vs[1].Condition != update.Condition || vs[0].Enabled || !vs[1].Enabled {
		t.Errorf("versions do not keep each state: got %+v %+v %+v", vs[0], vs[1], vs[2])
	}
	if got := versionNumbers(versions[other.ID]); !slices.Equal(got, []int{1}) {
		t.Errorf("other rule's versions: got %v, want [1]", got)
	}

	var logs []*domain.AuditLog
	if err := e.db.NewSelect().Model(&logs).Where("target_type = 'rule' AND target_id = ?", strconv.FormatInt(r.ID, 10)).Order("id").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	type entry struct {
		Action  string
		Version int
		Changes map[string]struct{ From, To any }
	}
	var got []entry
	for _, l := range logs {
		en := entry{Action: l.Action}
		if err := json.Unmarshal(l.Details, &en); err != nil {
			t.Fatal(err)
		}
		if l.ActorID == nil || *l.ActorID != e.admin.UserID {
			t.Errorf("audit %s: got actor %v, want %d", l.Action, l.ActorID, e.admin.UserID)
		}
		got = append(got, en)
	}
	wantActions := []string{"rule.created", "rule.updated", "rule.disabled"}
	if len(got) != len(wantActions) {
		t.Fatalf("audit entries: got %+v, want %v", got, wantActions)
	}
	for i, en := range got {
		if en.Action != wantActions[i] || en.Version != i+1 {
			t.Errorf("audit %d: got %s version %d, want %s version %d", i, en.Action, en.Version, wantActions[i], i+1)
		}
	}
	if c := got[1].Changes; len(c) != 2 || c["condition"].From != in.Condition || c["condition"].To != update.Condition || c["expression"].To != update.Condition {
		t.Errorf("update changes: got %+v, want condition and expression", c)
	}
	if c := got[2].Changes; len(c) != 1 || c["enabled"].From != true || c["enabled"].To != false {
		t.Errorf("disable changes: got %+v, want enabled true → false", c)
	}
}

func TestReloadLeavesOutBrokenRules(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.create(t, "fine", "amount > 1", 10)
	broken := e.create(t, "broken", "amount > 2", 10)
	// As if an engine upgrade no longer accepted a stored expression.
	if _, err := e.db.NewUpdate().Model((*domain.Rule)(nil)).Set("expression = 'amount >'").Where("id = ?", broken.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := ruleNames(e.svc.Current()), []string{"fine"}; !slices.Equal(got, want) {
		t.Errorf("compiled rules: got %v, want %v", got, want)
	}
}

func TestHitStatistics(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	a := e.create(t, "a", "amount > 1", 10)
	b := e.create(t, "b", "amount > 2", 10)
	t1, t2 := clock.Add(time.Minute), clock.Add(2*time.Minute)
	ma, mb := engine.Match{RuleID: a.ID}, engine.Match{RuleID: b.ID}

	e.svc.RecordHits([]engine.Match{ma, mb}, t2)
	e.svc.RecordHits([]engine.Match{ma}, t1) // detections may finish out of order
	e.svc.RecordHits(nil, t1)

	type stat struct {
		count int64
		last  time.Time
	}
	stored := func(id int64) stat {
		t.Helper()
		r, err := store.RuleByID(ctx, e.db, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.LastHitAt == nil {
			return stat{count: r.HitCount}
		}
		return stat{r.HitCount, r.LastHitAt.UTC()}
	}
	read := func(id int64) stat {
		t.Helper()
		r, err := e.svc.Rule(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return stat{r.HitCount, r.LastHitAt.UTC()}
	}
	wantA, wantB := stat{2, t2}, stat{1, t2}

	if got := stored(a.ID); got != (stat{}) {
		t.Errorf("stored before Flush: got %+v, want nothing", got)
	}
	if got := read(a.ID); got != wantA {
		t.Errorf("Rule before Flush: got %+v, want %+v", got, wantA)
	}
	if err := e.svc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		id   int64
		want stat
	}{{a.ID, wantA}, {b.ID, wantB}} {
		if got := stored(tt.id); got != tt.want {
			t.Errorf("stored rule %d after Flush: got %+v, want %+v", tt.id, got, tt.want)
		}
		if got := read(tt.id); got != tt.want {
			t.Errorf("Rule %d after Flush: got %+v, want %+v (counted once)", tt.id, got, tt.want)
		}
	}

	// Older hits add to the count but never move last_hit_at back.
	e.svc.RecordHits([]engine.Match{ma}, t1)
	all, err := e.svc.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := (stat{all[0].HitCount, all[0].LastHitAt.UTC()}), (stat{3, t2}); all[0].ID != a.ID || got != want {
		t.Errorf("Rules()[0] with a pending hit: got rule %d %+v, want rule %d %+v", all[0].ID, got, a.ID, want)
	}

	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.svc.RunFlusher(runCtx, time.Hour)
	}()
	cancel()
	<-done
	if got, want := stored(a.ID), (stat{3, t2}); got != want {
		t.Errorf("stored after RunFlusher stopped: got %+v, want %+v", got, want)
	}
}

func TestNotifyRunsInTheChangeTransaction(t *testing.T) {
	var (
		mu       sync.Mutex
		notified []int64
		fail     error
	)
	var e *env
	e = newEnv(t, func(ctx context.Context, tx bun.IDB, ruleID int64) error {
		// The change is visible through tx but not yet committed.
		inTx, err := store.RuleByID(ctx, tx, ruleID)
		if err != nil {
			return err
		}
		committed, err := store.RuleByID(ctx, e.db, ruleID)
		if err == nil && committed.Version == inTx.Version {
			t.Errorf("rule %d version %d visible outside the transaction", ruleID, inTx.Version)
		}
		mu.Lock()
		defer mu.Unlock()
		notified = append(notified, ruleID)
		return fail
	})
	ctx := context.Background()

	r := e.create(t, "notified", "amount > 1", 10)
	if _, err := e.svc.SetEnabled(ctx, e.admin, r.ID, false); err != nil {
		t.Fatal(err)
	}
	if got, want := notified, []int64{r.ID, r.ID}; !slices.Equal(got, want) {
		t.Errorf("notified: got %v, want %v", got, want)
	}

	fail = errors.New("pubsub down")
	if _, err := e.svc.SetEnabled(ctx, e.admin, r.ID, true); !errors.Is(err, fail) {
		t.Errorf("enable with failing notify: got %v, want the notify error", err)
	}
	if _, err := e.svc.Upsert(ctx, e.admin, rules.Input{Name: "never", Condition: "amount > 1", Score: 1}); !errors.Is(err, fail) {
		t.Errorf("create with failing notify: got %v, want the notify error", err)
	}
	all, err := e.svc.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].Enabled || all[0].Version != 2 {
		t.Errorf("rules after failed changes: got %+v, want only rule %d, disabled at version 2", all, r.ID)
	}
	if err := e.svc.SeedRulePacks(ctx, []string{"seed"}); !errors.Is(err, fail) {
		t.Errorf("seed with failing notify: got %v, want the notify error", err)
	}
	if all, err := e.svc.Rules(ctx); err != nil || len(all) != 1 {
		t.Errorf("rules after failed seed: got %d (%v); want only rule %d", len(all), err, r.ID)
	}
	if v, err := store.RulePackVersion(ctx, e.db, "seed"); err != nil || v != 0 {
		t.Errorf("after a failed seed the pack is marked seeded: version %d, %v", v, err)
	}
}

func TestRulePackUpgradeSeedsLaterVersionsOnce(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	v1 := engine.RulePack{Name: "default", Rules: []engine.Rule{{Name: "big", Condition: "amount >= 5000", Score: 50}}}
	if err := e.svc.SeedPacks(ctx, []engine.RulePack{v1}, []string{"default"}); err != nil {
		t.Fatal(err)
	}
	// The operator deletes nothing but renames the version-1 rule: it is theirs.
	stored, err := e.svc.Rules(ctx)
	if err != nil || len(stored) != 1 {
		t.Fatalf("after version 1: %d rules (%v), want 1", len(stored), err)
	}
	if _, err := e.svc.Upsert(ctx, e.admin, rules.Input{ID: &stored[0].ID, Name: "my big", Condition: "amount >= 6000", Score: 40}); err != nil {
		t.Fatal(err)
	}
	// Version 2 adds a suppression rule with a negative score; restarts seed it once.
	v2 := v1
	v2.Later = [][]engine.Rule{{{Name: "journey", Condition: "geo.present && geo.distanceKm > 1000", Score: -40, Type: "SUPPRESSION"}}}
	for range 2 {
		if err := e.svc.SeedPacks(ctx, []engine.RulePack{v2}, []string{"default"}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := e.svc.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	for _, r := range all {
		names[r.Name] = r.Score
	}
	if len(all) != 2 || names["my big"] != 40 || names["journey"] != -40 {
		t.Fatalf("after the upgrade: got %v, want the operator's rule as they left it and the version-2 rule once", names)
	}
	if v, err := store.RulePackVersion(ctx, e.db, "default"); err != nil || v != 2 {
		t.Fatalf("pack version: %d (%v), want 2", v, err)
	}
	// A fresh deployment gets both versions at once.
	fresh := newEnv(t, nil)
	if err := fresh.svc.SeedPacks(ctx, []engine.RulePack{v2}, []string{"default"}); err != nil {
		t.Fatal(err)
	}
	if all, err := fresh.svc.Rules(ctx); err != nil || len(all) != 2 {
		t.Fatalf("fresh deployment: %d rules (%v), want 2", len(all), err)
	}
	if err := e.svc.Reload(ctx); err != nil {
		t.Fatalf("a negative score must compile: %v", err)
	}
}
