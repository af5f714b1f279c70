package account

import (
	"context"
	"errors"
	"github.com/smartfinance/riskgraph/internal/access"
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

// User loads a user the caller may see; anything else is NOT_FOUND.
func (s *Service) User(ctx context.Context, p auth.Principal, id int64) (*domain.User, error) {
	if !access.SeeUser(p, id) {
		return nil, apperr.ErrNotFound
	}
	return store.UserByID(ctx, s.db, id)
}

// Me loads the caller.
func (s *Service) Me(ctx context.Context, p auth.Principal) (*domain.User, error) {
	return store.UserByID(ctx, s.db, p.UserID)
}

// Users lists users for staff.
func (s *Service) Users(ctx context.Context, f domain.UserFilter, req page.Request) (page.Result[*domain.User], error) {
	return store.ListUsers(ctx, s.db, f, req)
}

// CreateUser lets an admin create an account of a role below its own; further
// admins come from the ADMIN_USERNAME bootstrap, never from another admin.
func (s *Service) CreateUser(ctx context.Context, p auth.Principal, in NewUser) (*domain.User, error) {
	if err := access.ChangeAccount(p, in.Role); err != nil {
		return nil, err
	}
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
	if err := access.ChangeAccount(p, role); err != nil {
		return nil, err
	}
	var u *domain.User
	defer s.sessions.ForgetUser(id) // after the commit: this instance's next request sees the change
	err := store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := lockOutranked(ctx, tx, p, id); err != nil {
			return err
		}
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
	defer s.sessions.ForgetUser(id) // after the commit: this instance's next request sees the change
	err := store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := lockOutranked(ctx, tx, p, id); err != nil {
			return err
		}
		var err error
		u, err = setUserStatus(ctx, tx, actor(p), id, status, reason, s.now())
		return err
	})
	return u, err
}

// lockOutranked locks the user's row and refuses the change unless the caller's role outranks theirs.
func lockOutranked(ctx context.Context, tx bun.IDB, p auth.Principal, id int64) error {
	role, err := store.UserRoleForUpdate(ctx, tx, id)
	if err != nil {
		return err
	}
	return access.ChangeAccount(p, role)
}

// LockCustomer locks a user's row and refuses unless they are a customer:
// case actions (freezing the user, blacklisting their device) reach customers
// only, never staff or service accounts, whoever handles the case.
func LockCustomer(ctx context.Context, tx bun.IDB, id int64) error {
	role, err := store.UserRoleForUpdate(ctx, tx, id)
	if err != nil {
		return err
	}
	if !access.CaseTarget(role) {
		return apperr.New(apperr.Forbidden, "case actions reach customers only, never staff or service accounts")
	}
	return nil
}

// FreezeCustomer freezes the customer of a confirmed fraud.
func FreezeCustomer(ctx context.Context, tx bun.IDB, actorID *int64, id int64, reason string, now time.Time) (*domain.User, error) {
	if err := LockCustomer(ctx, tx, id); err != nil {
		return nil, err
	}
	return setUserStatus(ctx, tx, actorID, id, domain.UserFrozen, reason, now)
}

// setUserStatus changes a status inside the caller's transaction, ending the
// user's sessions when they leave ACTIVE. Callers check who may be changed.
func setUserStatus(ctx context.Context, tx bun.IDB, actorID *int64, id int64, status domain.UserStatus, reason string, now time.Time) (*domain.User, error) {
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

// ResetPassword sets a user's password without the old one, for operators:
// `riskgraph reset-password` and the demo staff accounts' DEMO_PASSWORD. It
// ends every session of the user and clears the account's failed logins, so
// a locked-out owner can log in at once, and records who asked (via) in the
// audit log. It reports false, changing nothing, when the password is already
// the user's.
func (s *Service) ResetPassword(ctx context.Context, username, password, via string) (bool, error) {
	if err := validatePassword("password", password); err != nil {
		return false, err
	}
	u, err := store.UserByUsername(ctx, s.db, username)
	if err != nil {
		if errors.Is(err, apperr.ErrNotFound) {
			return false, apperr.New(apperr.NotFound, "no user named "+strconv.Quote(username))
		}
		return false, err
	}
	release, err := s.hasher.Acquire(ctx)
	if err != nil {
		return false, hashFailure(err)
	}
	same, err := auth.VerifyPassword(password, u.PasswordHash)
	release()
	if err != nil || same {
		return false, err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return false, hashFailure(err)
	}
	defer s.sessions.ForgetUser(u.ID)
	return true, store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := store.UpdatePassword(ctx, tx, u.ID, hash); err != nil {
			return err
		}
		if err := store.RevokeUserSessions(ctx, tx, u.ID, uuid.Nil, s.now()); err != nil {
			return err
		}
		if err := store.ClearLoginAttempts(ctx, tx, accountKey(u.Username)); err != nil {
			return err
		}
		return store.Audit(ctx, tx, nil, "auth.password_reset", "user", idString(u.ID), map[string]string{"via": via}, "")
	})
}
