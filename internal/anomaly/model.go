// Package anomaly trains, stores and serves the anomaly model: isolation
// forests (internal/iforest) over recent traffic's feature snapshots, one per
// segment (channel or merchant category) with a global one for the rest,
// versioned in the anomaly_models table and — once activated — supplying
// anomalyScore to rules and the fraud model on every instance through a
// Registry.
package anomaly

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/iforest"
)

// Scorer is a stored anomaly model ready to score. It is immutable, so one
// Scorer serves every request at once.
type Scorer struct {
	rec      *domain.AnomalyModel
	features []*Feature
	global   *iforest.Forest
	segments map[string]*iforest.Forest
}

// Load checks a stored model and prepares it for scoring. A model naming a
// feature this build does not know, or whose forests do not decode, is
// refused rather than scoring nonsense.
func Load(rec *domain.AnomalyModel) (*Scorer, error) {
	s := &Scorer{rec: rec, features: make([]*Feature, len(rec.FeatureNames)), segments: map[string]*iforest.Forest{}}
	if len(rec.FeatureNames) == 0 {
		return nil, fmt.Errorf("anomaly model %s: no features", rec.VersionName())
	}
	for i, name := range rec.FeatureNames {
		f, ok := featureByName[name]
		if !ok {
			return nil, fmt.Errorf("anomaly model %s: unknown feature %q", rec.VersionName(), name)
		}
		s.features[i] = f
	}
	forests, err := decodeForests(rec.Forests)
	if err != nil {
		return nil, fmt.Errorf("anomaly model %s: %w", rec.VersionName(), err)
	}
	if len(forests) != 1+len(rec.Metrics.Segments) {
		return nil, fmt.Errorf("anomaly model %s: %d forests for %d segments", rec.VersionName(), len(forests), len(rec.Metrics.Segments))
	}
	for _, f := range forests {
		if f.Dims != len(s.features) {
			return nil, fmt.Errorf("anomaly model %s: a forest of %d dims for %d features", rec.VersionName(), f.Dims, len(s.features))
		}
	}
	s.global = forests[0]
	for i, seg := range rec.Metrics.Segments {
		s.segments[seg.Name] = forests[i+1]
	}
	return s, nil
}

// Model returns the stored model. Callers must not modify it.
func (s *Scorer) Model() *domain.AnomalyModel { return s.rec }

// maxStackDims bounds the feature vectors Score keeps on the stack.
const maxStackDims = 64

// Score is f's anomaly score in its segment's forest (the global one when
// its segment has none), rounded to 4 decimals; 0 for a nil Scorer, so
// callers need not check for an active model.
func (s *Scorer) Score(f *engine.Features) float64 {
	if s == nil {
		return 0
	}
	var buf [maxStackDims]float64
	x := buf[:0]
	for _, feat := range s.features {
		x = append(x, feat.value(f))
	}
	forest := s.global
	if key := segmentOf(f, s.rec.SegmentBy); key != "" {
		if seg, ok := s.segments[key]; ok {
			forest = seg
		}
	}
	return math.Round(forest.Score(x)*10000) / 10000
}

// segmentOf is f's segment value under by: lower case, "" for none.
func segmentOf(f *engine.Features, by domain.AnomalySegmentBy) string {
	switch by {
	case domain.AnomalySegmentChannel:
		return strings.ToLower(strings.TrimSpace(f.Channel))
	case domain.AnomalySegmentMerchantCategory:
		return strings.ToLower(strings.TrimSpace(f.MerchantCategory))
	}
	return ""
}

// encodeForests lays forests out as a length-prefixed sequence.
func encodeForests(forests []*iforest.Forest) ([]byte, error) {
	var out []byte
	for _, f := range forests {
		b, err := f.MarshalBinary()
		if err != nil {
			return nil, err
		}
		out = binary.AppendUvarint(out, uint64(len(b)))
		out = append(out, b...)
	}
	return out, nil
}

func decodeForests(b []byte) ([]*iforest.Forest, error) {
	var forests []*iforest.Forest
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, errors.New("corrupt forests")
		}
		f := new(iforest.Forest)
		if err := f.UnmarshalBinary(b[k : k+int(n)]); err != nil {
			return nil, err
		}
		forests = append(forests, f)
		b = b[k+int(n):]
	}
	if len(forests) == 0 {
		return nil, errors.New("no forests")
	}
	return forests, nil
}
