// Package analysis answers investigators' questions about a user or a risk
// event: who is linked to whom through shared devices and IP addresses, how
// risky a user looks overall, and what to do about an event.
package analysis

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// MaxRelated bounds how many related users one lookup returns.
const MaxRelated = 100

// maxDepth is the deepest link walk allowed: beyond three hops nearly everyone
// is linked to everyone through shared public IPs.
const maxDepth = 3

// Service runs the analyses.
type Service struct {
	db  *bun.DB
	now func() time.Time
}

// New returns an analysis service reading db; now is the clock profile windows end at.
func New(db *bun.DB, now func() time.Time) *Service { return &Service{db: db, now: now} }

// RelatedUsers returns the users linked to userID through shared devices or IP
// addresses within depth hops, nearest first (depth, then user ID), at most
// MaxRelated. Each carries the evidence of the hop that reached it: every
// device and IP it shares with the user before it on its shortest path.
func (s *Service) RelatedUsers(ctx context.Context, userID int64, depth int) ([]*domain.RelatedUser, error) {
	if depth < 1 || depth > maxDepth {
		return nil, apperr.Invalid("depth", "must be between 1 and 3")
	}
	rows, err := store.LinkedUsers(ctx, s.db, userID, depth, MaxRelated)
	if err != nil {
		return nil, err
	}
	out := []*domain.RelatedUser{}
	for _, r := range rows {
		// Rows come grouped by user, so a new user starts a new entry.
		if len(out) == 0 || out[len(out)-1].UserID != r.UserID {
			out = append(out, &domain.RelatedUser{UserID: r.UserID, Depth: r.Depth})
		}
		ru := out[len(out)-1]
		ru.Evidence = append(ru.Evidence, &domain.LinkEvidence{
			Kind: r.Kind, Value: r.Value, DeviceID: r.DeviceID,
			FromUserID: r.ParentID, ToUserID: r.UserID,
			FirstSeenAt: r.FirstSeenAt, LastSeenAt: r.LastSeenAt,
		})
	}
	return out, nil
}
