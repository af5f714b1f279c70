// Package backtest replays a draft rule over stored history — the feature
// snapshots every detection kept — without changing anything, so an analyst
// sees what it would catch and what it would cost before publishing it.
package backtest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// Bounds of one backtest. A draft condition may be costly on every row (the
// engine bounds one evaluation, not a replay of many), so a replay also stops
// after MaxDuration, and only Slots run at once across every instance.
const (
	MaxRows     = 500_000
	MaxSpan     = 366 * 24 * time.Hour
	MaxDuration = 5 * time.Second
	Slots       = 2
	maxSamples  = 20
)

// errBusy answers a backtest while every place is taken.
var errBusy = &apperr.Error{Code: apperr.RateLimited, Message: "other backtests are running; retry shortly", RetryAfter: MaxDuration}

// errOutOfTime stops a replay at MaxDuration.
var errOutOfTime = errors.New("backtest: out of time")

// Input is a draft rule and the period to replay it over.
type Input struct {
	Condition string
	Score     int
	From, To  time.Time
}

// Result is what the draft would have done.
type Result struct {
	Expression string
	Evaluated  int
	Hits       int
	HitRate    float64
	// LabelledFraud and LabelledLegitimate count the labelled transactions in the period.
	LabelledFraud      int
	LabelledLegitimate int
	FraudCaught        int
	LegitimateHit      int
	Precision          *float64 // of labelled hits, nil when no hit is labelled
	Recall             *float64 // of labelled fraud, nil when none is labelled
	// AddedFlagged are hits that were LOW and would reach MEDIUM with the rule's score.
	AddedFlagged       int
	AddedFlaggedVolume decimal.Decimal
	SampleHits         []int64
	// Truncated is set when the period held more than MaxRows detections, or
	// the replay ran out of time (MaxDuration) before the end of the period.
	Truncated bool
}

// Service runs backtests.
type Service struct {
	db  *bun.DB
	cfg engine.Config
}

// New returns a backtest service scoring with cfg's thresholds.
func New(db *bun.DB, cfg engine.Config) *Service { return &Service{db: db, cfg: cfg} }

// Run replays in.Condition over the detections of transactions in [From, To).
func (s *Service) Run(ctx context.Context, in Input) (*Result, error) {
	switch {
	case in.Score < 0 || in.Score > 100:
		return nil, apperr.Invalid("score", "must be between 0 and 100")
	case !in.From.Before(in.To):
		return nil, apperr.Invalid("to", "must be after from")
	case in.To.Sub(in.From) > MaxSpan:
		return nil, apperr.Invalid("to", "the period may span at most 366 days")
	}
	cond, err := engine.CompileCondition(in.Condition)
	if err != nil {
		return nil, apperr.Invalid("condition", err.Error())
	}
	release, ok, err := store.TryJobSlot(ctx, s.db, store.JobBacktest, Slots)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errBusy
	}
	defer release()
	deadline := time.Now().Add(MaxDuration)
	res := &Result{Expression: cond.String(), AddedFlaggedVolume: decimal.Zero, SampleHits: []int64{}}
	res.Truncated, err = store.EachDetection(ctx, s.db, in.From, in.To, MaxRows, func(row *store.HistoryRow) error {
		if time.Now().After(deadline) {
			return errOutOfTime
		}
		f, err := engine.ParseSnapshot(row.Features)
		if err != nil {
			return fmt.Errorf("backtest: transaction %d: %w", row.TransactionID, err)
		}
		res.Evaluated++
		fraud, legit := row.Label == string(domain.LabelFraud), row.Label == string(domain.LabelLegitimate)
		if fraud {
			res.LabelledFraud++
		}
		if legit {
			res.LabelledLegitimate++
		}
		if hit, _ := cond.Eval(f); !hit {
			return nil // a condition that errors on a row counts as no match, as in live scoring
		}
		res.Hits++
		if fraud {
			res.FraudCaught++
		}
		if legit {
			res.LegitimateHit++
		}
		if row.RiskScore < s.cfg.MediumAt && min(row.RiskScore+float64(in.Score), 100) >= s.cfg.MediumAt {
			res.AddedFlagged++
			res.AddedFlaggedVolume = res.AddedFlaggedVolume.Add(row.Amount)
		}
		if len(res.SampleHits) < maxSamples {
			res.SampleHits = append(res.SampleHits, row.TransactionID)
		}
		return nil
	})
	if errors.Is(err, errOutOfTime) {
		res.Truncated, err = true, nil
	}
	if err != nil {
		return nil, err
	}
	if res.Evaluated > 0 {
		res.HitRate = float64(res.Hits) / float64(res.Evaluated)
	}
	if labelled := res.FraudCaught + res.LegitimateHit; labelled > 0 {
		p := float64(res.FraudCaught) / float64(labelled)
		res.Precision = &p
	}
	if res.LabelledFraud > 0 {
		r := float64(res.FraudCaught) / float64(res.LabelledFraud)
		res.Recall = &r
	}
	return res, nil
}
