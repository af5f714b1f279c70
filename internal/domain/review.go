package domain

// ReviewDecision settles a transaction held for manual review.
type ReviewDecision string

// The review decisions.
const (
	ReviewApprove ReviewDecision = "APPROVE"
	ReviewDecline ReviewDecision = "DECLINE"
)
