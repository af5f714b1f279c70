package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Level is the risk level of a score.
type Level string

const (
	LevelLow    Level = "LOW"
	LevelMedium Level = "MEDIUM"
	LevelHigh   Level = "HIGH"
)

// Decision is what happens to the transaction.
type Decision string

const (
	DecisionPass   Decision = "PASS"
	DecisionReview Decision = "REVIEW"
	DecisionReject Decision = "REJECT"
)

// Config holds the fusion weights and thresholds. The zero Config means
// DefaultConfig, so a forgotten config cannot reject everything.
type Config struct {
	RuleWeight  float64 // weight of the rule score when a model score exists
	ModelWeight float64 // weight of the model score
	RejectAt    float64 // risk score from which the decision is REJECT
	ReviewAt    float64 // risk score from which the decision is REVIEW
	MediumAt    float64 // risk score from which the level is MEDIUM
	HighAt      float64 // risk score from which the level is HIGH
	// SmallAmount is the amount under which a payment counts towards
	// user.smallTxCount10m (card testers probe with tiny payments).
	SmallAmount float64
	// NearLine is the reporting line slow structuring stays just under:
	// user.nearLineCount7d counts amounts from 90 % of it to just under it.
	NearLine float64
}

// DefaultConfig returns the pinned domain settings.
func DefaultConfig() Config {
	return Config{RuleWeight: 0.6, ModelWeight: 0.4, RejectAt: 80, ReviewAt: 60, MediumAt: 40, HighAt: 80, SmallAmount: 10, NearLine: 10000}
}

// Validate reports a config that would not make sense: weights must be
// non-negative and sum to 1, thresholds lie in (0, 100] and are ordered.
func (c Config) Validate() error {
	var errs []error
	for _, w := range []struct {
		name string
		v    float64
	}{{"rule weight", c.RuleWeight}, {"model weight", c.ModelWeight}} {
		if !(w.v >= 0 && w.v <= 1) {
			errs = append(errs, fmt.Errorf("%s %v is outside 0..1", w.name, w.v))
		}
	}
	if sum := c.RuleWeight + c.ModelWeight; math.Abs(sum-1) > 1e-9 {
		errs = append(errs, fmt.Errorf("rule and model weights sum to %v, want 1", sum))
	}
	for _, t := range []struct {
		name string
		v    float64
	}{{"reject", c.RejectAt}, {"review", c.ReviewAt}, {"medium", c.MediumAt}, {"high", c.HighAt}} {
		if !(t.v > 0 && t.v <= 100) {
			errs = append(errs, fmt.Errorf("%s threshold %v is outside (0, 100]", t.name, t.v))
		}
	}
	if !(c.SmallAmount > 0) {
		errs = append(errs, fmt.Errorf("small amount %v must be greater than 0", c.SmallAmount))
	}
	if !(c.NearLine > 0) {
		errs = append(errs, fmt.Errorf("near line %v must be greater than 0", c.NearLine))
	}
	if c.ReviewAt > c.RejectAt {
		errs = append(errs, fmt.Errorf("review threshold %v is above reject threshold %v", c.ReviewAt, c.RejectAt))
	}
	if c.MediumAt > c.HighAt {
		errs = append(errs, fmt.Errorf("medium threshold %v is above high threshold %v", c.MediumAt, c.HighAt))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("engine config: %w", err)
	}
	return nil
}

// Scorer is an optional model returning a risk score in 0..100.
type Scorer interface {
	Score(ctx context.Context, f *Features) (float64, error)
}

// Match is one matched rule, as recorded with the detection.
type Match struct {
	RuleID  int64
	Name    string
	Version int
	Score   int
	Type    string
	Action  Action
	Reason  string // the rule's description, else its name
	Shadow  bool   // matched in shadow: reported, not scored
}

// Result is a scored decision.
type Result struct {
	RuleScore  int      // sum of matched SCORE rules, capped at 100
	MLScore    *float64 // nil when no model score
	RiskScore  float64  // fused score, 0..100, rounded to 2 decimals
	Level      Level
	Decision   Decision
	Matched    []Match // evaluation order: priority descending, then ID
	Shadow     []Match // shadow rules that matched; not in the score
	Reason     string  // human-readable summary
	Rejected   bool    // a REJECT rule matched
	Reviewed   bool    // a REVIEW rule matched: the risk score is at least ReviewAt
	RuleErrors []*RuleError
}

// RuleScore sums the scores of matched SCORE and REVIEW rules, capped at 100.
func RuleScore(matched []Match) int {
	sum := 0
	for _, m := range matched {
		if m.Action != ActionReject {
			sum += m.Score
		}
	}
	return min(sum, 100)
}

// LevelFor returns the risk level of score.
func LevelFor(score float64, cfg Config) Level {
	cfg = cfg.orDefault()
	switch {
	case score >= cfg.HighAt:
		return LevelHigh
	case score >= cfg.MediumAt:
		return LevelMedium
	}
	return LevelLow
}

func decisionFor(score float64, cfg Config) Decision {
	switch {
	case score >= cfg.RejectAt:
		return DecisionReject
	case score >= cfg.ReviewAt:
		return DecisionReview
	}
	return DecisionPass
}

func (c Config) orDefault() Config {
	if c == (Config{}) {
		return DefaultConfig()
	}
	return c
}

// Decide fuses the rule score with the optional model score and decides.
// Without a model score the risk score is the rule score itself (seed 004
// scaled it by the rule weight, so a lone large amount passed). A matched
// REJECT rule rejects outright with risk score 100; a matched REVIEW rule
// raises the risk score to ReviewAt when fusion (or a suppression rule) left
// it lower, so the decision is at least REVIEW and the level at least MEDIUM.
func Decide(ruleScore int, mlScore *float64, matched []Match, cfg Config) Result {
	cfg = cfg.orDefault()
	if mlScore != nil && math.IsNaN(*mlScore) {
		mlScore = nil
	}
	r := Result{RuleScore: min(max(ruleScore, 0), 100), MLScore: mlScore, Matched: matched}
	for _, m := range matched {
		r.Rejected = r.Rejected || m.Action == ActionReject
		r.Reviewed = r.Reviewed || m.Action == ActionReview
	}
	if r.Rejected {
		r.RiskScore, r.Level, r.Decision = 100, LevelHigh, DecisionReject
	} else {
		score := float64(r.RuleScore)
		if mlScore != nil {
			score = cfg.RuleWeight*score + cfg.ModelWeight*min(max(*mlScore, 0), 100)
		}
		if r.Reviewed {
			score = max(score, cfg.ReviewAt)
		}
		// Rounding keeps 0.6·50 + 0.4·100 at 70, not 69.99999999999999.
		r.RiskScore = math.Round(score*100) / 100
		r.Level, r.Decision = LevelFor(r.RiskScore, cfg), decisionFor(r.RiskScore, cfg)
	}
	r.Reason = reason(&r)
	return r
}

// reason renders e.g. "rules: large amount (+50), high velocity (+30);
// rule score 80; decision REJECT".
func reason(r *Result) string {
	var b strings.Builder
	var num [24]byte
	b.Grow(64 + 32*len(r.Matched))
	if len(r.Matched) == 0 {
		b.WriteString("no rule matched")
	} else {
		b.WriteString("rules: ")
		for i, m := range r.Matched {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(m.Name)
			if m.Action == ActionReject {
				b.WriteString(" (reject)")
			} else {
				b.WriteString(" (")
				if m.Score >= 0 {
					b.WriteByte('+') // a suppression rule's is negative: "(-40)"
				}
				b.Write(strconv.AppendInt(num[:0], int64(m.Score), 10))
				if m.Action == ActionReview {
					b.WriteString(", review")
				}
				b.WriteString(")")
			}
		}
	}
	if r.Rejected {
		b.WriteString("; rejected by rule")
	} else {
		b.WriteString("; rule score ")
		b.Write(strconv.AppendInt(num[:0], int64(r.RuleScore), 10))
		if r.MLScore != nil {
			b.WriteString("; model score ")
			b.Write(strconv.AppendFloat(num[:0], *r.MLScore, 'f', -1, 64))
			b.WriteString("; risk score ")
			b.Write(strconv.AppendFloat(num[:0], r.RiskScore, 'f', -1, 64))
		}
	}
	if r.Reviewed && !r.Rejected {
		b.WriteString("; held for review by rule")
	}
	b.WriteString("; decision ")
	b.WriteString(string(r.Decision))
	return b.String()
}

// Score evaluates the rules against f, asks the model if there is one, and
// decides. A nil RuleSet has no rules; a nil model means rules only. When the
// model fails or answers outside 0..100, Score still returns the rules-only
// result, with the error, so the caller chooses whether to proceed. Rules
// that fail to evaluate are not matched and are listed in Result.RuleErrors.
func Score(ctx context.Context, rs *RuleSet, f *Features, model Scorer, cfg Config) (Result, error) {
	matched, ruleErrs := rs.evaluate(f)
	var ml *float64
	var err error
	if model != nil {
		s, merr := model.Score(ctx, f)
		switch {
		case merr != nil:
			err = fmt.Errorf("engine: model score: %w", merr)
		case !(s >= 0 && s <= 100):
			err = fmt.Errorf("engine: model score %v is outside 0..100", s)
		default:
			ml = &s
		}
	}
	live, shadow := splitShadow(matched)
	r := Decide(RuleScore(live), ml, live, cfg)
	r.Shadow = shadow
	r.RuleErrors = ruleErrs
	return r, err
}

// splitShadow separates shadow matches from live ones, allocating only when a shadow rule matched.
func splitShadow(matched []Match) (live, shadow []Match) {
	n := 0
	for _, m := range matched {
		if m.Shadow {
			n++
		}
	}
	if n == 0 {
		return matched, nil
	}
	live = make([]Match, 0, len(matched)-n)
	shadow = make([]Match, 0, n)
	for _, m := range matched {
		if m.Shadow {
			shadow = append(shadow, m)
		} else {
			live = append(live, m)
		}
	}
	return live, shadow
}
