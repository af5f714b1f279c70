package account

import (
	"context"
	"github.com/smartfinance/riskgraph/internal/domain"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/page"
	"github.com/smartfinance/riskgraph/internal/store"
)

// CanSeeUser is the object-level rule for user data: staff see everyone,
// customers only themselves, service accounts nobody's profile.
func CanSeeUser(p auth.Principal, userID int64) bool {
	return p.Role.Staff() || (p.Role.Customer() && p.UserID == userID)
}

// User loads a user the caller may see; anything else is NOT_FOUND.
func (s *Service) User(ctx context.Context, p auth.Principal, id int64) (*domain.User, error) {
	if !CanSeeUser(p, id) {
		return nil, store.ErrNotFound
	}
	return store.UserByID(ctx, s.db, id)
}

// Me loads the caller.
func (s *Service) Me(ctx context.Context, p auth.Principal) (*domain.User, error) {
	return store.UserByID(ctx, s.db, p.UserID)
}

// Users lists users for staff.
func (s *Service) Users(ctx context.Context, f store.UserFilter, req page.Request) (page.Result[*domain.User], error) {
	return store.ListUsers(ctx, s.db, f, req)
}

// CreateUser lets an admin create an account of any role.
func (s *Service) CreateUser(ctx context.Context, p auth.Principal, in NewUser) (*domain.User, error) {
	u, err := s.prepareUser(ctx, in, false)
	if err != nil {
		return nil, err
	}
	err = store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := insertUser(ctx, tx, u); err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor(p), "user.created", "user", idString(u.ID), map[string]any{"role": u.Role}, auth.ClientIP(ctx))
	})
	return u, err
}

// UpdateUserRole changes a role; admins cannot change their own, so the last admin can't lock everyone out.
func (s *Service) UpdateUserRole(ctx context.Context, p auth.Principal, id int64, role domain.Role) (*domain.User, error) {
	if id == p.UserID {
		return nil, apperr.Invalid("id", "you cannot change your own role")
	}
	var u *domain.User
	err := store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if u, err = store.UpdateUserRole(ctx, tx, id, role); err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor(p), "user.role_changed", "user", idString(id), map[string]any{"role": role}, auth.ClientIP(ctx))
	})
	return u, err
}

// UpdateUserStatus freezes, disables or reactivates a user; leaving ACTIVE ends their sessions.
func (s *Service) UpdateUserStatus(ctx context.Context, p auth.Principal, id int64, status domain.UserStatus, reason string) (*domain.User, error) {
	if id == p.UserID {
		return nil, apperr.Invalid("id", "you cannot change your own status")
	}
	var u *domain.User
	err := store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var err error
		u, err = SetUserStatus(ctx, tx, actor(p), id, status, reason, s.now())
		return err
	})
	return u, err
}

// SetUserStatus changes a status inside the caller's transaction, ending the
// user's sessions when they leave ACTIVE; the case workflow reuses it to freeze fraudsters.
func SetUserStatus(ctx context.Context, tx bun.IDB, actorID *int64, id int64, status domain.UserStatus, reason string, now time.Time) (*domain.User, error) {
	u, err := store.UpdateUserStatus(ctx, tx, id, status)
	if err != nil {
		return nil, err
	}
	if status != domain.UserActive {
		if err := store.RevokeUserSessions(ctx, tx, id, uuid.Nil, now); err != nil {
			return nil, err
		}
	}
	details := map[string]any{"status": status}
	if reason != "" {
		details["reason"] = reason
	}
	return u, store.Audit(ctx, tx, actorID, "user.status_changed", "user", idString(id), details, auth.ClientIP(ctx))
}

func idString(id int64) string { return strconv.FormatInt(id, 10) }
