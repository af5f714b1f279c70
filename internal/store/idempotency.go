package store

// IdempotencyKey ties a caller's key to the transaction it created (table
// idempotency_keys). Submissions read and write it (see Submission).
type IdempotencyKey struct {
	CallerID      int64
	Key           string
	RequestHash   []byte
	UserID        int64
	TransactionID int64
}
