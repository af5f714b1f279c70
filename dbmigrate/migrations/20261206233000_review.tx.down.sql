DROP INDEX IF EXISTS transactions_pending_review_idx;
ALTER TABLE transactions DROP COLUMN IF EXISTS reviewed_at, DROP COLUMN IF EXISTS reviewed_by;
