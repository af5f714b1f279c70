package domain

import (
	"time"

	"github.com/shopspring/decimal"
)

// The list filters, shared by the API (gqlgen binds the GraphQL inputs of
// the same names to them) and the store, which applies them.

// AuditLogFilter narrows an audit listing.
type AuditLogFilter struct {
	ActorID    *int64
	Action     string
	TargetType string
	TargetID   string
	From, To   *time.Time
}

// RiskEventFilter narrows an event listing.
type RiskEventFilter struct {
	Status     *EventStatus
	Level      *RiskLevel
	Type       *string
	AssigneeID *int64
	UserID     *int64
	From, To   *time.Time
	// MinScore keeps events whose riskScore is at least this.
	MinScore *float64
}

// AlertFilter narrows an alert listing.
type AlertFilter struct {
	Level    *RiskLevel
	Status   *AlertStatus
	UserID   *int64
	From, To *time.Time
}

// TransactionFilter narrows a transaction listing.
type TransactionFilter struct {
	UserID    *int64
	Decision  *Decision
	RiskLevel *RiskLevel
	From, To  *time.Time
	MinAmount *decimal.Decimal
	MaxAmount *decimal.Decimal
	// DeviceID is our Device.id, not the client's fingerprint.
	DeviceID   *int64
	MerchantID *string
	Status     *TransactionStatus
	// MinScore keeps transactions whose detection's riskScore is at least this.
	MinScore *float64
	// SubmittedBy narrows to one submitter's transactions (a payment system's own).
	SubmittedBy *int64
}

// UserFilter narrows a user listing.
type UserFilter struct {
	Status *UserStatus
	Role   *Role
	// Search matches a substring of username or email.
	Search string
}

// ListOrder orders a transaction or risk-event listing (TransactionOrder and
// RiskEventOrder in the API); the zero value is newest first.
type ListOrder struct {
	Field     OrderField
	Direction OrderDirection
}

// OrderField is what a listing is sorted by; ties are broken by ID.
type OrderField string

// The order fields.
const (
	// OrderCreatedAt is receipt order: IDs are assigned as rows are stored.
	OrderCreatedAt OrderField = "CREATED_AT"
	// OrderScore is the detection's (or the event's) risk score.
	OrderScore OrderField = "SCORE"
	// OrderAmount is the transaction's amount (an event's transaction's).
	OrderAmount OrderField = "AMOUNT"
)

// OrderDirection is ascending or descending.
type OrderDirection string

// The directions.
const (
	Ascending  OrderDirection = "ASC"
	Descending OrderDirection = "DESC"
)

// Normalized fills the defaults: CREATED_AT, DESC.
func (o ListOrder) Normalized() ListOrder {
	if o.Field == "" {
		o.Field = OrderCreatedAt
	}
	if o.Direction == "" {
		o.Direction = Descending
	}
	return o
}

// Tag names the order in cursors: "" for the default (newest first), whose
// cursors predate orders, else FIELD:DIRECTION.
func (o ListOrder) Tag() string {
	n := o.Normalized()
	if n.Field == OrderCreatedAt && n.Direction == Descending {
		return ""
	}
	return string(n.Field) + ":" + string(n.Direction)
}
