package account

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/access"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// RecordLoginInput is a login that happened elsewhere (an identity
// provider) or earlier (a backfill), as a service feeds it.
type RecordLoginInput struct {
	UserID     int64
	OccurredAt *time.Time
	IPAddress  *string
	UserAgent  *string
	// DeviceID is the client's device fingerprint.
	DeviceID *string
	Location *domain.Location
	Success  bool
}

// How far a recorded login may lie from now: as far back as a backfilled
// payment, and no further ahead than clock skew explains.
const (
	maxLoginBackfill  = 30 * 24 * time.Hour
	maxLoginClockSkew = 5 * time.Minute
)

// RecordLogin stores a login without issuing tokens. A successful one is
// scored by the LOGIN rules like an interactive login (a MEDIUM/HIGH one
// opens a LOGIN event and alert) and its location becomes the user's
// previous location as of occurredAt, so the next payment in event time is
// measured from it. The user's row is locked as a payment's submission
// locks it, so the two serialize.
func (s *Service) RecordLogin(ctx context.Context, p auth.Principal, in RecordLoginInput) (*domain.LoginLog, error) {
	if p.Role != domain.RoleService && p.Role != domain.RoleAdmin {
		return nil, apperr.New(apperr.Forbidden, "only service accounts and admins may record logins")
	}
	now := s.now().UTC()
	at := now
	if in.OccurredAt != nil {
		at = in.OccurredAt.UTC()
		switch {
		case at.After(now.Add(maxLoginClockSkew)):
			return nil, apperr.Invalid("occurredAt", "must not be more than 5 minutes in the future")
		case at.Before(now.Add(-maxLoginBackfill)):
			return nil, apperr.Invalid("occurredAt", "must be within the last 30 days")
		}
	}
	if in.Location != nil {
		if err := in.Location.Validate(); err != nil {
			return nil, err
		}
	}
	client := ClientInfo{IPAddress: deref(in.IPAddress), UserAgent: deref(in.UserAgent),
		DeviceFingerprint: deref(in.DeviceID), Location: in.Location}.clean()
	var entry *domain.LoginLog
	var hits []engine.Match
	err := store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		u, err := store.UserByIDForUpdate(ctx, tx, in.UserID)
		if err != nil {
			return err
		}
		// Logins are scored for customers only, as payments are: a case is
		// never opened against staff or service accounts.
		if !access.CaseTarget(u.Role) {
			return apperr.ErrNotFound
		}
		entry = loginLog(u, u.Username, in.Success, nil, client)
		entry.CreatedAt = at
		if in.Success {
			if hits, err = s.storeLogin(ctx, tx, u, entry, at); err != nil {
				return err
			}
		} else {
			reason := "recorded"
			entry.FailureReason = &reason
			if err := store.InsertLoginLog(ctx, tx, entry); err != nil {
				return err
			}
		}
		return store.Audit(ctx, tx, &p.UserID, "auth.login_recorded", "user", idString(u.ID),
			map[string]any{"loginLogId": entry.ID, "success": in.Success, "occurredAt": at}, auth.ClientIP(ctx))
	})
	if err != nil {
		return nil, err
	}
	s.recordLoginHits(hits, at)
	return entry, nil
}
