// Package account holds the use cases of identities: registration, login,
// sessions, passwords, user administration and devices, with their object-level checks.
package account

import (
	"context"
	"errors"
	"log/slog"
	"net/mail"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/credcache"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// Service runs account use cases.
type Service struct {
	db      *bun.DB
	tokens  *auth.Tokens
	now     func() time.Time
	log     *slog.Logger
	policy  Policy
	backoff store.Backoff
	hasher  *auth.Hasher
	// dummyHash keeps unknown-user logins as slow as wrong-password ones.
	dummyHash string
	// lastSweep is when idle login attempts were last forgotten (Unix nanoseconds).
	lastSweep atomic.Int64
	sessions  *credcache.Cache[uuid.UUID, store.SessionState]
	loginRisk LoginRisk
}

// Throttle limits attempts per key (the client's address).
type Throttle interface {
	Allow(key string) (bool, time.Duration)
}

// Policy is how accounts defend themselves; docs/SECURITY.md "Lockout design".
type Policy struct {
	// FreeFailures is how many wrong passwords one address may try against one
	// account before it waits; the waits double up to MaxBackoff.
	FreeFailures int
	MaxBackoff   time.Duration
	// SlowAfter failures in a row on an account (from any address), addresses
	// that never logged in to it get one free attempt and waits up to 8 × MaxBackoff.
	SlowAfter int
	// HashConcurrency caps argon2id hashes running at once, service-wide.
	HashConcurrency int
	// LoginThrottle and RegisterThrottle limit attempts per client address; nil allows all.
	LoginThrottle    Throttle
	RegisterThrottle Throttle
	// SessionCacheTTL is how long a session's state may be served from memory
	// (see package credcache); 0 checks the database on every request.
	SessionCacheTTL time.Duration
}

// New returns an account service.
// maxCachedSessions bounds the session cache; past it, it starts over.
const maxCachedSessions = 100_000

func New(db *bun.DB, tokens *auth.Tokens, now func() time.Time, log *slog.Logger, policy Policy) (*Service, error) {
	dummy, err := auth.HashPassword("not a real password, only burns time")
	if err != nil {
		return nil, err
	}
	backoff := store.Backoff{FreeFailures: max(policy.FreeFailures, 1), Base: backoffBase, Max: policy.MaxBackoff,
		SlowAfter: max(policy.SlowAfter, 1), SlowMax: slowMaxFactor * policy.MaxBackoff, Familiar: familiarFor}
	return &Service{db: db, tokens: tokens, now: now, log: log, policy: policy, backoff: backoff,
		hasher: auth.NewHasher(policy.HashConcurrency), dummyHash: dummy, sessions: credcache.New[uuid.UUID, store.SessionState](policy.SessionCacheTTL, maxCachedSessions)}, nil
}

// throttle refuses an attempt from an address that has made too many.
func throttle(ctx context.Context, t Throttle, what string) error {
	if t == nil {
		return nil
	}
	if ok, wait := t.Allow(auth.ClientIP(ctx)); !ok {
		return &apperr.Error{Code: apperr.RateLimited, Message: "too many " + what + " attempts from your address; retry later", RetryAfter: wait}
	}
	return nil
}

// AuthPayload is what register, login and refresh return.
type AuthPayload struct {
	AccessToken  string
	RefreshToken string
	ExpiresAt    time.Time
	User         *domain.User
}

var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9_.\-]{3,64}$`)

func validateUsername(name string) error {
	if !usernamePattern.MatchString(name) {
		return apperr.Invalid("username", "must be 3 to 64 letters, digits, '.', '_' or '-'")
	}
	return nil
}

func validateEmail(email string) error {
	if email == "" {
		return nil
	}
	if len(email) > 254 {
		return apperr.Invalid("email", "is too long")
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email {
		return apperr.Invalid("email", "is not a valid address")
	}
	return nil
}

func validatePassword(field, password string) error {
	if err := auth.ValidateNewPassword(password); err != nil {
		return apperr.Invalid(field, err.Error())
	}
	return nil
}

// NewUser is an account to create.
type NewUser struct {
	Username string
	Password string
	Email    string
	Role     domain.Role
}

// prepareUser validates a new account and hashes its password, outside any
// transaction: waiting for a hashing slot must not hold a connection.
// skipPolicy skips the password policy; only demo data may use it.
func (s *Service) prepareUser(ctx context.Context, in NewUser, skipPolicy bool) (*domain.User, error) {
	in.Username = strings.TrimSpace(in.Username)
	in.Email = strings.TrimSpace(in.Email)
	if !skipPolicy {
		if err := validateUsername(in.Username); err != nil {
			return nil, err
		}
		if err := validateEmail(in.Email); err != nil {
			return nil, err
		}
		if err := validatePassword("password", in.Password); err != nil {
			return nil, err
		}
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, hashFailure(err)
	}
	return &domain.User{Username: in.Username, Email: in.Email, PasswordHash: hash, Role: in.Role, Status: domain.UserActive}, nil
}

// insertUser stores a prepared user.
func insertUser(ctx context.Context, db bun.IDB, u *domain.User) error {
	if err := store.InsertUser(ctx, db, u); err != nil {
		if apperr.CodeOf(err) == apperr.Conflict {
			return apperr.New(apperr.Conflict, "username is already taken")
		}
		return err
	}
	return nil
}

func actor(p auth.Principal) *int64 {
	id := p.UserID
	return &id
}

// EnsureUser creates the user unless the username exists; it reports whether it created one.
// Demo accounts skip the password policy (seed 000's "123456"); nothing else may.
func (s *Service) EnsureUser(ctx context.Context, in NewUser, skipPolicy bool) (bool, error) {
	_, err := store.UserByUsername(ctx, s.db, in.Username)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, apperr.ErrNotFound) {
		return false, err
	}
	u, err := s.prepareUser(ctx, in, skipPolicy)
	if err != nil {
		return false, err
	}
	if err := insertUser(ctx, s.db, u); err != nil {
		if apperr.CodeOf(err) == apperr.Conflict {
			return false, nil // another instance created it first
		}
		return false, err
	}
	return true, nil
}

// BootstrapAdmin creates the first ADMIN when none exists.
func (s *Service) BootstrapAdmin(ctx context.Context, username, password string) (bool, error) {
	exists, err := store.AdminExists(ctx, s.db)
	if err != nil || exists {
		return false, err
	}
	return s.EnsureUser(ctx, NewUser{Username: username, Password: password, Role: domain.RoleAdmin}, false)
}
