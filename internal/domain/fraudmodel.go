package domain

import (
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// ModelAlgorithm names how a model turns features into a score.
type ModelAlgorithm string

// The algorithms.
const (
	// ModelLogisticRegression scores 100·σ(intercept + Σ coefficient·(x − mean)/std).
	ModelLogisticRegression ModelAlgorithm = "LOGISTIC_REGRESSION"
)

// Model is a trained fraud model, stored versioned. It never changes after
// training except for its activation; at most one model is active, and that
// one supplies mlScore to the fusion.
type Model struct {
	bun.BaseModel `bun:"table:models,alias:mdl"`

	ID int64 `bun:"id,pk,autoincrement"`
	// Version increases by one with every model trained.
	Version   int            `bun:"version"`
	Algorithm ModelAlgorithm `bun:"algorithm"`
	// FeatureNames, Coefficients, Means and Stds line up index by index.
	FeatureNames []string  `bun:"feature_names,array"`
	Coefficients []float64 `bun:"coefficients,array"`
	Intercept    float64   `bun:"intercept"`
	// Means and Stds standardise each feature as the training set did.
	Means       []float64    `bun:"means,array"`
	Stds        []float64    `bun:"stds,array"`
	Metrics     ModelMetrics `bun:"metrics,type:jsonb"`
	Active      bool         `bun:"active"`
	TrainedBy   *int64       `bun:"trained_by"`
	ActivatedBy *int64       `bun:"activated_by"`
	ActivatedAt *time.Time   `bun:"activated_at"`
	CreatedAt   time.Time    `bun:"created_at,nullzero,notnull,default:current_timestamp"`
}

// VersionName is how detections record the model that scored them, e.g. "v3".
func (m *Model) VersionName() string { return "v" + strconv.Itoa(m.Version) }

// ModelMetrics describes how a model was trained and how it did on the
// labelled transactions held out from training.
type ModelMetrics struct {
	// From and To bound when the labelled transactions occurred: [From, To).
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Seed shuffled the train/held-out split.
	Seed uint64 `json:"seed"`
	// L2 is the regularisation strength the fit used.
	L2 float64 `json:"l2"`
	// Truncated is set when the period held more labelled transactions than
	// one training reads; the newest were used.
	Truncated bool       `json:"truncated"`
	Train     ModelSplit `json:"train"`
	HeldOut   ModelSplit `json:"heldOut"`
	// Threshold is the probability from which a held-out transaction counts as
	// predicted fraud (a model score of 100·Threshold).
	Threshold      float64 `json:"threshold"`
	TruePositives  int     `json:"truePositives"`
	FalsePositives int     `json:"falsePositives"`
	TrueNegatives  int     `json:"trueNegatives"`
	FalseNegatives int     `json:"falseNegatives"`
	// Precision is nil when no held-out transaction was predicted fraud.
	Precision *float64 `json:"precision"`
	Recall    float64  `json:"recall"`
	// AUC is the area under the held-out ROC curve: the probability that a
	// fraud scores above a legitimate transaction, ties counting half.
	AUC float64 `json:"auc"`
	// Iterations and Optimizer report the optimiser's major iterations and
	// how it stopped.
	Iterations int    `json:"iterations"`
	Optimizer  string `json:"optimizer"`
}

// ModelSplit counts the labelled transactions in one side of the split.
type ModelSplit struct {
	Rows       int `json:"rows"`
	Fraud      int `json:"fraud"`
	Legitimate int `json:"legitimate"`
}

// ModelContribution is how much one feature pushed a model's score, as
// stored with the detection to explain it.
type ModelContribution struct {
	Feature string `json:"feature"`
	// Value is the feature as the model reads it, before standardising.
	Value float64 `json:"value"`
	// Contribution is coefficient × standardised value: the feature's push on
	// the log-odds of fraud, positive towards fraud.
	Contribution float64 `json:"contribution"`
}
