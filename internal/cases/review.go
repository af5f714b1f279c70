package cases

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/access"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// ReviewInput is an analyst's decision on a transaction held for review.
type ReviewInput struct {
	Decision domain.ReviewDecision
	Note     string
}

// reviewStatus is where each decision leaves a held transaction.
var reviewStatus = map[domain.ReviewDecision]domain.TransactionStatus{
	domain.ReviewApprove: domain.TxApproved,
	domain.ReviewDecline: domain.TxDeclined,
}

// The timeline actions of a settled transaction.
const (
	actionReview         = "REVIEW"
	actionReviewDeadline = "REVIEW_DEADLINE"
)

// ReviewTransaction approves or declines a PENDING_REVIEW transaction, once:
// a second review, or a review of one not held, answers CONFLICT.
func (s *Service) ReviewTransaction(ctx context.Context, p auth.Principal, id int64, in ReviewInput) (*domain.Transaction, error) {
	if !access.Review(p) {
		return nil, apperr.ErrForbidden
	}
	to, ok := reviewStatus[in.Decision]
	if !ok {
		return nil, apperr.Invalid("decision", "must be APPROVE or DECLINE")
	}
	if len(in.Note) > maxNoteLen {
		return nil, apperr.Invalid("note", "must be at most 2000 characters")
	}
	var t *domain.Transaction
	err := store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var settled bool
		var err error
		if t, settled, err = store.SettleHeld(ctx, tx, id, to, &p.UserID, s.now()); err != nil {
			return err
		}
		if !settled {
			current, err := store.TransactionByID(ctx, tx, id)
			if err != nil {
				return err
			}
			return apperr.New(apperr.Conflict, fmt.Sprintf("the transaction is %s, not PENDING_REVIEW: it was settled already", current.Status))
		}
		return recordSettled(ctx, tx, &p.UserID, t, actionReview, in.Note, map[string]any{"decision": in.Decision}, auth.ClientIP(ctx))
	})
	return t, err
}

// recordSettled puts a settled transaction on its event's timeline (when it
// opened one) and in the audit log.
func recordSettled(ctx context.Context, tx bun.IDB, actor *int64, t *domain.Transaction, action, note string, details map[string]any, ip string) error {
	eventID, err := store.RiskEventIDByTransaction(ctx, tx, t.ID)
	if err != nil {
		return err
	}
	details["transactionId"] = t.ID
	if eventID != nil {
		raw, err := json.Marshal(details)
		if err != nil {
			return err
		}
		from, to := string(domain.TxPendingReview), string(t.Status)
		if err := store.InsertTimeline(ctx, tx, &domain.TimelineEntry{EventID: *eventID, Kind: domain.TimelineTransaction, Action: action,
			ActorID: actor, FromStatus: &from, ToStatus: &to, Note: note, Details: raw, CreatedAt: *t.ReviewedAt}); err != nil {
			return err
		}
	}
	details["from"], details["to"] = domain.TxPendingReview, t.Status
	if note != "" {
		details["note"] = note
	}
	return store.Audit(ctx, tx, actor, "transaction."+strings.ToLower(action), "transaction", strconv.FormatInt(t.ID, 10), details, ip)
}

// ReviewDeadline settles transactions nobody reviewed in time; a zero
// Timeout turns it off.
type ReviewDeadline struct {
	Timeout time.Duration
	Action  domain.ReviewDecision
}

// sweepBatch is how many held transactions one database transaction of the sweep settles.
const sweepBatch = 100

// SweepOverdueReviews settles, as the system, every transaction held for
// review longer than the deadline's timeout. One instance sweeps at a time:
// each batch holds an advisory lock for its database transaction, and ran is
// false when another instance held it.
func (s *Service) SweepOverdueReviews(ctx context.Context, d ReviewDeadline) (settled int, ran bool, err error) {
	to, ok := reviewStatus[d.Action]
	if !ok || d.Timeout <= 0 {
		return 0, false, fmt.Errorf("review deadline: want a positive timeout and APPROVE or DECLINE, got %s and %q", d.Timeout, d.Action)
	}
	cutoff := s.now().Add(-d.Timeout)
	note := fmt.Sprintf("settled by the review deadline: held longer than %s", d.Timeout)
	for {
		var batch int
		var locked, more bool
		err := store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
			var err error
			if locked, err = store.TryJobXactLock(ctx, tx, store.JobReviewDeadline); err != nil || !locked {
				return err
			}
			ids, err := store.OverdueHeld(ctx, tx, cutoff, sweepBatch)
			if err != nil {
				return err
			}
			more = len(ids) == sweepBatch
			for _, id := range ids {
				t, ok, err := store.SettleHeld(ctx, tx, id, to, nil, s.now())
				if err != nil {
					return err
				}
				if !ok {
					continue // reviewed meanwhile
				}
				batch++
				details := map[string]any{"decision": d.Action, "timeout": d.Timeout.String()}
				if err := recordSettled(ctx, tx, nil, t, actionReviewDeadline, note, details, ""); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || !locked {
			return settled, ran, err
		}
		settled, ran = settled+batch, true
		if !more {
			return settled, ran, nil
		}
	}
}

// RunReviewDeadline sweeps until ctx ends, every tenth of the timeout (at
// most a minute), so a held transaction outlives its deadline by that at most.
func (s *Service) RunReviewDeadline(ctx context.Context, d ReviewDeadline, log *slog.Logger) {
	tick := time.NewTicker(min(d.Timeout/10, time.Minute))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n, _, err := s.SweepOverdueReviews(ctx, d)
		switch {
		case err != nil && ctx.Err() == nil:
			log.ErrorContext(ctx, "review deadline sweep", "err", err)
		case n > 0:
			log.InfoContext(ctx, "review deadline settled held transactions", "count", n, "decision", d.Action)
		}
	}
}
