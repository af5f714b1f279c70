package account

import (
	"context"
	"errors"
	"github.com/smartfinance/riskgraph/internal/domain"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/store"
)

// ClientInfo describes where a login or registration came from.
type ClientInfo struct {
	IPAddress string
	UserAgent string
	// DeviceFingerprint is the client's device ID, if it sent one.
	DeviceFingerprint string
	Location          *domain.Location
}

// errBadCredentials is the one answer to unknown users, wrong passwords and
// inactive accounts alike, whether or not the password was right.
var errBadCredentials = apperr.New(apperr.Unauthenticated, "invalid username or password, or the account is not active")

var errSessionEnded = apperr.New(apperr.Unauthenticated, "session has ended, log in again")

// Register creates a USER account and logs it in.
func (s *Service) Register(ctx context.Context, username, password, email string, client ClientInfo) (*AuthPayload, error) {
	if err := throttle(ctx, s.policy.RegisterThrottle, "registration"); err != nil {
		return nil, err
	}
	client = client.clean()
	u, err := s.prepareUser(ctx, NewUser{Username: username, Password: password, Email: email, Role: domain.RoleUser}, false)
	if err != nil {
		return nil, err
	}
	var payload *AuthPayload
	err = store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := insertUser(ctx, tx, u); err != nil {
			return err
		}
		if err := store.Audit(ctx, tx, &u.ID, "auth.register", "user", idString(u.ID), nil, client.IPAddress); err != nil {
			return err
		}
		payload, err = s.startSession(ctx, tx, u, client)
		return err
	})
	return payload, err
}

// Login checks credentials, records the attempt and starts a session. Every
// attempt, including each alias in one request, goes through checkPassword.
func (s *Service) Login(ctx context.Context, username, password string, client ClientInfo) (*AuthPayload, error) {
	client = client.clean()
	check := &passwordCheck{purpose: purposeLogin, username: username, password: password, client: client,
		lookup: func(ctx context.Context) (*domain.User, error) {
			// A name no account can have is not looked up: it is unknown, whatever bytes it holds.
			name := strings.TrimSpace(username)
			if !usernamePattern.MatchString(name) {
				return nil, nil
			}
			u, err := store.UserByUsername(ctx, s.db, name)
			if errors.Is(err, apperr.ErrNotFound) {
				return nil, nil
			}
			return u, err
		}}
	switch err := s.checkPassword(ctx, check); {
	case errors.Is(err, errWrongPassword):
		return nil, errBadCredentials
	case err != nil:
		return nil, err
	}
	u := check.user

	var payload *AuthPayload
	var hits []engine.Match
	var scoredAt time.Time
	err := store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var err error
		now := s.now()
		entry := loginLog(u, username, true, nil, client)
		entry.CreatedAt = now
		if hits, err = s.storeLogin(ctx, tx, u, entry, now); err != nil {
			return err
		}
		scoredAt = now
		if err := s.recordCheckSuccess(ctx, tx, check); err != nil {
			return err
		}
		if u, err = store.UserByID(ctx, tx, u.ID); err != nil {
			return err
		}
		if err := store.Audit(ctx, tx, &u.ID, "auth.login", "user", idString(u.ID), map[string]any{"deviceId": client.DeviceFingerprint}, client.IPAddress); err != nil {
			return err
		}
		payload, err = s.startSession(ctx, tx, u, client)
		return err
	})
	if err != nil {
		// Inputs are cleaned before the check, so only an outage lands here;
		// it answers like an outage while recording a failure would.
		return nil, unavailable(err)
	}
	s.recordLoginHits(hits, scoredAt)
	return payload, nil
}

// storeLogin records a successful login that happened at: its device (linked
// to the user after scoring, so an unknown device is still unknown to the
// rules), its score by the LOGIN rules, its log entry, the user's last
// location (moved only forward in event time) and, for MEDIUM/HIGH, a LOGIN
// risk event and alert. It returns the rule hits, to be counted after commit.
func (s *Service) storeLogin(ctx context.Context, tx bun.IDB, u *domain.User, entry *domain.LoginLog, at time.Time) ([]engine.Match, error) {
	hits, err := s.scoreLogin(ctx, tx, u, entry, at)
	if err != nil {
		return nil, err
	}
	if fp := entry.DeviceFingerprint; fp != nil {
		d, err := store.UpsertDevice(ctx, tx, *fp, at)
		if err != nil {
			return nil, err
		}
		if err := store.LinkUserDevice(ctx, tx, u.ID, d.ID, at); err != nil {
			return nil, err
		}
		entry.DeviceID = &d.ID
	}
	if err := store.InsertLoginLog(ctx, tx, entry); err != nil {
		return nil, err
	}
	if err := store.RecordLogin(ctx, tx, u.ID, at, entry.Location()); err != nil {
		return nil, err
	}
	if err := s.openLoginEvent(ctx, tx, u, entry); err != nil {
		return nil, err
	}
	return hits, nil
}

func (s *Service) recordLoginHits(hits []engine.Match, at time.Time) {
	if len(hits) > 0 && s.loginRisk.Rules != nil {
		s.loginRisk.Rules.RecordHits(hits, at)
	}
}

func loginLog(u *domain.User, username string, success bool, reason *string, client ClientInfo) *domain.LoginLog {
	l := &domain.LoginLog{Username: cleanText(username, maxUsernameLen), Success: success, FailureReason: reason,
		IPAddress: client.IPAddress, UserAgent: client.UserAgent}
	if u != nil {
		l.UserID = &u.ID
	}
	if client.DeviceFingerprint != "" {
		fp := client.DeviceFingerprint
		l.DeviceFingerprint = &fp
	}
	if loc := client.Location; loc != nil {
		l.Latitude, l.Longitude, l.Country, l.City = &loc.Latitude, &loc.Longitude, loc.Country, loc.City
	}
	return l
}

// startSession opens a session with its first refresh token and signs an access token.
func (s *Service) startSession(ctx context.Context, db bun.IDB, u *domain.User, client ClientInfo) (*AuthPayload, error) {
	now := s.now()
	sess := &domain.Session{ID: uuid.New(), UserID: u.ID, IPAddress: client.IPAddress,
		UserAgent: client.UserAgent, ExpiresAt: now.Add(auth.RefreshTokenTTL)}
	if err := store.InsertSession(ctx, db, sess); err != nil {
		return nil, err
	}
	return s.issue(ctx, db, u, sess)
}

// issue adds a fresh refresh token to the session and signs an access token.
func (s *Service) issue(ctx context.Context, db bun.IDB, u *domain.User, sess *domain.Session) (*AuthPayload, error) {
	refresh, hash, err := auth.NewRefreshToken()
	if err != nil {
		return nil, err
	}
	if err := store.InsertRefreshToken(ctx, db, &domain.RefreshToken{TokenHash: hash, SessionID: sess.ID}); err != nil {
		return nil, err
	}
	access, exp, err := s.tokens.Issue(auth.Principal{UserID: u.ID, Role: u.Role, SessionID: sess.ID}, s.now())
	if err != nil {
		return nil, err
	}
	return &AuthPayload{AccessToken: access, RefreshToken: refresh, ExpiresAt: exp, User: u}, nil
}

// Refresh rotates a refresh token. Presenting one already rotated means it
// was stolen or replayed, so the whole session family is revoked.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (*AuthPayload, error) {
	if refreshToken == "" || len(refreshToken) > 256 {
		return nil, errSessionEnded
	}
	hash := auth.HashRefreshToken(refreshToken)
	var payload *AuthPayload
	var reused bool
	var owner int64
	err := store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		now := s.now()
		tok, sess, err := store.RefreshTokenForUpdate(ctx, tx, hash)
		if errors.Is(err, apperr.ErrNotFound) {
			return errSessionEnded
		}
		if err != nil {
			return err
		}
		if tok.RotatedAt != nil {
			reused, owner = true, sess.UserID
			if err := store.RevokeSession(ctx, tx, sess.ID, now); err != nil {
				return err
			}
			return store.Audit(ctx, tx, &sess.UserID, "auth.refresh_reuse", "session", sess.ID.String(), nil, auth.ClientIP(ctx))
		}
		if sess.RevokedAt != nil || !sess.ExpiresAt.After(now) {
			return errSessionEnded
		}
		u, err := store.UserByID(ctx, tx, sess.UserID)
		if err != nil {
			return err
		}
		if u.Status != domain.UserActive {
			return apperr.New(apperr.Unauthenticated, "account is "+strings.ToLower(string(u.Status)))
		}
		if err := store.MarkRotated(ctx, tx, hash, now); err != nil {
			return err
		}
		if err := store.Audit(ctx, tx, &u.ID, "auth.refresh", "session", sess.ID.String(), nil, auth.ClientIP(ctx)); err != nil {
			return err
		}
		payload, err = s.issue(ctx, tx, u, sess)
		return err
	})
	if reused {
		// The revocation committed; the caller still gets no tokens.
		s.sessions.ForgetUser(owner)
		return nil, errSessionEnded
	}
	return payload, err
}

// Logout ends the session named by refreshToken, else the caller's own session.
func (s *Service) Logout(ctx context.Context, p *auth.Principal, refreshToken *string) error {
	var userID int64
	defer func() { // after the commit, so no request reads the old state back in
		if userID != 0 {
			s.sessions.ForgetUser(userID)
		}
	}()
	return store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		now := s.now()
		var sessionID uuid.UUID
		switch {
		case refreshToken != nil && *refreshToken != "":
			_, sess, err := store.RefreshTokenForUpdate(ctx, tx, auth.HashRefreshToken(*refreshToken))
			if errors.Is(err, apperr.ErrNotFound) {
				return nil // nothing to end; logout is idempotent
			}
			if err != nil {
				return err
			}
			if p != nil && p.UserID != sess.UserID {
				return nil
			}
			sessionID, userID = sess.ID, sess.UserID
		case p != nil && p.APIKeyID != 0:
			return apperr.New(apperr.Forbidden, "an API key has no session to log out of; an admin revokes the key (revokeApiKey)")
		case p != nil:
			sessionID, userID = p.SessionID, p.UserID
		default:
			return apperr.New(apperr.Unauthenticated, "log in or pass the refresh token to log out")
		}
		if err := store.RevokeSession(ctx, tx, sessionID, now); err != nil {
			return err
		}
		return store.Audit(ctx, tx, &userID, "auth.logout", "session", sessionID.String(), nil, auth.ClientIP(ctx))
	})
}

// ChangePassword replaces the caller's password and ends every other session.
// The old password is checked on the same path as a login: same pacing, same records.
func (s *Service) ChangePassword(ctx context.Context, p auth.Principal, oldPassword, newPassword string, client ClientInfo) error {
	if err := validatePassword("newPassword", newPassword); err != nil {
		return err
	}
	u, err := store.UserByID(ctx, s.db, p.UserID)
	if err != nil {
		return err
	}
	check := &passwordCheck{purpose: purposeChangePassword, username: u.Username, password: oldPassword, user: u, client: client.clean()}
	switch err := s.checkPassword(ctx, check); {
	case errors.Is(err, errWrongPassword):
		return apperr.Invalid("oldPassword", "is not your current password")
	case err != nil:
		return err
	}
	hash, err := s.hasher.Hash(ctx, newPassword)
	if err != nil {
		return hashFailure(err)
	}
	defer s.sessions.ForgetUser(u.ID)
	return store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := store.UpdatePassword(ctx, tx, u.ID, hash); err != nil {
			return err
		}
		if err := store.RevokeUserSessions(ctx, tx, u.ID, p.SessionID, s.now()); err != nil {
			return err
		}
		if err := s.recordCheckSuccess(ctx, tx, check); err != nil {
			return err
		}
		return store.Audit(ctx, tx, &u.ID, "auth.password_changed", "user", idString(u.ID), nil, auth.ClientIP(ctx))
	})
}

// Authenticate verifies an access token and checks that its session is live
// and its user active, with the role from the database, as of at most
// Policy.SessionCacheTTL ago (see package credcache); changes this instance makes
// apply to its next request.
func (s *Service) Authenticate(ctx context.Context, token string) (auth.Principal, error) {
	p, err := s.tokens.Verify(token)
	if err != nil {
		return auth.Principal{}, apperr.New(apperr.Unauthenticated, "invalid or expired access token")
	}
	st, owner, gen, cached := s.sessions.Get(p.SessionID)
	if !cached || owner != p.UserID {
		loadedAt := time.Now()
		st, err = store.LoadSessionState(ctx, s.db, p.UserID, p.SessionID, s.now())
		if errors.Is(err, apperr.ErrNotFound) {
			return auth.Principal{}, errSessionEnded
		}
		if err != nil {
			return auth.Principal{}, err
		}
		s.sessions.Put(p.SessionID, p.UserID, st, gen, loadedAt)
	}
	if !st.Active || st.Status != domain.UserActive {
		return auth.Principal{}, errSessionEnded
	}
	p.Role = st.Role
	return p, nil
}

// SessionChanged forgets what the instance cached about a user's sessions;
// the session notifications call it on every instance, for every change
// (logout, revocation, password, role, status), whoever made it.
func (s *Service) SessionChanged(userID int64) { s.sessions.ForgetUser(userID) }

// ForgetSessions forgets every cached session: after the notifications
// were interrupted, any of them may have changed.
func (s *Service) ForgetSessions() { s.sessions.ForgetUser(0) }
