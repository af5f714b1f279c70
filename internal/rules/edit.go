package rules

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// Input creates (ID nil) or updates a rule. On update, nil fields keep their
// values; on create they default to description "", priority 0, type CUSTOM,
// action SCORE, enabled.
type Input struct {
	ID *int64
	// Code is a unique handle such as R001; nil on update keeps the rule's.
	Code        *string
	Name        string
	Description *string
	// Condition is an expression over the features or a seed-004 JSON
	// condition document (starting with "{").
	Condition string
	Score     int
	Priority  *int
	Type      *string
	Action    *domain.RuleAction
	// Scope is what the rule scores; nil keeps the rule's (TRANSACTION for a new one).
	Scope   *domain.RuleScope
	Enabled *bool
	// Shadow evaluates and records the rule without scoring it.
	Shadow *bool
}

// Limits on rule fields.
const (
	maxNameLen        = 100
	maxDescriptionLen = 1000
	maxPriority       = 1000
)

var (
	typePattern = regexp.MustCompile(`^[A-Z0-9_]{1,32}$`)
	codePattern = regexp.MustCompile(`^[A-Z][A-Z0-9_-]{0,31}$`)
)

// normalize trims and uppercases in, checks every field given and compiles
// the condition, returning the expression the engine will run.
func normalize(in Input) (Input, string, error) {
	in.Name = strings.TrimSpace(in.Name)
	switch n := utf8.RuneCountInString(in.Name); {
	case n == 0:
		return in, "", apperr.Invalid("name", "is required")
	case n > maxNameLen:
		return in, "", apperr.Invalid("name", "must be at most 100 characters")
	}
	if in.Description != nil {
		d := strings.TrimSpace(*in.Description)
		if utf8.RuneCountInString(d) > maxDescriptionLen {
			return in, "", apperr.Invalid("description", "must be at most 1000 characters")
		}
		in.Description = &d
	}
	if in.Code != nil {
		c := strings.TrimSpace(*in.Code)
		if !codePattern.MatchString(c) {
			return in, "", apperr.Invalid("code", "must be an upper-case letter then up to 31 upper-case letters, digits, '_' or '-', e.g. R001")
		}
		in.Code = &c
	}
	in.Condition = strings.TrimSpace(in.Condition)
	expression, err := compile(in.Condition)
	if err != nil {
		return in, "", apperr.Invalid("condition", err.Error())
	}
	if in.Score < -100 || in.Score > 100 {
		return in, "", apperr.Invalid("score", "must be between -100 and 100 (negative to offset other rules' scores)")
	}
	if in.Priority != nil && (*in.Priority < -maxPriority || *in.Priority > maxPriority) {
		return in, "", apperr.Invalid("priority", "must be between -1000 and 1000")
	}
	if in.Type != nil {
		t := strings.ToUpper(strings.TrimSpace(*in.Type))
		if !typePattern.MatchString(t) {
			return in, "", apperr.Invalid("type", "must be 1 to 32 letters, digits or '_'")
		}
		in.Type = &t
	}
	if in.Action != nil && *in.Action != domain.RuleScoreAction && *in.Action != domain.RuleReview && *in.Action != domain.RuleReject {
		return in, "", apperr.Invalid("action", "must be SCORE, REVIEW or REJECT")
	}
	if in.Scope != nil && *in.Scope != domain.ScopeTransaction && *in.Scope != domain.ScopeLogin {
		return in, "", apperr.Invalid("scope", "must be TRANSACTION or LOGIN")
	}
	return in, expression, nil
}

// compile checks a condition (empty, too long, syntax, types) and returns the
// expression the engine runs: the source, or a JSON document converted.
func compile(condition string) (string, error) {
	c, err := engine.CompileCondition(condition)
	if err != nil {
		return "", err
	}
	return c.String(), nil
}

// apply writes the given fields of in onto r.
func (in Input) apply(r *domain.Rule, expression string) {
	r.Name, r.Condition, r.Expression, r.Score = in.Name, in.Condition, expression, in.Score
	if in.Code != nil {
		r.Code = in.Code
	}
	if in.Description != nil {
		r.Description = *in.Description
	}
	if in.Priority != nil {
		r.Priority = *in.Priority
	}
	if in.Type != nil {
		r.Type = *in.Type
	}
	if in.Action != nil {
		r.Action = *in.Action
	}
	if in.Scope != nil {
		r.Scope = *in.Scope
	}
	if in.Enabled != nil {
		r.Enabled = *in.Enabled
	}
	if in.Shadow != nil {
		r.Shadow = *in.Shadow
	}
}

// Upsert validates and creates or updates a rule. Every change makes a new
// version; an update that changes nothing returns the rule as it is.
func (s *Service) Upsert(ctx context.Context, p auth.Principal, in Input) (*domain.Rule, error) {
	in, expression, err := normalize(in)
	if err != nil {
		return nil, err
	}
	if in.ID != nil {
		return s.update(ctx, p, *in.ID, "rule.updated", func(r *domain.Rule) { in.apply(r, expression) })
	}
	now := s.now()
	r := &domain.Rule{
		Type: "CUSTOM", Scope: domain.ScopeTransaction, Action: domain.RuleScoreAction, Enabled: true,
		Version: 1, CreatedBy: actor(p), UpdatedBy: actor(p), CreatedAt: now, UpdatedAt: now,
	}
	in.apply(r, expression)
	err = store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := store.InsertRule(ctx, tx, r); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, r, diff(nil, r), "rule.created")
	})
	if err != nil {
		return nil, err
	}
	s.reloadAfterChange(ctx)
	return r, nil
}

// SetEnabled enables or disables a rule; a change makes a new version.
func (s *Service) SetEnabled(ctx context.Context, p auth.Principal, id int64, enabled bool) (*domain.Rule, error) {
	action := "rule.disabled"
	if enabled {
		action = "rule.enabled"
	}
	return s.update(ctx, p, id, action, func(r *domain.Rule) { r.Enabled = enabled })
}

// update applies edit to the locked current rule and, if that changed
// anything, saves it as the next version.
func (s *Service) update(ctx context.Context, p auth.Principal, id int64, action string, edit func(*domain.Rule)) (*domain.Rule, error) {
	var (
		out     *domain.Rule
		changed bool
	)
	// Shared with Flush, as reads are, so the returned hit count is exact.
	s.flushMu.RLock()
	err := store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		cur, err := store.RuleForUpdate(ctx, tx, id)
		if err != nil {
			return err
		}
		next := *cur
		edit(&next)
		changes := diff(cur, &next)
		if len(changes) == 0 {
			out = cur
			return nil
		}
		next.Version = cur.Version + 1
		next.UpdatedBy = actor(p)
		next.UpdatedAt = s.now()
		if err := store.UpdateRule(ctx, tx, &next, cur.Version); err != nil {
			return err
		}
		out, changed = &next, true
		return s.recordChange(ctx, tx, &next, changes, action)
	})
	if err == nil {
		s.addPending(out)
	}
	s.flushMu.RUnlock()
	if err != nil {
		return nil, err
	}
	if changed {
		s.reloadAfterChange(ctx)
	}
	return out, nil
}

func actor(p auth.Principal) *int64 {
	id := p.UserID
	return &id
}

// change is one field's edit in an audit entry; From is absent on create.
type change struct {
	From any `json:"from,omitempty"`
	To   any `json:"to"`
}

// ruleFields are the fields a change compares (a version captures all but the code).
var ruleFields = []struct {
	name string
	get  func(*domain.Rule) any
}{
	{"code", func(r *domain.Rule) any {
		if r.Code == nil {
			return nil
		}
		return *r.Code
	}},
	{"name", func(r *domain.Rule) any { return r.Name }},
	{"description", func(r *domain.Rule) any { return r.Description }},
	{"condition", func(r *domain.Rule) any { return r.Condition }},
	{"expression", func(r *domain.Rule) any { return r.Expression }},
	{"score", func(r *domain.Rule) any { return r.Score }},
	{"priority", func(r *domain.Rule) any { return r.Priority }},
	{"type", func(r *domain.Rule) any { return r.Type }},
	{"scope", func(r *domain.Rule) any { return r.Scope }},
	{"action", func(r *domain.Rule) any { return r.Action }},
	{"enabled", func(r *domain.Rule) any { return r.Enabled }},
	{"shadow", func(r *domain.Rule) any { return r.Shadow }},
}

// diff lists the fields that differ from old to cur; with old nil, all of them.
func diff(old, cur *domain.Rule) map[string]change {
	out := make(map[string]change)
	for _, f := range ruleFields {
		to := f.get(cur)
		if old == nil {
			out[f.name] = change{To: to}
			continue
		}
		if from := f.get(old); from != to {
			out[f.name] = change{From: from, To: to}
		}
	}
	return out
}
