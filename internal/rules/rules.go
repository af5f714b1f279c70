// Package rules manages the detection rules: validated, versioned and audited
// edits, the compiled RuleSet the scoring path reads, and hit statistics kept
// in memory and flushed in batches so no rule row is written per transaction.
package rules

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// Service manages rules and keeps the compiled RuleSet current.
type Service struct {
	db     *bun.DB
	now    func() time.Time
	log    *slog.Logger
	notify func(ctx context.Context, tx bun.IDB, ruleID int64) error

	current atomic.Pointer[engine.RuleSet]
	login   atomic.Pointer[engine.RuleSet]
	// reloadMu serializes reloads so an older read never replaces a newer one.
	reloadMu sync.Mutex

	// flushMu is held exclusively while a flush moves deltas from memory to
	// the database, and shared by reads, so a read counts each hit exactly once.
	flushMu sync.RWMutex
	hitsMu  sync.Mutex
	pending map[int64]hitDelta
}

// New returns a rule service. notify runs inside each write transaction after
// a change (pg_notify, so other instances reload at commit); it may be nil.
func New(db *bun.DB, now func() time.Time, log *slog.Logger, notify func(ctx context.Context, tx bun.IDB, ruleID int64) error) *Service {
	s := &Service{db: db, now: now, log: log, notify: notify, pending: make(map[int64]hitDelta)}
	s.current.Store(&engine.RuleSet{})
	s.login.Store(&engine.RuleSet{})
	return s
}

// EngineRule converts a stored rule to the engine's form; the engine runs the compiled expression.
func EngineRule(r *domain.Rule) engine.Rule {
	return engine.Rule{
		ID:          r.ID,
		Name:        r.Name,
		Description: r.Description,
		Version:     r.Version,
		Condition:   r.Expression,
		Score:       r.Score,
		Priority:    r.Priority,
		Type:        r.Type,
		Scope:       engine.Scope(r.Scope),
		Action:      engine.Action(r.Action),
		Shadow:      r.Shadow,
	}
}

// Current returns the compiled TRANSACTION RuleSet used for scoring payments; it is empty until the first Reload.
func (s *Service) Current() *engine.RuleSet { return s.current.Load() }

// CurrentLogin returns the compiled LOGIN RuleSet used for scoring logins; it is empty until the first Reload.
func (s *Service) CurrentLogin() *engine.RuleSet { return s.login.Load() }

// Reload compiles the enabled rules and swaps them in. A rule that no longer
// compiles (say, after an engine upgrade) is logged and left out: one broken
// rule must not stop payments.
func (s *Service) Reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	stored, err := store.EnabledRules(ctx, s.db)
	if err != nil {
		return fmt.Errorf("rules: load enabled rules: %w", err)
	}
	// engine.Compile refuses a whole set for one bad rule, so each is tried
	// alone first; reloads are rare and compiling a rule takes microseconds.
	good := make(map[engine.Scope][]engine.Rule, 2)
	n := 0
	for _, r := range stored {
		er := EngineRule(r)
		if _, err := engine.Compile([]engine.Rule{er}); err != nil {
			s.log.Error("rules: rule left out of scoring, it does not compile", "rule_id", r.ID, "name", r.Name, "version", r.Version, "err", err)
			continue
		}
		scope := cmp.Or(er.Scope, engine.ScopeTransaction)
		good[scope] = append(good[scope], er)
		n++
	}
	rs, err := engine.Compile(good[engine.ScopeTransaction])
	if err != nil {
		return fmt.Errorf("rules: compile: %w", err)
	}
	login, err := engine.Compile(good[engine.ScopeLogin])
	if err != nil {
		return fmt.Errorf("rules: compile login rules: %w", err)
	}
	s.current.Store(rs)
	s.login.Store(login)
	s.log.Info("rules: reloaded", "rules", n, "login_rules", len(good[engine.ScopeLogin]), "left_out", len(stored)-n)
	return nil
}

// reloadAfterChange makes a committed change visible here at once. The change
// stands even if this fails: the notification makes every instance, this one
// included, reload again. The caller's cancellation must not skip it.
func (s *Service) reloadAfterChange(ctx context.Context) {
	if err := s.Reload(context.WithoutCancel(ctx)); err != nil {
		s.log.Error("rules: reload after change", "err", err)
	}
}

// SeedRulePacks stores each named pack of engine.RulePacks as editable rules
// the first time it is asked for, and the rules of each later version of the
// pack once, at the first start that knows it; afterwards they are the
// operator's, and a deleted one stays deleted. A pack rule whose name an operator's rule has
// already taken is left out. Instances starting together take turns on an
// advisory lock, so each pack is seeded once. Reload afterwards.
func (s *Service) SeedRulePacks(ctx context.Context, names []string) error {
	return s.SeedPacks(ctx, engine.RulePacks(), names)
}

// SeedPacks is SeedRulePacks over the packs given.
func (s *Service) SeedPacks(ctx context.Context, packs []engine.RulePack, names []string) error {
	err := store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := store.LockRuleSeeding(ctx, tx); err != nil {
			return err
		}
		for _, pack := range packs {
			if !slices.Contains(names, pack.Name) {
				continue
			}
			seeded, err := store.RulePackVersion(ctx, tx, pack.Name)
			if err != nil || seeded >= pack.Version() {
				return err
			}
			if err := s.seed(ctx, tx, pack.Since(seeded)); err != nil {
				return fmt.Errorf("pack %q version %d: %w", pack.Name, pack.Version(), err)
			}
			if err := store.SetRulePackVersion(ctx, tx, pack.Name, pack.Version()); err != nil {
				return err
			}
			if seeded > 0 {
				s.log.Info("rules: rule pack upgraded", "pack", pack.Name, "from", seeded, "to", pack.Version())
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rules: seed rule packs: %w", err)
	}
	return nil
}

func (s *Service) seed(ctx context.Context, tx bun.Tx, rules []engine.Rule) error {
	now := s.now()
	for _, b := range rules {
		taken, err := store.RuleNameTaken(ctx, tx, b.Name)
		if err != nil {
			return err
		}
		if taken {
			s.log.Warn("rules: a rule of this name exists; the pack's is not seeded", "rule", b.Name)
			continue
		}
		expression, err := compile(b.Condition)
		if err != nil {
			return fmt.Errorf("rule %q: %w", b.Name, err)
		}
		action := cmp.Or(b.Action, engine.ActionScore)
		r := &domain.Rule{
			Name: b.Name, Description: b.Description, Condition: b.Condition, Expression: expression,
			Score: b.Score, Priority: b.Priority, Type: b.Type, Scope: domain.RuleScope(cmp.Or(b.Scope, engine.ScopeTransaction)), Action: domain.RuleAction(action),
			Enabled: true, Shadow: b.Shadow, Version: 1, Builtin: true, CreatedAt: now, UpdatedAt: now,
		}
		if err := store.InsertRule(ctx, tx, r); err != nil {
			return err
		}
		if err := s.recordChange(ctx, tx, r, diff(nil, r), "rule.created"); err != nil {
			return err
		}
	}
	return nil
}

// Rule loads one rule; its hit count includes this instance's unflushed hits.
func (s *Service) Rule(ctx context.Context, id int64) (*domain.Rule, error) {
	s.flushMu.RLock()
	defer s.flushMu.RUnlock()
	r, err := store.RuleByID(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	s.addPending(r)
	return r, nil
}

// RuleByCode loads one rule by its code, with unflushed hits.
func (s *Service) RuleByCode(ctx context.Context, code string) (*domain.Rule, error) {
	s.flushMu.RLock()
	defer s.flushMu.RUnlock()
	r, err := store.RuleByCode(ctx, s.db, code)
	if err != nil {
		return nil, err
	}
	s.addPending(r)
	return r, nil
}

// RulesByIDs loads rules in any order, with unflushed hits (MatchedRule.rule's loader).
func (s *Service) RulesByIDs(ctx context.Context, ids []int64) ([]*domain.Rule, error) {
	s.flushMu.RLock()
	defer s.flushMu.RUnlock()
	rs, err := store.RulesByIDs(ctx, s.db, ids)
	if err != nil {
		return nil, err
	}
	s.addPending(rs...)
	return rs, nil
}

// Rules loads every rule, priority descending, then by ID, with unflushed hits.
func (s *Service) Rules(ctx context.Context) ([]*domain.Rule, error) {
	s.flushMu.RLock()
	defer s.flushMu.RUnlock()
	rs, err := store.ListRules(ctx, s.db)
	if err != nil {
		return nil, err
	}
	s.addPending(rs...)
	return rs, nil
}

// Versions loads every version of each rule, newest first, keyed by rule ID.
func (s *Service) Versions(ctx context.Context, ruleIDs []int64) (map[int64][]*domain.RuleVersion, error) {
	return store.RuleVersionsByRuleIDs(ctx, s.db, ruleIDs)
}

// recordChange keeps the new version, audits the change and signals it, all
// inside the change's transaction so they commit or roll back with it.
func (s *Service) recordChange(ctx context.Context, tx bun.IDB, r *domain.Rule, changes map[string]change, action string) error {
	v := &domain.RuleVersion{
		RuleID: r.ID, Version: r.Version, Name: r.Name, Description: r.Description,
		Condition: r.Condition, Expression: r.Expression, Score: r.Score, Priority: r.Priority,
		Type: r.Type, Scope: r.Scope, Action: r.Action, Enabled: r.Enabled, Shadow: r.Shadow, CreatedBy: r.UpdatedBy, CreatedAt: r.UpdatedAt,
	}
	if err := store.InsertRuleVersion(ctx, tx, v); err != nil {
		return err
	}
	details := map[string]any{"version": r.Version, "changes": changes}
	if err := store.Audit(ctx, tx, r.UpdatedBy, action, "rule", strconv.FormatInt(r.ID, 10), details, auth.ClientIP(ctx)); err != nil {
		return err
	}
	if s.notify == nil {
		return nil
	}
	if err := s.notify(ctx, tx, r.ID); err != nil {
		return fmt.Errorf("rules: notify change of rule %d: %w", r.ID, err)
	}
	return nil
}
