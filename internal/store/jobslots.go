package store

import (
	"context"
	"database/sql/driver"
	"time"

	"github.com/uptrace/bun"
)

// jobLockSpace is the first key of the advisory locks that count running
// heavy jobs ("RGJB"); the second is the job's kind and slot.
const jobLockSpace = 0x52474a42

// The kinds of heavy jobs, each with its own places.
const (
	JobBacktest = 1
	JobTraining = 2
	// JobReviewDeadline is the review-deadline sweep: one instance at a time (TryJobXactLock).
	JobReviewDeadline = 3
)

// TryJobSlot takes one of slots places for a heavy job of a kind, across every
// instance: a place is a session-level advisory lock held by a connection of
// its own for the job's lifetime, so a crashed instance's places free
// themselves. ok is false when every place is taken. release unlocks before
// it returns (a closing session frees its locks only once its server process
// has exited, a moment later) and then discards the connection, so a lock
// can't linger in the pool even if the unlock failed.
func TryJobSlot(ctx context.Context, db *bun.DB, kind, slots int) (release func(), ok bool, err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, false, mapErr(err)
	}
	release = func() {
		unlockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_, _ = conn.ExecContext(unlockCtx, "SELECT pg_advisory_unlock_all()")
		_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // closes the session, dropping anything left
		_ = conn.Close()
	}
	for slot := range slots {
		var got bool
		if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock(?, ?)", jobLockSpace, kind<<8|slot).Scan(&got); err != nil {
			release()
			return nil, false, mapErr(err)
		}
		if got {
			return release, true, nil
		}
	}
	release()
	return nil, false, nil
}

// TryJobXactLock takes a job kind's single place until tx ends, for jobs that
// work in short database transactions and need no connection of their own
// (so they run even on a one-connection pool). It excludes TryJobSlot's first
// place of the same kind, and ok is false when another session holds it.
func TryJobXactLock(ctx context.Context, tx bun.IDB, kind int) (ok bool, err error) {
	err = tx.NewRaw("SELECT pg_try_advisory_xact_lock(?, ?)", jobLockSpace, kind<<8).Scan(ctx, &ok)
	return ok, mapErr(err)
}
