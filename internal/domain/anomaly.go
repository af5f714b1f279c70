package domain

import (
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// AnomalySegmentBy names the feature that splits traffic into segments, each
// with an isolation forest of its own.
type AnomalySegmentBy string

// The segmentations.
const (
	AnomalySegmentNone             AnomalySegmentBy = "NONE"
	AnomalySegmentChannel          AnomalySegmentBy = "CHANNEL"
	AnomalySegmentMerchantCategory AnomalySegmentBy = "MERCHANT_CATEGORY"
)

// AnomalyModel is a trained anomaly model: isolation forests over recent
// traffic's feature snapshots, one per segment plus a global one for
// segments too small to have their own. Like Model it never changes after
// training except for its activation; at most one is active, and that one
// supplies anomalyScore to rules and the fraud model.
type AnomalyModel struct {
	bun.BaseModel `bun:"table:anomaly_models,alias:anm"`

	ID int64 `bun:"id,pk,autoincrement"`
	// Version increases by one with every anomaly model trained.
	Version   int              `bun:"version"`
	SegmentBy AnomalySegmentBy `bun:"segment_by"`
	// FeatureNames are the forest's inputs, in column order.
	FeatureNames []string `bun:"feature_names,array"`
	// Forests holds the encoded forests: the global one, then one per
	// Metrics.Segments entry, in that order.
	Forests     []byte         `bun:"forests"`
	Metrics     AnomalyMetrics `bun:"metrics,type:jsonb"`
	Active      bool           `bun:"active"`
	TrainedBy   *int64         `bun:"trained_by"`
	ActivatedBy *int64         `bun:"activated_by"`
	ActivatedAt *time.Time     `bun:"activated_at"`
	CreatedAt   time.Time      `bun:"created_at,nullzero,notnull,default:current_timestamp"`
}

// VersionName names the version, e.g. "v3".
func (m *AnomalyModel) VersionName() string { return "v" + strconv.Itoa(m.Version) }

// AnomalyMetrics records how an anomaly model was trained.
type AnomalyMetrics struct {
	// From and To bound when the transactions trained on occurred: [From, To).
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	Seed uint64    `json:"seed"`
	// Trees and SampleSize are each forest's tree count and subsample (ψ).
	Trees      int `json:"trees"`
	SampleSize int `json:"sampleSize"`
	// MinSegmentRows is the fewest rows a segment needed for a forest of its own.
	MinSegmentRows int `json:"minSegmentRows"`
	// Rows counts the snapshots read; Truncated is set when the period held
	// more (the newest were used).
	Rows      int  `json:"rows"`
	Truncated bool `json:"truncated"`
	// Global describes the forest over all rows, which scores every segment
	// without one of its own.
	Global   AnomalySegment   `json:"global"`
	Segments []AnomalySegment `json:"segments"`
}

// AnomalySegment describes one forest: its segment value (lower case; "" for
// the global forest), the rows it was trained on, and the median and 99th
// percentile of its scores on them, to set rule thresholds by.
type AnomalySegment struct {
	Name string  `json:"name"`
	Rows int     `json:"rows"`
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
}
