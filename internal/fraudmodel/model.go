// Package model trains, stores and serves the fraud model: a logistic
// regression over a fixed, documented transform of the engine's features
// (Features), fitted with gonum on labelled feature snapshots, versioned in
// the models table, and — once activated — supplying mlScore to the fusion on
// every instance through a Registry.
package fraudmodel

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/domain"
)

// MaxContributions is how many contributions Explain returns.
const MaxContributions = 5

// Scorer is a stored model ready to score. It is immutable, so one Scorer
// serves every request at once.
type Scorer struct {
	rec      *domain.Model
	features []*Feature
}

// Load checks a stored model and prepares it for scoring. A model naming a
// feature this build does not know, or with mismatched or non-finite
// parameters, is refused rather than scoring nonsense.
func Load(rec *domain.Model) (*Scorer, error) {
	if rec.Algorithm != domain.ModelLogisticRegression {
		return nil, fmt.Errorf("model %s: unknown algorithm %q", rec.VersionName(), rec.Algorithm)
	}
	n := len(rec.FeatureNames)
	if n == 0 || len(rec.Coefficients) != n || len(rec.Means) != n || len(rec.Stds) != n {
		return nil, fmt.Errorf("model %s: %d features, %d coefficients, %d means, %d stds",
			rec.VersionName(), n, len(rec.Coefficients), len(rec.Means), len(rec.Stds))
	}
	if !finite(rec.Intercept) {
		return nil, fmt.Errorf("model %s: intercept is not finite", rec.VersionName())
	}
	s := &Scorer{rec: rec, features: make([]*Feature, n)}
	for i, name := range rec.FeatureNames {
		f, ok := featureByName[name]
		if !ok {
			return nil, fmt.Errorf("model %s: unknown feature %q", rec.VersionName(), name)
		}
		if !finite(rec.Coefficients[i]) || !finite(rec.Means[i]) || !finite(rec.Stds[i]) || rec.Stds[i] <= 0 {
			return nil, fmt.Errorf("model %s: feature %q has invalid parameters", rec.VersionName(), name)
		}
		s.features[i] = f
	}
	return s, nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Model returns the stored model. Callers must not modify it.
func (s *Scorer) Model() *domain.Model { return s.rec }

// Engine returns s as the engine's model, or a nil interface when s is nil:
// engine.Score skips the model only for a nil interface, and would call a
// typed nil pointer. With no active model, scoring is then exactly rules only.
func (s *Scorer) Engine() engine.Scorer {
	if s == nil {
		return nil
	}
	return s
}

// Probability is the model's probability that f is fraud.
func (s *Scorer) Probability(f *engine.Features) float64 {
	z := s.rec.Intercept
	for i, feat := range s.features {
		z += s.rec.Coefficients[i] * s.standardise(i, feat.value(f))
	}
	return sigmoid(z)
}

// Score returns 100 × Probability, rounded to 2 decimals as detections store
// it, so the reason text and the stored mlScore agree. It never fails.
func (s *Scorer) Score(_ context.Context, f *engine.Features) (float64, error) {
	return math.Round(s.Probability(f)*10000) / 100, nil
}

// Explain returns the model's version name and the features that pushed f's
// score most, by |contribution| descending (ties in feature order), at most
// MaxContributions and none that contributed nothing.
func (s *Scorer) Explain(f *engine.Features) (string, []domain.ModelContribution) {
	all := make([]domain.ModelContribution, 0, len(s.features))
	for i, feat := range s.features {
		v := feat.value(f)
		c := s.rec.Coefficients[i] * s.standardise(i, v)
		if c != 0 {
			all = append(all, domain.ModelContribution{Feature: feat.Name, Value: v, Contribution: c})
		}
	}
	slices.SortStableFunc(all, func(a, b domain.ModelContribution) int {
		return cmp.Compare(math.Abs(b.Contribution), math.Abs(a.Contribution))
	})
	return s.rec.VersionName(), all[:min(len(all), MaxContributions)]
}

func (s *Scorer) standardise(i int, v float64) float64 {
	return (v - s.rec.Means[i]) / s.rec.Stds[i]
}

// sigmoid is 1/(1+e^−z), computed without overflowing for large |z|.
func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}
