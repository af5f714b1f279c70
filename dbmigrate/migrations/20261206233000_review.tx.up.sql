-- Manual review of held payments: who settled a PENDING_REVIEW transaction
-- and when (reviewed_by null with reviewed_at set: the review deadline did).
ALTER TABLE transactions
    ADD COLUMN reviewed_by bigint REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN reviewed_at timestamptz;
-- The review queue (oldest first) and the deadline sweep read only held rows.
CREATE INDEX transactions_pending_review_idx ON transactions (created_at, id) WHERE status = 'PENDING_REVIEW';
