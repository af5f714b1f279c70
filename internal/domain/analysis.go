package domain

import (
	"time"

	"github.com/shopspring/decimal"
)

// LinkKind is what two users share.
type LinkKind string

// The link kinds.
const (
	LinkDevice LinkKind = "DEVICE"
	LinkIP     LinkKind = "IP"
)

// LinkEvidence is one shared device or IP address between two users.
type LinkEvidence struct {
	Kind LinkKind
	// Value is the device fingerprint or the IP address.
	Value    string
	DeviceID *int64
	// FromUserID and ToUserID are the two users the evidence links (one hop).
	FromUserID int64
	ToUserID   int64
	// FirstSeenAt and LastSeenAt bound when the shared use was observed.
	FirstSeenAt time.Time
	LastSeenAt  time.Time
}

// RelatedUser is a user reachable from another through shared devices or IPs.
type RelatedUser struct {
	UserID int64
	// Depth is the number of hops (1 = shares something directly).
	Depth int
	// Evidence is the hop that reached this user.
	Evidence []*LinkEvidence
}

// LevelCount counts detections per risk level.
type LevelCount struct {
	Low, Medium, High int
}

// KeyCount is a count under a label.
type KeyCount struct {
	Key   string
	Count int
}

// WindowStats are a user's transactions over one trailing window.
type WindowStats struct {
	Window string
	Count  int
	Volume decimal.Decimal
}

// ProfileReason explains part of a profile score.
type ProfileReason struct {
	Factor string
	Points int
	Detail string
}

// RiskProfile summarizes a user's risk.
type RiskProfile struct {
	UserID            int64
	Windows           []*WindowStats
	AverageAmount     decimal.Decimal
	MaxAmount         decimal.Decimal
	Detections        LevelCount
	EventsByStatus    []*KeyCount
	ConfirmedFraud    int
	DistinctDevices   int
	DistinctCountries int
	LastLoginLocation *Location
	LastLoginAt       *time.Time
	// Score is 0–100; Reasons add up to it.
	Score   int
	Level   RiskLevel
	Reasons []*ProfileReason
}

// Suggestion is a handling suggestion for a risk event.
type Suggestion struct {
	// Action is what to do, e.g. BLACKLIST_DEVICE, FREEZE_USER, REVIEW_LINKED_USERS, CONTACT_USER, MARK_FALSE_POSITIVE.
	Action   string
	Reason   string
	Priority int
}

// RiskEventStats is the dashboard's summary of events in a period.
type RiskEventStats struct {
	From, To         time.Time
	Total            int
	ByLevel          []*KeyCount
	ByStatus         []*KeyCount
	ByType           []*KeyCount
	Open             int
	Handled          int
	MeanTimeToHandle *float64 // seconds, over events handled in the period
}

// TrendPoint is one bucket of the risk trend.
type TrendPoint struct {
	BucketStart  time.Time
	Transactions int
	Volume       decimal.Decimal
	Low          int
	Medium       int
	High         int
	Pass         int
	Review       int
	Reject       int
	Events       int
	Alerts       int
}

// DatabaseStatus is the database as one instance sees it.
type DatabaseStatus struct {
	Reachable       bool
	LatencyMs       float64
	OpenConnections int
	InUse           int
	Idle            int
	MaxOpen         int
	WaitCount       int64
}

// LatencyPercentiles are in milliseconds over recent submissions on this instance.
type LatencyPercentiles struct {
	Samples       int
	P50, P95, P99 float64
}

// SystemStatus is the health of one instance.
type SystemStatus struct {
	Version                string
	StartedAt              time.Time
	UptimeSeconds          float64
	Database               *DatabaseStatus
	TransactionsLastMinute int
	ScoringLatency         *LatencyPercentiles
	EngineLatency          *LatencyPercentiles
	ActiveSubscriptions    int
	MigrationVersion       string
	RulesLoaded            int
}

// Completeness is the share of transactions missing each optional field.
type Completeness struct {
	Total           int
	MissingDevice   int
	MissingIP       int
	MissingLocation int
	MissingMerchant int
	// Score is the share of all four fields present, 0–1.
	Score float64
}

// SourceFreshness is the age of a source's newest record.
type SourceFreshness struct {
	SourceID   *int64
	SourceName string
	NewestAt   *time.Time
	AgeSeconds *float64
}

// DayVolume is the transaction count of one day.
type DayVolume struct {
	Day   time.Time
	Count int
}

// VolumeAnomaly is a day whose count deviates more than 3σ from the trailing 7-day mean.
type VolumeAnomaly struct {
	Day       time.Time
	Count     int
	Mean      float64
	StdDev    float64
	ZScore    float64
	Direction string // SPIKE or DROP
}

// DataQuality is a data-quality report over a period.
type DataQuality struct {
	SourceID     *int64
	From, To     time.Time
	Completeness *Completeness
	Freshness    []*SourceFreshness
	Volume       []*DayVolume
	Anomalies    []*VolumeAnomaly
}
