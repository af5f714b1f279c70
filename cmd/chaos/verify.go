//go:build linux

package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// integrity is what the database holds for a scenario's submissions.
type integrity struct {
	ackedMissing int // acknowledged transaction ids not in the database
	// Keys sent with more than one transaction (merchant_id carries the key),
	// or with more than one idempotency_keys row.
	duplicated int
	// Acknowledged keys whose transaction or idempotency row is missing or
	// names another transaction than the one acknowledged.
	ackedMismatch int
	// Whole-database invariants of the submit pipeline's single transaction.
	withoutDetection int // transactions without their detection
	withoutEvent     int // MEDIUM/HIGH detections without their risk event
	withoutAlert     int // risk events without their alert
	transactions     int
	mediumHigh       int
}

// checkIntegrity reads the scenario's database directly (not through the server).
func checkIntegrity(ctx context.Context, dbURL string, submitterID string, as []attempt) (integrity, error) {
	var in integrity
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return in, fmt.Errorf("connect to verify: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	caller, err := strconv.ParseInt(submitterID, 10, 64)
	if err != nil {
		return in, fmt.Errorf("submitting account id %q: %w", submitterID, err)
	}
	// One row per key sent, with the transaction id acknowledged for it (0: none).
	ackedID := map[string]int64{}
	var keys []string
	for _, a := range as {
		if _, seen := ackedID[a.key]; !seen {
			keys = append(keys, a.key)
			ackedID[a.key] = 0
		}
		if a.ok() {
			id, err := strconv.ParseInt(a.txID, 10, 64)
			if err != nil {
				return in, fmt.Errorf("acknowledged transaction id %q: %w", a.txID, err)
			}
			ackedID[a.key] = id
		}
	}
	acked := make([]int64, len(keys))
	for i, k := range keys {
		acked[i] = ackedID[k]
	}

	err = conn.QueryRow(ctx, `
WITH k(key, acked) AS (SELECT key, nullif(acked, 0) FROM unnest($1::text[], $2::bigint[]) AS u(key, acked)),
t AS (
    SELECT tr.merchant_id AS key, count(*) AS n, min(tr.id) AS id
    FROM transactions tr JOIN k ON k.key = tr.merchant_id
    GROUP BY tr.merchant_id),
i AS (
    SELECT ik.key, count(*) AS n, min(ik.transaction_id) AS id
    FROM idempotency_keys ik JOIN k ON k.key = ik.key
    WHERE ik.caller_id = $3
    GROUP BY ik.key)
SELECT
    (SELECT count(*) FROM k WHERE acked IS NOT NULL AND NOT EXISTS (SELECT 1 FROM transactions x WHERE x.id = k.acked)),
    count(*) FILTER (WHERE coalesce(t.n, 0) > 1 OR coalesce(i.n, 0) > 1),
    count(*) FILTER (WHERE k.acked IS NOT NULL AND (t.id IS DISTINCT FROM k.acked OR i.id IS DISTINCT FROM k.acked))
FROM k LEFT JOIN t USING (key) LEFT JOIN i USING (key)`,
		keys, acked, caller).Scan(&in.ackedMissing, &in.duplicated, &in.ackedMismatch)
	if err != nil {
		return in, fmt.Errorf("check acknowledged submissions: %w", err)
	}

	err = conn.QueryRow(ctx, `
SELECT
    (SELECT count(*) FROM transactions t LEFT JOIN detections d ON d.transaction_id = t.id WHERE d.transaction_id IS NULL),
    (SELECT count(*) FROM detections d LEFT JOIN risk_events e ON e.transaction_id = d.transaction_id
        WHERE d.risk_level IN ('MEDIUM', 'HIGH') AND e.id IS NULL),
    (SELECT count(*) FROM risk_events e WHERE NOT EXISTS (SELECT 1 FROM alerts a WHERE a.event_id = e.id)),
    (SELECT count(*) FROM transactions),
    (SELECT count(*) FROM detections WHERE risk_level IN ('MEDIUM', 'HIGH'))`).
		Scan(&in.withoutDetection, &in.withoutEvent, &in.withoutAlert, &in.transactions, &in.mediumHigh)
	if err != nil {
		return in, fmt.Errorf("check partial rows: %w", err)
	}
	return in, nil
}

// reportIntegrity turns the database's state into checks; partial reports
// the whole-database invariants too (after a crash).
func reportIntegrity(res *result, in integrity, acked, keys int, partial bool) {
	res.check(in.ackedMissing == 0, "every acknowledged submission is in the database: %d of %d missing", in.ackedMissing, acked)
	res.check(in.duplicated == 0, "one transaction and one idempotency row per key: %d of %d keys duplicated", in.duplicated, keys)
	res.check(in.ackedMismatch == 0, "acknowledged keys map to the acknowledged transaction: %d mismatched", in.ackedMismatch)
	if partial {
		res.check(in.withoutDetection == 0, "no transaction without its detection: %d of %d", in.withoutDetection, in.transactions)
		res.check(in.withoutEvent == 0, "no MEDIUM/HIGH detection without its risk event: %d of %d", in.withoutEvent, in.mediumHigh)
		res.check(in.withoutAlert == 0, "no risk event without its alert: %d", in.withoutAlert)
	}
}
