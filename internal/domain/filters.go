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
