package anomaly

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/iforest"
	"github.com/smartfinance/riskgraph/internal/store"
)

// Defaults and bounds of training; TrainOptions overrides the defaults.
const (
	// DefaultPeriod is how far back training looks when From is not given:
	// recent traffic, so the model follows what is normal now.
	DefaultPeriod = 7 * 24 * time.Hour
	MaxPeriod     = 90 * 24 * time.Hour
	// DefaultMaxRows caps the snapshots read (the newest); forests subsample
	// SampleSize of them per tree, so more mostly sharpens segment counts.
	DefaultMaxRows = 50_000
	MaxRows        = 500_000
	// MinRows is the fewest snapshots training accepts.
	MinRows = 20
	// DefaultSegmentBy is the segmentation training uses unless told: none,
	// which ranked simulated fraud best (README, "Anomaly score").
	DefaultSegmentBy = domain.AnomalySegmentNone
	// DefaultMinSegmentRows is the fewest rows a segment needs for a forest
	// of its own; smaller segments are scored by the global forest.
	DefaultMinSegmentRows = 1000
	// MaxSegments caps the forests per model (the largest segments win), so
	// a free-text category cannot make thousands.
	MaxSegments = 32
	MaxTrees    = 1000
	MaxSample   = 4096
)

// TrainOptions selects the traffic and tunes the forests; zero values take defaults.
type TrainOptions struct {
	// From and To bound when the transactions occurred: [From, To). A zero
	// To is now; a zero From is DefaultPeriod before To.
	From, To       time.Time
	SegmentBy      domain.AnomalySegmentBy
	MaxRows        int
	Trees          int
	SampleSize     int
	MinSegmentRows int
	// Seed makes training deterministic: the same rows and seed give the same model.
	Seed uint64
	// TrainedBy is the acting user, recorded and audited.
	TrainedBy *int64
}

func (o TrainOptions) normalize(now time.Time) (TrainOptions, error) {
	if o.To.IsZero() {
		o.To = now
	}
	if o.From.IsZero() {
		o.From = o.To.Add(-DefaultPeriod)
	}
	o.From, o.To = o.From.UTC(), o.To.UTC()
	o.SegmentBy = cmp.Or(o.SegmentBy, DefaultSegmentBy)
	o.MaxRows = cmp.Or(o.MaxRows, DefaultMaxRows)
	o.Trees = cmp.Or(o.Trees, iforest.DefaultTrees)
	o.SampleSize = cmp.Or(o.SampleSize, iforest.DefaultSampleSize)
	o.MinSegmentRows = cmp.Or(o.MinSegmentRows, DefaultMinSegmentRows)
	switch {
	case !o.From.Before(o.To):
		return o, apperr.Invalid("to", "must be after from")
	case o.To.Sub(o.From) > MaxPeriod:
		return o, apperr.Invalid("to", "the period may span at most 90 days")
	case !slices.Contains([]domain.AnomalySegmentBy{domain.AnomalySegmentNone, domain.AnomalySegmentChannel, domain.AnomalySegmentMerchantCategory}, o.SegmentBy):
		return o, apperr.Invalid("segmentBy", "must be NONE, CHANNEL or MERCHANT_CATEGORY")
	case o.MaxRows < MinRows || o.MaxRows > MaxRows:
		return o, apperr.Invalid("maxRows", fmt.Sprintf("must be %d to %d", MinRows, MaxRows))
	case o.Trees < 1 || o.Trees > MaxTrees:
		return o, apperr.Invalid("trees", fmt.Sprintf("must be 1 to %d", MaxTrees))
	case o.SampleSize < 2 || o.SampleSize > MaxSample:
		return o, apperr.Invalid("sampleSize", fmt.Sprintf("must be 2 to %d", MaxSample))
	case o.MinSegmentRows < 2:
		return o, apperr.Invalid("minSegmentRows", "must be at least 2")
	}
	return o, nil
}

// Train fits forests on the feature snapshots of transactions that occurred
// in the period and stores them as the next version, inactive. It refuses
// (BAD_USER_INPUT) fewer than MinRows snapshots. now is the clock's reading,
// the end of the default period.
func Train(ctx context.Context, db *bun.DB, opts TrainOptions, now time.Time) (*domain.AnomalyModel, error) {
	opts, err := opts.normalize(now)
	if err != nil {
		return nil, err
	}
	var rows []*engine.Features
	truncated, err := store.EachRecentSnapshot(ctx, db, opts.From, opts.To, opts.MaxRows, func(raw *json.RawMessage) error {
		f, err := engine.ParseSnapshot(*raw)
		if err != nil {
			return fmt.Errorf("anomaly: %w", err)
		}
		rows = append(rows, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(rows) < MinRows {
		return nil, apperr.Invalid("from", fmt.Sprintf("the period holds %d scored transactions; training needs at least %d", len(rows), MinRows))
	}
	rec, _, err := Fit(rows, opts)
	if err != nil {
		return nil, err
	}
	rec.Metrics.From, rec.Metrics.To, rec.Metrics.Truncated = opts.From, opts.To, truncated
	rec.TrainedBy = opts.TrainedBy
	err = store.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if err := store.LockAnomalyModels(ctx, tx); err != nil {
			return err
		}
		if rec.Version, err = store.NextAnomalyModelVersion(ctx, tx); err != nil {
			return err
		}
		if err := store.InsertAnomalyModel(ctx, tx, rec); err != nil {
			return err
		}
		details := map[string]any{"version": rec.Version, "metrics": rec.Metrics}
		return store.Audit(ctx, tx, opts.TrainedBy, "anomalyModel.trained", "anomaly_model", strconv.FormatInt(rec.ID, 10), details, auth.ClientIP(ctx))
	})
	if err != nil {
		return nil, fmt.Errorf("anomaly: store trained model: %w", err)
	}
	return rec, nil
}

// Fit grows the global forest on every row and one forest per segment with
// at least MinSegmentRows rows (the MaxSegments largest), and returns the
// unsaved model and its scorer. rows are feature vectors as snapshots store
// them; opts must be normalized (zero values are not defaults here).
func Fit(rows []*engine.Features, opts TrainOptions) (*domain.AnomalyModel, *Scorer, error) {
	names := make([]string, len(Features))
	for i, f := range Features {
		names[i] = f.Name
	}
	rec := &domain.AnomalyModel{SegmentBy: opts.SegmentBy, FeatureNames: names, Metrics: domain.AnomalyMetrics{
		Seed: opts.Seed, Trees: opts.Trees, SampleSize: opts.SampleSize, MinSegmentRows: opts.MinSegmentRows, Rows: len(rows),
	}}
	bySegment := map[string][]*engine.Features{}
	for _, f := range rows {
		if key := segmentOf(f, opts.SegmentBy); key != "" {
			bySegment[key] = append(bySegment[key], f)
		}
	}
	var segments []string
	for key, fs := range bySegment {
		if len(fs) >= opts.MinSegmentRows {
			segments = append(segments, key)
		}
	}
	// Largest first, ties by name, so the cap and the order are deterministic.
	slices.SortFunc(segments, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(bySegment[b]), len(bySegment[a])), cmp.Compare(a, b))
	})
	segments = segments[:min(len(segments), MaxSegments)]

	forests := make([]*iforest.Forest, 0, 1+len(segments))
	grow := func(name string, fs []*engine.Features, seed uint64) (domain.AnomalySegment, error) {
		x := matrix(fs)
		forest, err := iforest.Train(x, iforest.Options{Trees: opts.Trees, SampleSize: opts.SampleSize, Seed: seed})
		if err != nil {
			return domain.AnomalySegment{}, fmt.Errorf("anomaly: segment %q: %w", name, err)
		}
		forests = append(forests, forest)
		scores := make([]float64, len(x))
		for i, r := range x {
			scores[i] = forest.Score(r)
		}
		slices.Sort(scores)
		return domain.AnomalySegment{Name: name, Rows: len(fs), P50: quantile(scores, 0.5), P99: quantile(scores, 0.99)}, nil
	}
	var err error
	if rec.Metrics.Global, err = grow("", rows, opts.Seed); err != nil {
		return nil, nil, err
	}
	for i, key := range segments {
		// Each forest draws from its own stream of the seed.
		seg, err := grow(key, bySegment[key], opts.Seed+uint64(i+1)*0x9e3779b97f4a7c15)
		if err != nil {
			return nil, nil, err
		}
		rec.Metrics.Segments = append(rec.Metrics.Segments, seg)
	}
	if rec.Forests, err = encodeForests(forests); err != nil {
		return nil, nil, err
	}
	// Through the serving path, so what is stored is what scores.
	s, err := Load(rec)
	if err != nil {
		return nil, nil, fmt.Errorf("anomaly: trained model does not load: %w", err)
	}
	return rec, s, nil
}

// matrix lays the rows' model features out, one slice per row.
func matrix(fs []*engine.Features) [][]float64 {
	x := make([][]float64, len(fs))
	flat := make([]float64, len(fs)*len(Features))
	for i, f := range fs {
		x[i] = flat[i*len(Features) : (i+1)*len(Features)]
		for j := range Features {
			x[i][j] = Features[j].value(f)
		}
	}
	return x
}

// quantile of sorted values (nearest rank), rounded to 4 decimals.
func quantile(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return math.Round(sorted[max(i, 0)]*10000) / 10000
}
