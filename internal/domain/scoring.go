package domain

import (
	"encoding/json"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
)

// RiskLevel grades a score: LOW 0–39, MEDIUM 40–79, HIGH ≥ 80 by default.
type RiskLevel string

// The risk levels, in increasing order.
const (
	RiskLow    RiskLevel = "LOW"
	RiskMedium RiskLevel = "MEDIUM"
	RiskHigh   RiskLevel = "HIGH"
)

// Rank orders levels so "at least MEDIUM" is a comparison.
func (l RiskLevel) Rank() int {
	switch l {
	case RiskMedium:
		return 1
	case RiskHigh:
		return 2
	}
	return 0
}

// Decision is what the payment system should do with a transaction.
type Decision string

// The decisions.
const (
	DecisionPass   Decision = "PASS"
	DecisionReview Decision = "REVIEW"
	DecisionReject Decision = "REJECT"
)

// TransactionStatus follows from the decision.
type TransactionStatus string

// The transaction statuses.
const (
	TxApproved      TransactionStatus = "APPROVED"
	TxPendingReview TransactionStatus = "PENDING_REVIEW"
	TxDeclined      TransactionStatus = "DECLINED"
)

// RuleAction says what a matching rule does.
type RuleAction string

// The rule actions.
const (
	// RuleScoreAction adds the rule's score.
	RuleScoreAction RuleAction = "SCORE"
	// RuleReject rejects the transaction outright.
	RuleReject RuleAction = "REJECT"
	// RuleReview adds the rule's score and holds the transaction for review
	// whatever the model says.
	RuleReview RuleAction = "REVIEW"
)

// RuleScope is what a rule scores.
type RuleScope string

// Rule scopes.
const (
	ScopeTransaction RuleScope = "TRANSACTION"
	ScopeLogin       RuleScope = "LOGIN"
)

// RiskEventKind is what a risk event is about: a transaction or a login.
type RiskEventKind string

// Risk event kinds.
const (
	EventTransaction RiskEventKind = "TRANSACTION"
	EventLogin       RiskEventKind = "LOGIN"
)

// Rule is an editable, versioned detection rule.
type Rule struct {
	bun.BaseModel `bun:"table:rules,alias:r"`

	ID int64 `bun:"id,pk,autoincrement"`
	// Code is the caller's handle for the rule (e.g. R001), unique when set.
	Code        *string `bun:"code"`
	Name        string  `bun:"name"`
	Description string  `bun:"description"`
	// Condition is what the author wrote: an expression or a seed-004 JSON document.
	Condition string `bun:"condition"`
	// Expression is the condition as the engine compiles it.
	Expression string `bun:"expression"`
	Score      int    `bun:"score"`
	Priority   int    `bun:"priority"`
	Type       string `bun:"type"`
	// Scope is what the rule scores: payments or logins.
	Scope   RuleScope  `bun:"scope,nullzero,notnull,default:'TRANSACTION'"`
	Action  RuleAction `bun:"action"`
	Enabled bool       `bun:"enabled"`
	// Shadow rules are evaluated and recorded on every detection but never scored.
	Shadow    bool       `bun:"shadow"`
	Version   int        `bun:"version"`
	Builtin   bool       `bun:"builtin"`
	HitCount  int64      `bun:"hit_count"`
	LastHitAt *time.Time `bun:"last_hit_at"`
	CreatedBy *int64     `bun:"created_by"`
	UpdatedBy *int64     `bun:"updated_by"`
	CreatedAt time.Time  `bun:"created_at,nullzero,notnull,default:current_timestamp"`
	UpdatedAt time.Time  `bun:"updated_at,nullzero,notnull,default:current_timestamp"`
}

// RuleVersion is a rule as it was at one version.
type RuleVersion struct {
	bun.BaseModel `bun:"table:rule_versions,alias:rv"`

	RuleID      int64      `bun:"rule_id,pk"`
	Version     int        `bun:"version,pk"`
	Name        string     `bun:"name"`
	Description string     `bun:"description"`
	Condition   string     `bun:"condition"`
	Expression  string     `bun:"expression"`
	Score       int        `bun:"score"`
	Priority    int        `bun:"priority"`
	Type        string     `bun:"type"`
	Scope       RuleScope  `bun:"scope,nullzero,notnull,default:'TRANSACTION'"`
	Action      RuleAction `bun:"action"`
	Enabled     bool       `bun:"enabled"`
	Shadow      bool       `bun:"shadow"`
	CreatedBy   *int64     `bun:"created_by"`
	CreatedAt   time.Time  `bun:"created_at,nullzero,notnull,default:current_timestamp"`
}

// Transaction is one submitted payment.
type Transaction struct {
	bun.BaseModel `bun:"table:transactions,alias:t"`

	ID                int64           `bun:"id,pk,autoincrement"`
	UserID            int64           `bun:"user_id"`
	Amount            decimal.Decimal `bun:"amount,type:numeric"`
	Currency          string          `bun:"currency"`
	MerchantID        *string         `bun:"merchant_id"`
	MerchantCategory  *string         `bun:"merchant_category"`
	Channel           *string         `bun:"channel"`
	DeviceID          *int64          `bun:"device_id"`
	DeviceFingerprint *string         `bun:"device_fingerprint"`
	IPAddress         *string         `bun:"ip_address"`
	// IPPrefix is the database's generated /24 or /48 of IPAddress (the IP
	// features group by it); read only, so whole-row scans find a field for it.
	IPPrefix    *string           `bun:"ip_prefix,scanonly"`
	Latitude    *float64          `bun:"latitude"`
	Longitude   *float64          `bun:"longitude"`
	Country     *string           `bun:"country"`
	City        *string           `bun:"city"`
	Status      TransactionStatus `bun:"status"`
	SubmittedBy int64             `bun:"submitted_by"`
	SourceID    *int64            `bun:"source_id"`
	OccurredAt  time.Time         `bun:"occurred_at"`
	CreatedAt   time.Time         `bun:"created_at,nullzero,notnull,default:current_timestamp"`
	// DeviceFirstSeenAt and UserCreatedAt are the device's first sighting and
	// the user's creation as recorded with the transaction (the merchant
	// features read them); read only, NULL on rows written before.
	DeviceFirstSeenAt *time.Time `bun:"device_first_seen_at,scanonly"`
	UserCreatedAt     *time.Time `bun:"user_created_at,scanonly"`
	// ReviewedByID and ReviewedAt record who settled a held transaction and
	// when; ReviewedAt without ReviewedByID is the review deadline's doing.
	ReviewedByID *int64     `bun:"reviewed_by"`
	ReviewedAt   *time.Time `bun:"reviewed_at"`
}

// Location is where the transaction came from, if the client said.
func (t *Transaction) Location() *Location {
	return locationOf(t.Latitude, t.Longitude, t.Country, t.City)
}

// MatchedRule is a rule that fired in a detection, as it was at that version.
type MatchedRule struct {
	RuleID  int64      `json:"ruleId"`
	Name    string     `json:"name"`
	Version int        `json:"version"`
	Score   int        `json:"score"`
	Type    string     `json:"type"`
	Action  RuleAction `json:"action"`
	Reason  string     `json:"reason"`
}

// Detection is the scoring engine's verdict on one transaction.
type Detection struct {
	bun.BaseModel `bun:"table:detections,alias:dt"`

	TransactionID int64     `bun:"transaction_id,pk"`
	UserID        int64     `bun:"user_id"`
	RiskScore     float64   `bun:"risk_score"`
	RiskLevel     RiskLevel `bun:"risk_level"`
	Decision      Decision  `bun:"decision"`
	RuleScore     int       `bun:"rule_score"`
	MLScore       *float64  `bun:"ml_score"`
	ModelVersion  *string   `bun:"model_version"`
	// ModelContributions explain the model score: its top features, when a model scored.
	ModelContributions []ModelContribution `bun:"model_contributions,type:jsonb,nullzero"`
	Reason             string              `bun:"reason"`
	MatchedRules       []MatchedRule       `bun:"matched_rules,type:jsonb"`
	// ShadowRules matched but were not scored.
	ShadowRules   []MatchedRule   `bun:"shadow_rules,type:jsonb,nullzero,notnull,default:'[]'"`
	Features      json.RawMessage `bun:"features,type:jsonb"`
	LatencyMicros int             `bun:"latency_us"`
	CreatedAt     time.Time       `bun:"created_at,nullzero,notnull,default:current_timestamp"`
}

// EventStatus is where a risk event is in its workflow.
type EventStatus string

// The event statuses.
const (
	EventOpen           EventStatus = "OPEN"
	EventInvestigating  EventStatus = "INVESTIGATING"
	EventConfirmedFraud EventStatus = "CONFIRMED_FRAUD"
	EventFalsePositive  EventStatus = "FALSE_POSITIVE"
	EventEscalated      EventStatus = "ESCALATED"
	EventClosed         EventStatus = "CLOSED"
)

// RiskEvent is a case opened by a MEDIUM or HIGH detection.
type RiskEvent struct {
	bun.BaseModel `bun:"table:risk_events,alias:ev"`

	ID     int64         `bun:"id,pk,autoincrement"`
	UserID int64         `bun:"user_id"`
	Kind   RiskEventKind `bun:"kind,nullzero,notnull,default:'TRANSACTION'"`
	// TransactionID is 0 (NULL) for a LOGIN event, LoginLogID nil for a TRANSACTION one.
	TransactionID int64       `bun:"transaction_id,nullzero"`
	LoginLogID    *int64      `bun:"login_log_id"`
	Type          string      `bun:"type"`
	Level         RiskLevel   `bun:"level"`
	Status        EventStatus `bun:"status"`
	RiskScore     float64     `bun:"risk_score"`
	Title         string      `bun:"title"`
	Description   string      `bun:"description"`
	AssigneeID    *int64      `bun:"assignee_id"`
	Version       int         `bun:"version,nullzero,notnull,default:1"`
	CreatedAt     time.Time   `bun:"created_at,nullzero,notnull,default:current_timestamp"`
	UpdatedAt     time.Time   `bun:"updated_at,nullzero,notnull,default:current_timestamp"`
	HandledAt     *time.Time  `bun:"handled_at"`
	ClosedAt      *time.Time  `bun:"closed_at"`
}

// TimelineEntry is one step in a risk event's history.
type TimelineEntry struct {
	bun.BaseModel `bun:"table:event_timeline,alias:tl"`

	ID         int64           `bun:"id,pk,autoincrement"`
	EventID    int64           `bun:"event_id"`
	Kind       string          `bun:"kind"`
	Action     string          `bun:"action"`
	ActorID    *int64          `bun:"actor_id"`
	FromStatus *string         `bun:"from_status"`
	ToStatus   *string         `bun:"to_status"`
	Note       string          `bun:"note"`
	Details    json.RawMessage `bun:"details,type:jsonb"`
	CreatedAt  time.Time       `bun:"created_at,nullzero,notnull,default:current_timestamp"`
}

// Timeline entry kinds.
const (
	TimelineDetection = "DETECTION"
	TimelineAlert     = "ALERT"
	TimelineAction    = "ACTION"
	// TimelineTransaction is a held transaction settled: reviewed, by a verdict or by the deadline.
	TimelineTransaction = "TRANSACTION"
)

// AlertStatus is where an alert is in its handling.
type AlertStatus string

// The alert statuses.
const (
	AlertNew          AlertStatus = "NEW"
	AlertAcknowledged AlertStatus = "ACKNOWLEDGED"
	AlertResolved     AlertStatus = "RESOLVED"
	AlertDismissed    AlertStatus = "DISMISSED"
)

// Alert notifies analysts of a risk event.
type Alert struct {
	bun.BaseModel `bun:"table:alerts,alias:a"`

	ID            int64       `bun:"id,pk,autoincrement" json:"id"`
	EventID       int64       `bun:"event_id" json:"eventId"`
	UserID        int64       `bun:"user_id" json:"userId"`
	TransactionID int64       `bun:"transaction_id,nullzero" json:"transactionId,omitempty"` // 0 for a login's alert
	Level         RiskLevel   `bun:"level" json:"level"`
	Status        AlertStatus `bun:"status" json:"status"`
	Title         string      `bun:"title" json:"title"`
	Message       string      `bun:"message" json:"message"`
	HandledByID   *int64      `bun:"handled_by" json:"handledBy,omitempty"`
	HandledAt     *time.Time  `bun:"handled_at" json:"handledAt,omitempty"`
	HandleNote    *string     `bun:"handle_note" json:"handleNote,omitempty"`
	CreatedAt     time.Time   `bun:"created_at,nullzero,notnull,default:current_timestamp" json:"createdAt"`
}

// Label is ground truth about a transaction.
type Label string

// The labels.
const (
	LabelFraud      Label = "FRAUD"
	LabelLegitimate Label = "LEGITIMATE"
)

// TransactionLabel is the current label of a transaction and where it came from.
type TransactionLabel struct {
	bun.BaseModel `bun:"table:transaction_labels,alias:tlb"`

	UserID        int64     `bun:"user_id,pk"`
	TransactionID int64     `bun:"transaction_id,pk"`
	Label         Label     `bun:"label"`
	Source        string    `bun:"source"`
	Note          string    `bun:"note"`
	LabelledByID  *int64    `bun:"labelled_by"`
	CreatedAt     time.Time `bun:"created_at,nullzero,notnull,default:current_timestamp"`
	UpdatedAt     time.Time `bun:"updated_at,nullzero,notnull,default:current_timestamp"`
}
