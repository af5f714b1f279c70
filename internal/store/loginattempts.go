package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// accountWide is the client key of an account's own row: its failures from every address.
const accountWide = "*"

// Backoff is how password checks are paced; docs/SECURITY.md "Lockout design" explains it.
type Backoff struct {
	// FreeFailures is how many attempts an (account, address) pair gets before it waits.
	FreeFailures int
	// Base is the first wait; each further attempt doubles it up to Max.
	Base, Max time.Duration
	// SlowAfter account-wide failures in a row, addresses that never logged in to the
	// account get no free attempts and wait up to SlowMax.
	SlowAfter int
	SlowMax   time.Duration
	// Familiar is how long a successful login keeps its address exempt from the slowdown.
	Familiar time.Duration
}

// Admission is the outcome of asking to check a password.
type Admission struct {
	Admitted bool
	// RetryAfter is how long a refused pair must wait.
	RetryAfter time.Duration
}

// AdmitLoginAttempt charges one attempt to (account, client) before the
// password is checked, in one statement: concurrent attempts serialize on the
// row, so no more than the allowed number are ever admitted. An attempt
// arriving while the pair waits is refused and not charged.
func AdmitLoginAttempt(ctx context.Context, db bun.IDB, account, client string, b Backoff, now time.Time) (Admission, error) {
	// wait(n, free, max): none before the free attempts are used, then Base·2^k up to max.
	wait := func(n, free, limit string) string {
		return fmt.Sprintf(`CASE WHEN %[1]s >= %[2]s THEN ?2::timestamptz + LEAST(%[3]s, ?3 * power(2, LEAST(%[1]s - %[2]s, 40))) * interval '1 second' END`, n, free, limit)
	}
	// An unfamiliar address on an account under attack has one free attempt and the longer limit.
	const slowed = "(SELECT under_attack FROM acct)"
	const familiar = "COALESCE(a.last_success_at > ?7::timestamptz, false)"
	blockNew := fmt.Sprintf("CASE WHEN %s THEN %s ELSE %s END", slowed, wait("1", "1", "?6"), wait("1", "?4", "?5"))
	blockOld := fmt.Sprintf("CASE WHEN %s AND NOT %s THEN %s ELSE %s END", slowed, familiar,
		wait("a.failures + 1", "1", "?6"), wait("a.failures + 1", "?4", "?5"))
	var charged int
	err := db.NewRaw(`WITH acct AS (
			SELECT COALESCE(max(failures), 0) >= ?8 AS under_attack FROM login_attempts WHERE account = ?0 AND client = '`+accountWide+`'
		)
		INSERT INTO login_attempts AS a (account, client, failures, blocked_until, last_attempt_at)
		VALUES (?0, ?1, 1, `+blockNew+`, ?2)
		ON CONFLICT (account, client) DO UPDATE SET
			failures = a.failures + 1,
			blocked_until = `+blockOld+`,
			last_attempt_at = EXCLUDED.last_attempt_at
		WHERE a.blocked_until IS NULL OR a.blocked_until <= EXCLUDED.last_attempt_at
		RETURNING failures`,
		account, client, now, b.Base.Seconds(), b.FreeFailures, b.Max.Seconds(), b.SlowMax.Seconds(),
		now.Add(-b.Familiar), b.SlowAfter).Scan(ctx, &charged)
	switch {
	case err == nil:
		return Admission{Admitted: true}, nil
	case !errors.Is(err, sql.ErrNoRows):
		return Admission{}, mapErr(err)
	}
	var until time.Time
	err = db.NewRaw(`SELECT blocked_until FROM login_attempts WHERE account = ? AND client = ?`, account, client).Scan(ctx, &until)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Admission{}, mapErr(err)
	}
	return Admission{RetryAfter: max(until.Sub(now), time.Second)}, nil
}

// RefundLoginAttempt takes back a charge whose password was never checked.
// The pair's wait, if the charge started one, stays: a refund never shortens a wait.
func RefundLoginAttempt(ctx context.Context, db bun.IDB, account, client string) error {
	_, err := db.NewRaw(`UPDATE login_attempts SET failures = failures - 1 WHERE account = ? AND client = ? AND failures > 0`,
		account, client).Exec(ctx)
	return mapErr(err)
}

// RecordLoginFailure counts a failed check against the whole account.
func RecordLoginFailure(ctx context.Context, db bun.IDB, account string, now time.Time) error {
	_, err := db.NewRaw(`INSERT INTO login_attempts AS a (account, client, failures, last_attempt_at)
		VALUES (?, '`+accountWide+`', 1, ?)
		ON CONFLICT (account, client) DO UPDATE SET failures = a.failures + 1, last_attempt_at = EXCLUDED.last_attempt_at`,
		account, now).Exec(ctx)
	return mapErr(err)
}

// RecordLoginSuccess clears the pair's and the account's failures and marks the address familiar.
func RecordLoginSuccess(ctx context.Context, db bun.IDB, account, client string, now time.Time) error {
	_, err := db.NewRaw(`INSERT INTO login_attempts AS a (account, client, failures, last_attempt_at, last_success_at)
		VALUES (?0, ?1, 0, ?2, ?2)
		ON CONFLICT (account, client) DO UPDATE SET failures = 0, blocked_until = NULL,
			last_attempt_at = EXCLUDED.last_attempt_at, last_success_at = EXCLUDED.last_success_at`,
		account, client, now).Exec(ctx)
	if err != nil {
		return mapErr(err)
	}
	_, err = db.NewRaw(`UPDATE login_attempts SET failures = 0 WHERE account = ? AND client = '`+accountWide+`' AND failures <> 0`,
		account).Exec(ctx)
	return mapErr(err)
}

// SweepLoginAttempts forgets pairs idle since before idleSince that logged in
// successfully before familiarSince (or never), bounding the table.
func SweepLoginAttempts(ctx context.Context, db bun.IDB, idleSince, familiarSince time.Time) error {
	_, err := db.NewRaw(`DELETE FROM login_attempts WHERE last_attempt_at < ?
		AND (last_success_at IS NULL OR last_success_at < ?)`, idleSince, familiarSince).Exec(ctx)
	return mapErr(err)
}

// ClearLoginAttempts forgets an account's failed logins from every address.
func ClearLoginAttempts(ctx context.Context, db bun.IDB, account string) error {
	_, err := db.NewRaw(`DELETE FROM login_attempts WHERE account = ?`, account).Exec(ctx)
	return mapErr(err)
}
