package engine

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// Action is what a matching rule does.
type Action string

const (
	// ActionScore adds the rule's score to the rule score.
	ActionScore Action = "SCORE"
	// ActionReject rejects the transaction whatever the score.
	ActionReject Action = "REJECT"
	// ActionReview adds the rule's score, as SCORE does, and holds the
	// transaction for review whatever the model says: a model trained
	// without a pattern cannot fuse a rule built for it below REVIEW_AT.
	ActionReview Action = "REVIEW"
)

// Scope is what a rule scores: each scope has its own RuleSet.
type Scope string

const (
	// ScopeTransaction rules score payments.
	ScopeTransaction Scope = "TRANSACTION"
	// ScopeLogin rules score successful and recorded logins, over the same
	// feature vector with no payment in it (amount 0, no merchant).
	ScopeLogin Scope = "LOGIN"
)

// MaxConditionLen bounds a condition's source so a rule stays reviewable and
// compiling it stays cheap.
const MaxConditionLen = 4096

// Rule is one detection rule as stored. Condition is an expr expression over
// the feature vector (see FeatureDocs) or a seed-004 JSON condition document,
// recognised by its leading "{".
type Rule struct {
	ID          int64
	Name        string
	Description string
	Version     int
	Condition   string
	// Score is added when Action is SCORE or REVIEW: -100..100, negative for a
	// suppression rule that offsets another's score (the sum is then capped
	// to 0..100).
	Score    int
	Priority int // higher evaluates and lists first
	Type     string
	Scope    Scope  // empty means TRANSACTION
	Action   Action // empty means SCORE
	// Shadow rules are evaluated and reported on every transaction but never
	// change its score or decision: a draft watched on live traffic.
	Shadow bool
}

// Condition is a compiled, type-checked boolean condition. It is immutable
// and safe for concurrent use.
type Condition struct {
	expr    string
	program *vm.Program
	native  boolFn // nil when the condition needs the VM
}

// String returns the expr expression the condition runs: the source, or the
// expression a JSON document was converted to.
func (c *Condition) String() string { return c.expr }

// vms recycles expr VMs so evaluation does not allocate a stack per rule.
var vms = sync.Pool{New: func() any { return new(vm.VM) }}

// Eval runs the condition against f.
func (c *Condition) Eval(f *Features) (bool, error) {
	if c.native != nil {
		return c.native(f), nil
	}
	v := vms.Get().(*vm.VM)
	defer vms.Put(v)
	return c.runVM(v, *f)
}

// runVM takes env as an already boxed Features value: field reads then point
// into that one copy instead of allocating per read.
func (c *Condition) runVM(v *vm.VM, env any) (bool, error) {
	out, err := v.Run(c.program, env)
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("condition returned %T, want bool", out)
	}
	return b, nil
}

// CompileCondition validates and compiles a condition. Its errors are meant
// for the rule's author: they say what is wrong and where.
func CompileCondition(cond string) (c *Condition, err error) {
	src := strings.TrimSpace(cond)
	switch {
	case src == "":
		return nil, errors.New("condition is empty")
	case len(src) > MaxConditionLen:
		return nil, fmt.Errorf("condition is %d bytes long, at most %d allowed", len(src), MaxConditionLen)
	case strings.HasPrefix(src, "{"):
		if src, err = ConvertJSONCondition(src); err != nil {
			return nil, err
		}
	}
	// expr is not documented never to panic on odd input; an admin's typo
	// must come back as an error, not take the server down.
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("condition cannot be compiled: %v", r)
		}
	}()
	program, err := expr.Compile(src,
		expr.Env(Features{}),
		expr.AsBool(),
		expr.WarnOnAny(),           // untyped results (nil, any) are refused too
		expr.DisableBuiltin("now"), // the clock is passed in, never read
		inListFunction,
	)
	var syntax *file.Error
	switch {
	case err == nil:
	case errors.As(err, &syntax):
		return nil, fmt.Errorf("invalid condition: %w", err)
	case strings.HasPrefix(err.Error(), "expected "): // the result-type check has no position
		return nil, fmt.Errorf("condition must be a true/false test: %w", err)
	default: // a compiler panic, reported with a stack trace the admin must not see
		msg, _, _ := strings.Cut(err.Error(), "\n")
		return nil, fmt.Errorf("condition cannot be compiled: %s", msg)
	}
	c = &Condition{expr: src, program: program, native: compileNative(program.Node())}
	if c.native == nil && callsInList(program.Node()) {
		return nil, errors.New(`inList(name, value) needs its list name as a string literal, e.g. inList("blocked_ips", ipAddress), and can be combined only with comparisons, in, contains/startsWith/endsWith, len, !, && and ||`)
	}
	// Evaluate once on minimal features so conditions that fail at run time
	// whatever the data (an out-of-range index, an integer division by zero,
	// a memory blow-up) are refused now instead of at every transaction.
	if _, err := c.Eval(&probeFeatures); err != nil {
		return nil, fmt.Errorf("condition fails on minimal features: %w", err)
	}
	return c, nil
}

// probeFeatures is the least a transaction has: windowed counts include the
// transaction itself, so they are never 0.
var probeFeatures = Features{User: UserFeatures{TxCount10m: 1, TxCount1h: 1, TxCount24h: 1, TxCount7d: 1}}

// RuleSet is an immutable, compiled set of rules in evaluation order. It is
// safe for concurrent use; build a new one when rules change.
type RuleSet struct {
	rules []compiledRule
}

type compiledRule struct {
	rule  Rule
	cond  *Condition
	match Match // prebuilt so a hit costs a copy, not an allocation
}

// Compile validates and compiles rules, which the caller has filtered to the
// enabled ones. The error names the first failing rule.
func Compile(rules []Rule) (*RuleSet, error) {
	rs := &RuleSet{rules: make([]compiledRule, 0, len(rules))}
	ids := make(map[int64]bool, len(rules))
	for _, r := range rules {
		if r.Action == "" {
			r.Action = ActionScore
		}
		if err := checkRule(r, ids); err != nil {
			return nil, fmt.Errorf("rule %d %q: %w", r.ID, r.Name, err)
		}
		cond, err := CompileCondition(r.Condition)
		if err != nil {
			return nil, fmt.Errorf("rule %d %q: %w", r.ID, r.Name, err)
		}
		reason := r.Description
		if reason == "" {
			reason = r.Name
		}
		rs.rules = append(rs.rules, compiledRule{rule: r, cond: cond, match: Match{
			RuleID: r.ID, Name: r.Name, Version: r.Version, Score: r.Score,
			Type: r.Type, Action: r.Action, Reason: reason, Shadow: r.Shadow,
		}})
	}
	slices.SortStableFunc(rs.rules, func(a, b compiledRule) int {
		return cmp.Or(
			cmp.Compare(b.rule.Priority, a.rule.Priority),
			cmp.Compare(a.rule.ID, b.rule.ID),
			strings.Compare(a.rule.Name, b.rule.Name),
		)
	})
	return rs, nil
}

func checkRule(r Rule, ids map[int64]bool) error {
	switch {
	case strings.TrimSpace(r.Name) == "":
		return errors.New("name is required")
	case r.Score < -100 || r.Score > 100:
		return fmt.Errorf("score %d is outside -100..100", r.Score)
	case r.Action != ActionScore && r.Action != ActionReject && r.Action != ActionReview:
		return fmt.Errorf("unknown action %q (want %s, %s or %s)", r.Action, ActionScore, ActionReview, ActionReject)
	case r.ID != 0 && ids[r.ID]:
		return errors.New("duplicate rule ID")
	}
	ids[r.ID] = true
	return nil
}

// Rules returns the rules in evaluation order: priority descending, then ID.
func (rs *RuleSet) Rules() []Rule {
	if rs == nil {
		return nil
	}
	out := make([]Rule, len(rs.rules))
	for i, cr := range rs.rules {
		out[i] = cr.rule
	}
	return out
}

// RuleError reports a rule whose condition failed while evaluating.
type RuleError struct {
	RuleID int64
	Name   string
	Err    error
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("rule %d %q: %v", e.RuleID, e.Name, e.Err)
}

func (e *RuleError) Unwrap() error { return e.Err }

// Evaluate returns the rules matching f in evaluation order. A rule whose
// condition fails counts as not matched (Score reports such failures); a
// broken rule must not stop payments. A nil RuleSet matches nothing.
func (rs *RuleSet) Evaluate(f *Features) []Match {
	m, _ := rs.evaluate(f)
	return m
}

func (rs *RuleSet) evaluate(f *Features) ([]Match, []*RuleError) {
	if rs == nil {
		return nil, nil
	}
	var (
		buf  [32]int // indexes of matched rules; on the stack unless many match
		hits = buf[:0]
		errs []*RuleError
		v    *vm.VM
		env  any
	)
	defer func() {
		if v != nil {
			vms.Put(v)
		}
	}()
	for i := range rs.rules {
		cr := &rs.rules[i]
		if cr.cond.native != nil {
			if cr.cond.native(f) {
				hits = append(hits, i)
			}
			continue
		}
		if v == nil {
			v = vms.Get().(*vm.VM)
			env = *f // boxed once for all VM rules
		}
		ok, err := cr.cond.runVM(v, env)
		switch {
		case err != nil:
			errs = append(errs, &RuleError{RuleID: cr.rule.ID, Name: cr.rule.Name, Err: err})
		case ok:
			hits = append(hits, i)
		}
	}
	if len(hits) == 0 {
		return nil, errs
	}
	matched := make([]Match, len(hits))
	for j, i := range hits {
		matched[j] = rs.rules[i].match
	}
	return matched, errs
}
