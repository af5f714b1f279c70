package account

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// Pacing of password checks beyond the knobs in Policy; docs/SECURITY.md "Lockout design".
const (
	backoffBase = 5 * time.Second
	// slowMaxFactor stretches the longest wait for unfamiliar addresses on an account under attack.
	slowMaxFactor = 8
	// familiarFor keeps an address that logged in successfully exempt from the account-wide slowdown.
	familiarFor = 30 * 24 * time.Hour
	// attemptsKeptFor is how long an idle pair's failures are remembered.
	attemptsKeptFor = 24 * time.Hour
	sweepEvery      = 10 * time.Minute
	// recordTimeout bounds writing a failure after the client has gone.
	recordTimeout = 5 * time.Second
)

// What a password check is for; it names the audit actions (auth.<purpose>_failed, …_refused).
const (
	purposeLogin          = "login"
	purposeChangePassword = "change_password"
)

// passwordCheck is one attempt to prove knowledge of an account's password.
type passwordCheck struct {
	purpose string
	// username is as typed: the account key, so unknown names are paced like known ones.
	username string
	password string
	// user is nil when no such account exists; lookup, when set, finds it
	// after the address throttle, so throttled floods never reach the users table.
	user   *domain.User
	lookup func(context.Context) (*domain.User, error)
	client ClientInfo
}

// errWrongPassword is checkPassword's refusal; each caller answers it in its own words.
var errWrongPassword = errors.New("account: password check failed")

var errHashBusy = &apperr.Error{Code: apperr.Unavailable, Message: "the server is busy checking passwords; retry shortly", RetryAfter: time.Second}

// unavailable answers a storage failure around a password check the same way
// whether or not the password was right, so it never becomes an oracle.
func unavailable(err error) error {
	return apperr.Wrap(apperr.Unavailable, "could not complete the request; retry shortly", err)
}

func hashFailure(err error) error {
	if errors.Is(err, auth.ErrHashBusy) {
		return errHashBusy
	}
	return err
}

// checkPassword is the one path every password check takes (login,
// changePassword): the address throttle, an attempt charged to (account,
// address) before hashing, a service-wide hashing slot, the same argon2id
// work for unknown, frozen and real accounts, and a login-log and audit row
// for every failure or refusal.
// It returns nil only for the right password of an active account (c.user);
// the caller then records the success with recordCheckSuccess in its own transaction.
func (s *Service) checkPassword(ctx context.Context, c *passwordCheck) error {
	if err := throttle(ctx, s.policy.LoginThrottle, "password"); err != nil {
		return err
	}
	if c.lookup != nil {
		var err error
		if c.user, err = c.lookup(ctx); err != nil {
			return unavailable(err)
		}
	}
	now := s.now()
	s.sweep(ctx, now)
	account, client := accountKey(c.username), c.pairClient(ctx)
	adm, err := store.AdmitLoginAttempt(ctx, s.db, account, client, s.backoff, now)
	if err != nil {
		return unavailable(err)
	}
	if !adm.Admitted {
		if err := s.recordCheckFailure(ctx, c, "refused", "too many failed attempts"); err != nil {
			return unavailable(err)
		}
		return &apperr.Error{Code: apperr.RateLimited, RetryAfter: adm.RetryAfter,
			Message: "too many failed attempts for this account from your address; retry later"}
	}
	// Refused attempts never reach here, so they never wait for a hashing slot.
	release, err := s.hasher.Acquire(ctx)
	if err != nil {
		// Not checked, so not charged: a busy server must not count against the owner.
		if rerr := store.RefundLoginAttempt(context.WithoutCancel(ctx), s.db, account, client); rerr != nil {
			s.log.ErrorContext(ctx, "refund login attempt", "err", rerr)
		}
		return hashFailure(err)
	}
	hash := s.dummyHash
	if c.user != nil {
		hash = c.user.PasswordHash
	}
	ok := false
	if len(c.password) <= 4*auth.MaxPasswordLen {
		var verr error
		ok, verr = auth.VerifyPassword(c.password, hash)
		if verr != nil && c.user != nil {
			s.log.ErrorContext(ctx, "stored password hash unreadable", "user_id", c.user.ID, "err", verr)
		}
	}
	release()
	var reason string
	switch {
	case c.user == nil || !ok:
		reason = "bad credentials"
	case c.user.Status != domain.UserActive:
		// Refused like a wrong password, and counted like one: a right password
		// on a frozen account must not be told apart by answer or pacing.
		reason = "account " + strings.ToLower(string(c.user.Status))
	default:
		return nil
	}
	if err := s.recordCheckFailure(ctx, c, "failed", reason); err != nil {
		return unavailable(err)
	}
	return errWrongPassword
}

// recordCheckFailure writes the login log and audit rows of a failed or
// refused check, and counts a failed one against the account. It runs even
// when the client has hung up: a failure is always recorded.
func (s *Service) recordCheckFailure(ctx context.Context, c *passwordCheck, outcome, reason string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if c.purpose != purposeLogin {
		reason = c.purpose + ": " + reason
	}
	entry := loginLog(c.user, c.username, false, &reason, c.client)
	entry.CreatedAt = s.now()
	var actorID *int64
	if c.user != nil {
		actorID = &c.user.ID
	}
	return store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := store.InsertLoginLog(ctx, tx, entry); err != nil {
			return err
		}
		if outcome == "failed" {
			if err := store.RecordLoginFailure(ctx, tx, accountKey(c.username), entry.CreatedAt); err != nil {
				return err
			}
		}
		return store.Audit(ctx, tx, actorID, "auth."+c.purpose+"_"+outcome, "user", entry.Username,
			map[string]any{"reason": reason}, entry.IPAddress)
	})
}

// recordCheckSuccess clears the failures of the check's account and address.
func (s *Service) recordCheckSuccess(ctx context.Context, db bun.IDB, c *passwordCheck) error {
	return store.RecordLoginSuccess(ctx, db, accountKey(c.username), c.pairClient(ctx), s.now())
}

// pairClient is the address side of the backoff pair. A SERVICE caller
// reporting its customer's address gets one pair per reported address under its
// own, so one customer's failures through a payment system never hold back
// another's, and the reported address can't escape the caller's own scope.
func (c *passwordCheck) pairClient(ctx context.Context) string {
	conn := clientKey(auth.ClientIP(ctx))
	if reported := c.client.IPAddress; reported != "" && reported != auth.ClientIP(ctx) {
		return conn + ">" + clientKey(reported)
	}
	return conn
}

// sweep forgets idle attempt rows now and then, bounding the table.
func (s *Service) sweep(ctx context.Context, now time.Time) {
	last := s.lastSweep.Load()
	if now.UnixNano()-last < int64(sweepEvery) || !s.lastSweep.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	if err := store.SweepLoginAttempts(ctx, s.db, now.Add(-attemptsKeptFor), now.Add(-familiarFor)); err != nil {
		s.log.WarnContext(ctx, "sweep login attempts", "err", err)
	}
}

// accountKey names the account a check is against, known or not.
func accountKey(username string) string {
	return cleanText(strings.ToLower(strings.TrimSpace(username)), maxUsernameLen)
}

// clientKey is the address a check is paced by: an IPv6 client owns its whole
// /64, so it counts as one address.
func clientKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	switch {
	case ip == "":
		return "unknown"
	case err != nil:
		return cleanText(ip, 64)
	case addr.Is6() && !addr.Is4In6():
		return netip.PrefixFrom(addr, 64).Masked().String()
	}
	return addr.Unmap().String()
}

// Bounds of stored client-given text (bytes).
const (
	maxUsernameLen    = 256
	maxUserAgentLen   = 512
	maxFingerprintLen = 128
	maxPlaceLen       = 100
)

// cleanText makes client-given text storable whatever it holds: valid UTF-8,
// control characters (NUL included) replaced, at most n bytes cut on a
// character boundary. PostgreSQL refuses NUL and invalid UTF-8 in text, and
// such a refusal after a password check would tell whether it succeeded.
func cleanText(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// clean makes every client-given field storable.
func (c ClientInfo) clean() ClientInfo {
	c.IPAddress = cleanText(c.IPAddress, 64)
	c.UserAgent = cleanText(c.UserAgent, maxUserAgentLen)
	c.DeviceFingerprint = cleanText(c.DeviceFingerprint, maxFingerprintLen)
	if c.Location != nil {
		loc := *c.Location
		loc.Country = cleanPtr(loc.Country, maxPlaceLen)
		loc.City = cleanPtr(loc.City, maxPlaceLen)
		c.Location = &loc
	}
	return c
}

func cleanPtr(s *string, n int) *string {
	if s == nil {
		return nil
	}
	v := cleanText(*s, n)
	return &v
}
