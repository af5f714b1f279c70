package fraudmodel

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/uptrace/bun"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/stat"

	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// Bounds and settings of training.
const (
	// DefaultPeriod is how far back training looks when From is not given.
	DefaultPeriod = 30 * 24 * time.Hour
	MaxPeriod     = 366 * 24 * time.Hour
	// MaxRows caps the labelled transactions one training reads (the newest).
	MaxRows = 200_000
	// MinLabelled and MinPerClass are the fewest labels training accepts: with
	// at least MinPerClass of each class the held-out fifth holds at least one
	// of each, so recall and AUC are defined.
	MinLabelled = 20
	MinPerClass = 5
	// HeldOutFraction of each class is held out from fitting to measure the model.
	HeldOutFraction = 0.2
	// DefaultL2 keeps coefficients finite when the labels are separable.
	DefaultL2 = 0.01
	// Threshold is the probability from which the held-out metrics count a
	// transaction as predicted fraud.
	Threshold = 0.5
)

// splitStream is the second PCG word: fixed, so the seed alone decides the split.
const splitStream = 0x6d6f64656c // "model"

// TrainOptions selects the labelled data and tunes the fit.
type TrainOptions struct {
	// From and To bound when the labelled transactions occurred: [From, To).
	// A zero To is now; a zero From is DefaultPeriod before To.
	From, To time.Time
	// Seed shuffles the train/held-out split: the same labels and seed give
	// the same model.
	Seed uint64
	// L2 is the regularisation strength; 0 means DefaultL2.
	L2 float64
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
	switch {
	case !o.From.Before(o.To):
		return o, apperr.Invalid("to", "must be after from")
	case o.To.Sub(o.From) > MaxPeriod:
		return o, apperr.Invalid("to", "the period may span at most 366 days")
	case o.L2 < 0 || math.IsNaN(o.L2) || math.IsInf(o.L2, 0):
		return o, apperr.Invalid("l2", "must be a non-negative number")
	case o.L2 == 0:
		o.L2 = DefaultL2
	}
	return o, nil
}

// example is one labelled transaction.
type example struct {
	features *engine.Features
	fraud    bool
}

// Train fits a logistic regression on the labelled feature snapshots of
// transactions that occurred in the period (FRAUD = 1, LEGITIMATE = 0),
// measures it on a held-out fifth of each class, and stores it as the next
// version, inactive. It refuses (BAD_USER_INPUT) too few labels or a single
// class.
// now is the clock's reading, the end of the default period.
func Train(ctx context.Context, db *bun.DB, opts TrainOptions, now time.Time) (*domain.Model, error) {
	opts, err := opts.normalize(now)
	if err != nil {
		return nil, err
	}
	fraud, legit, truncated, err := loadExamples(ctx, db, opts.From, opts.To)
	if err != nil {
		return nil, err
	}
	if n := len(fraud) + len(legit); n < MinLabelled {
		return nil, apperr.Invalid("from", fmt.Sprintf("the period holds %d labelled transactions; training needs at least %d", n, MinLabelled))
	}
	if len(fraud) < MinPerClass || len(legit) < MinPerClass {
		return nil, apperr.Invalid("from", fmt.Sprintf("the period holds %d FRAUD and %d LEGITIMATE labels; training needs at least %d of each",
			len(fraud), len(legit), MinPerClass))
	}
	train, heldOut := split(fraud, legit, opts.Seed)

	rec := &domain.Model{Algorithm: domain.ModelLogisticRegression, TrainedBy: opts.TrainedBy}
	x := matrix(train)
	rec.FeatureNames, rec.Means, rec.Stds = standardise(x)
	theta, res, err := fit(x, train, opts.L2)
	if err != nil {
		return nil, err
	}
	rec.Intercept, rec.Coefficients = theta[0], theta[1:]

	// Measure through the serving path, so the metrics describe the stored model.
	s, err := Load(rec)
	if err != nil {
		return nil, fmt.Errorf("model: trained model does not load: %w", err)
	}
	rec.Metrics = evaluate(s, heldOut)
	rec.Metrics.From, rec.Metrics.To, rec.Metrics.Seed, rec.Metrics.L2 = opts.From, opts.To, opts.Seed, opts.L2
	rec.Metrics.Truncated = truncated
	rec.Metrics.Train = splitOf(train)
	rec.Metrics.Iterations, rec.Metrics.Optimizer = res.MajorIterations, res.Status.String()

	err = store.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if err := store.LockModels(ctx, tx); err != nil {
			return err
		}
		if rec.Version, err = store.NextModelVersion(ctx, tx); err != nil {
			return err
		}
		if err := store.InsertModel(ctx, tx, rec); err != nil {
			return err
		}
		details := map[string]any{"version": rec.Version, "metrics": rec.Metrics}
		return store.Audit(ctx, tx, opts.TrainedBy, "model.trained", "model", strconv.FormatInt(rec.ID, 10), details, auth.ClientIP(ctx))
	})
	if err != nil {
		return nil, fmt.Errorf("model: store trained model: %w", err)
	}
	return rec, nil
}

// loadExamples reads the labelled snapshots in load order (newest first), split by class.
func loadExamples(ctx context.Context, db bun.IDB, from, to time.Time) (fraud, legit []example, truncated bool, err error) {
	truncated, err = store.EachLabelledDetection(ctx, db, from, to, MaxRows, func(row *store.LabelledRow) error {
		f, err := engine.ParseSnapshot(row.Features)
		if err != nil {
			return fmt.Errorf("model: transaction %d: %w", row.TransactionID, err)
		}
		switch row.Label {
		case domain.LabelFraud:
			fraud = append(fraud, example{features: f, fraud: true})
		case domain.LabelLegitimate:
			legit = append(legit, example{features: f})
		}
		return nil
	})
	return fraud, legit, truncated, err
}

// split shuffles each class by seed and holds out HeldOutFraction of each:
// stratifying keeps both classes in the held-out set however rare fraud is.
func split(fraud, legit []example, seed uint64) (train, heldOut []example) {
	rng := rand.New(rand.NewPCG(seed, splitStream))
	for _, class := range [][]example{fraud, legit} {
		shuffled := make([]example, len(class))
		copy(shuffled, class)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		k := int(math.Round(HeldOutFraction * float64(len(shuffled))))
		heldOut = append(heldOut, shuffled[:k]...)
		train = append(train, shuffled[k:]...)
	}
	return train, heldOut
}

// matrix lays the examples' model features out as rows.
func matrix(examples []example) *mat.Dense {
	x := mat.NewDense(len(examples), len(Features), nil)
	for i, e := range examples {
		for j := range Features {
			x.Set(i, j, Features[j].value(e.features))
		}
	}
	return x
}

// standardise rescales each column of x to mean 0 and standard deviation 1
// in place and returns the names and moments it used, which the model keeps
// to rescale at scoring time. A column constant in training gets std 1: it
// then carries no signal, and its coefficient stays 0 under L2.
func standardise(x *mat.Dense) (names []string, means, stds []float64) {
	rows, cols := x.Dims()
	names, means, stds = make([]string, cols), make([]float64, cols), make([]float64, cols)
	col := make([]float64, rows)
	for j := range cols {
		names[j] = Features[j].Name
		mat.Col(col, j, x)
		means[j], stds[j] = stat.MeanStdDev(col, nil)
		if !(stds[j] > 0) {
			stds[j] = 1
		}
		for i := range rows {
			x.Set(i, j, (col[i]-means[j])/stds[j])
		}
	}
	return names, means, stds
}

// fit minimises the class-balanced mean log loss plus (l2/2)·‖β‖² over
// θ = (intercept, β) with gonum's L-BFGS. Balancing matters because labels
// are rare and sampled by analysts: unweighted, the fit would learn the label
// base rate and almost never cross Threshold. The intercept is not
// regularised, so standardised features start from the weighted base rate.
func fit(x *mat.Dense, examples []example, l2 float64) ([]float64, *optimize.Result, error) {
	n, d := x.Dims()
	var nFraud float64
	for _, e := range examples {
		if e.fraud {
			nFraud++
		}
	}
	y, w := make([]float64, n), make([]float64, n)
	for i, e := range examples {
		// Each class carries half the total weight; the weights sum to 1.
		w[i] = 1 / (2 * (float64(n) - nFraud))
		if e.fraud {
			y[i], w[i] = 1, 1/(2*nFraud)
		}
	}
	z := mat.NewVecDense(n, nil)
	resid := mat.NewVecDense(n, nil)
	// logits sets z = intercept + X·β.
	logits := func(theta []float64) {
		z.MulVec(x, mat.NewVecDense(d, theta[1:]))
		for i := range n {
			z.SetVec(i, z.AtVec(i)+theta[0])
		}
	}
	problem := optimize.Problem{
		Func: func(theta []float64) float64 {
			logits(theta)
			var loss float64
			for i := range n {
				zi := z.AtVec(i)
				loss += w[i] * (softplus(zi) - y[i]*zi)
			}
			beta := mat.NewVecDense(d, theta[1:])
			return loss + l2/2*mat.Dot(beta, beta)
		},
		Grad: func(grad, theta []float64) {
			logits(theta)
			var g0 float64
			for i := range n {
				r := w[i] * (sigmoid(z.AtVec(i)) - y[i])
				resid.SetVec(i, r)
				g0 += r
			}
			grad[0] = g0
			gBeta := mat.NewVecDense(d, grad[1:])
			gBeta.MulVec(x.T(), resid)
			gBeta.AddScaledVec(gBeta, l2, mat.NewVecDense(d, theta[1:]))
		},
	}
	settings := &optimize.Settings{GradientThreshold: 1e-8, MajorIterations: 1000}
	res, err := optimize.Minimize(problem, make([]float64, d+1), settings, &optimize.LBFGS{})
	if err != nil {
		return nil, nil, fmt.Errorf("model: fit: %w", err)
	}
	for _, v := range res.X {
		if !finite(v) {
			return nil, nil, fmt.Errorf("model: fit diverged (%v)", res.Status)
		}
	}
	return res.X, res, nil
}

// softplus is log(1 + e^z), computed without overflowing for large |z|.
func softplus(z float64) float64 {
	if z > 0 {
		return z + math.Log1p(math.Exp(-z))
	}
	return math.Log1p(math.Exp(z))
}

func splitOf(examples []example) domain.ModelSplit {
	s := domain.ModelSplit{Rows: len(examples)}
	for _, e := range examples {
		if e.fraud {
			s.Fraud++
		}
	}
	s.Legitimate = s.Rows - s.Fraud
	return s
}

// evaluate scores the held-out examples with s and reports the confusion
// counts at Threshold, precision, recall and AUC.
func evaluate(s *Scorer, heldOut []example) domain.ModelMetrics {
	m := domain.ModelMetrics{HeldOut: splitOf(heldOut), Threshold: Threshold}
	p := make([]float64, len(heldOut))
	fraud := make([]bool, len(heldOut))
	for i, e := range heldOut {
		p[i], fraud[i] = s.Probability(e.features), e.fraud
		switch predicted := p[i] >= Threshold; {
		case predicted && e.fraud:
			m.TruePositives++
		case predicted:
			m.FalsePositives++
		case e.fraud:
			m.FalseNegatives++
		default:
			m.TrueNegatives++
		}
	}
	if flagged := m.TruePositives + m.FalsePositives; flagged > 0 {
		precision := float64(m.TruePositives) / float64(flagged)
		m.Precision = &precision
	}
	m.Recall = float64(m.TruePositives) / float64(m.TruePositives+m.FalseNegatives)
	m.AUC = auc(p, fraud)
	return m
}

// auc is the area under the ROC curve of scores p for labels fraud: the
// share of (fraud, legitimate) pairs the scores order correctly, ties
// counting half (the Mann–Whitney U over n₊·n₋). The pairs are counted in
// integers, so a perfect ranking gives exactly 1; the trapezoid over
// stat.ROC's float rates can give 0.9999999999999999. It sorts p and fraud.
// Both classes must be present.
func auc(p []float64, fraud []bool) float64 {
	stat.SortWeightedLabeled(p, fraud, nil)
	var legitBelow, nFraud, nLegit, twiceU int64
	for i := 0; i < len(p); {
		// One group of equal scores: its frauds beat every legitimate score
		// below and tie with the legitimate ones in the group.
		var gFraud, gLegit int64
		j := i
		for ; j < len(p) && p[j] == p[i]; j++ {
			if fraud[j] {
				gFraud++
			} else {
				gLegit++
			}
		}
		twiceU += 2*gFraud*legitBelow + gFraud*gLegit
		legitBelow += gLegit
		nFraud += gFraud
		nLegit += gLegit
		i = j
	}
	return float64(twiceU) / float64(2*nFraud*nLegit)
}
