package apikey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/access"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/credcache"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/page"
	"github.com/smartfinance/riskgraph/internal/store"
)

// LastUseEvery is how often at most an instance records that a key was used:
// lastUsedAt is exact to this, and costs one write per key per interval
// rather than one per request.
const LastUseEvery = time.Minute

// MaxOverlap bounds how long a rotated key keeps working beside its successor.
const MaxOverlap = 30 * 24 * time.Hour

const maxNameLen = 100

// Service runs the API key use cases.
type Service struct {
	db    *bun.DB
	now   func() time.Time
	log   *slog.Logger
	cache *credcache.Cache[[32]byte, store.APIKeyState]

	usesMu sync.Mutex
	// noted is when this instance last queued each key's use; pending is
	// what the next flush writes.
	noted   map[int64]time.Time
	pending map[int64]time.Time
}

// maxCachedKeys bounds the key cache; past it, it starts over.
const maxCachedKeys = 100_000

// New returns the service; cacheTTL is how long a key's state may be served
// from memory (SESSION_CACHE_TTL, as for sessions), 0 for never.
func New(db *bun.DB, now func() time.Time, log *slog.Logger, cacheTTL time.Duration) *Service {
	return &Service{db: db, now: now, log: log, cache: credcache.New[[32]byte, store.APIKeyState](cacheTTL, maxCachedKeys),
		noted: map[int64]time.Time{}, pending: map[int64]time.Time{}}
}

// dbNow is the clock at PostgreSQL's precision, so what a mutation answers
// is what later reads show.
func (s *Service) dbNow() time.Time { return s.now().Truncate(time.Microsecond) }

// Issued is a key as created or rotated: the only time its secret is shown.
type Issued struct {
	Secret string
	Key    *domain.APIKey
}

// CreateInput is createApiKey's input (gqlgen binds CreateApiKeyInput to it).
type CreateInput struct {
	UserID    int64
	Name      string
	Scopes    []string
	ExpiresAt *time.Time
}

func validName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", apperr.Invalid("name", "is required")
	case utf8.RuneCountInString(name) > maxNameLen:
		return "", apperr.Invalid("name", "is longer than "+strconv.Itoa(maxNameLen)+" characters")
	case strings.ContainsFunc(name, unicode.IsControl):
		return "", apperr.Invalid("name", "must not contain control characters")
	}
	return name, nil
}

// Create issues a key for a SERVICE account; the caller is an admin
// (@hasRole), who must outrank the account.
func (s *Service) Create(ctx context.Context, p auth.Principal, in CreateInput) (*Issued, error) {
	name, err := validName(in.Name)
	if err != nil {
		return nil, err
	}
	scopes, err := normalizeScopes(in.Scopes)
	if err != nil {
		return nil, err
	}
	now := s.dbNow()
	if in.ExpiresAt != nil && !in.ExpiresAt.After(now) {
		return nil, apperr.Invalid("expiresAt", "must be in the future")
	}
	var out *Issued
	err = store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		u, err := store.UserByID(ctx, tx, in.UserID)
		if err != nil {
			return err
		}
		if err := access.ChangeAccount(p, u.Role); err != nil {
			return err
		}
		if !access.HoldsAPIKeys(u.Role) {
			return apperr.Invalid("userId", "API keys are for SERVICE accounts; this account is "+string(u.Role))
		}
		out, err = s.issue(ctx, tx, &p.UserID, &domain.APIKey{UserID: u.ID, Name: name, Scopes: scopes, ExpiresAt: in.ExpiresAt}, now)
		if err != nil {
			return err
		}
		return audit(ctx, tx, &p.UserID, "apikey.created", out.Key, map[string]any{
			"userId": u.ID, "name": name, "prefix": out.Key.Prefix, "scopes": scopes, "expiresAt": in.ExpiresAt,
		})
	})
	return out, err
}

// issue stores a new key shaped like k and returns it with its secret.
func (s *Service) issue(ctx context.Context, tx bun.IDB, by *int64, k *domain.APIKey, now time.Time) (*Issued, error) {
	secret, prefix := newKey()
	k.Prefix, k.KeyHash, k.CreatedByID, k.CreatedAt = prefix, Hash(secret), by, now
	if err := store.InsertAPIKey(ctx, tx, k); err != nil {
		return nil, err
	}
	return &Issued{Secret: secret, Key: k}, nil
}

func audit(ctx context.Context, tx bun.IDB, actor *int64, action string, k *domain.APIKey, details map[string]any) error {
	return store.Audit(ctx, tx, actor, action, "api_key", strconv.FormatInt(k.ID, 10), details, auth.ClientIP(ctx))
}

// lockKey loads and locks a key an admin names; missing is NOT_FOUND.
func lockKey(ctx context.Context, tx bun.IDB, p auth.Principal, id int64) (*domain.APIKey, error) {
	k, err := store.APIKeyForUpdate(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	u, err := store.UserByID(ctx, tx, k.UserID)
	if err != nil {
		return nil, err
	}
	if err := access.ChangeAccount(p, u.Role); err != nil {
		return nil, apperr.ErrNotFound // an account above the caller's: its keys are not the caller's to see
	}
	return k, nil
}

// Revoke ends a key at once on every instance (the revocation is announced
// at commit); revoking a revoked key changes nothing.
func (s *Service) Revoke(ctx context.Context, p auth.Principal, id int64) (*domain.APIKey, error) {
	var k *domain.APIKey
	err := store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if k, err = lockKey(ctx, tx, p, id); err != nil || k.RevokedAt != nil {
			return err
		}
		now := s.dbNow()
		if err := store.RevokeAPIKey(ctx, tx, k.ID, now); err != nil {
			return err
		}
		k.RevokedAt = &now
		return audit(ctx, tx, &p.UserID, "apikey.revoked", k, map[string]any{"userId": k.UserID, "prefix": k.Prefix})
	})
	if err != nil {
		return nil, err
	}
	s.cache.ForgetUser(k.UserID) // this instance at once, the others by the notification
	return k, nil
}

// Rotate issues a successor of a live key, with its user, name, scopes and
// expiry; the old key keeps working for overlap (0: it stops now), so
// clients can switch without an outage.
func (s *Service) Rotate(ctx context.Context, p auth.Principal, id int64, overlap time.Duration) (*Issued, error) {
	if overlap < 0 || overlap > MaxOverlap {
		return nil, apperr.Invalid("overlapSeconds", fmt.Sprintf("must be between 0 and %d (%v)", int64(MaxOverlap/time.Second), MaxOverlap))
	}
	var out *Issued
	var userID int64
	err := store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		old, err := lockKey(ctx, tx, p, id)
		if err != nil {
			return err
		}
		now := s.dbNow()
		if !old.Live(now) {
			return apperr.New(apperr.Conflict, "the key is revoked or expired; only a live key can be rotated (create a new one instead)")
		}
		userID = old.UserID
		out, err = s.issue(ctx, tx, &p.UserID, &domain.APIKey{UserID: old.UserID, Name: old.Name, Scopes: old.Scopes,
			ExpiresAt: old.ExpiresAt, RotatedFromID: &old.ID}, now)
		if err != nil {
			return err
		}
		until := now.Add(overlap)
		if err := store.ExpireAPIKeyBy(ctx, tx, old.ID, until); err != nil {
			return err
		}
		return audit(ctx, tx, &p.UserID, "apikey.rotated", old, map[string]any{
			"userId": old.UserID, "prefix": old.Prefix, "newKeyId": out.Key.ID, "newPrefix": out.Key.Prefix,
			"overlapSeconds": int64(overlap / time.Second), "oldKeyWorksUntil": until,
		})
	})
	if err != nil {
		return nil, err
	}
	s.cache.ForgetUser(userID)
	return out, nil
}

// List pages through keys, newest first.
func (s *Service) List(ctx context.Context, f domain.APIKeyFilter, req page.Request) (page.Result[*domain.APIKey], error) {
	return store.ListAPIKeys(ctx, s.db, f, req)
}

// IssueDemo gives a SERVICE account a fresh key named name with every
// scope, revoking its earlier keys of that name: the demo's printed key,
// which a restart cannot print again (only its hash is kept).
func (s *Service) IssueDemo(ctx context.Context, userID int64, name string) (string, error) {
	var out *Issued
	err := store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		now := s.dbNow()
		if _, err := store.RevokeAPIKeysNamed(ctx, tx, userID, name, now); err != nil {
			return err
		}
		var err error
		out, err = s.issue(ctx, tx, nil, &domain.APIKey{UserID: userID, Name: name, Scopes: Scopes}, now)
		if err != nil {
			return err
		}
		return audit(ctx, tx, nil, "apikey.created", out.Key, map[string]any{
			"userId": userID, "name": name, "prefix": out.Key.Prefix, "scopes": Scopes, "via": "demo data",
		})
	})
	if err != nil {
		return "", err
	}
	s.cache.ForgetUser(userID)
	return out.Secret, nil
}

// The answers to keys that do not authenticate. A key's own state is named
// (to whoever holds the key string, which is the key): integrators need to
// know whether to fix a typo, ask for a new key or unfreeze the account.
var (
	errMalformed = apperr.New(apperr.Unauthenticated, "malformed API key: it reads rgk_ then 8 and 52 characters A-Z, 2-7 (copy it whole)")
	errUnknown   = apperr.New(apperr.Unauthenticated, "invalid API key")
	errRevoked   = apperr.New(apperr.Unauthenticated, "API key revoked")
	errExpired   = apperr.New(apperr.Unauthenticated, "API key expired")
	errNotActive = apperr.New(apperr.Unauthenticated, "the API key's account is not active")
	errNotHolder = apperr.New(apperr.Unauthenticated, "the API key's account is no longer a SERVICE account")
)

// Authenticate checks a presented key, from memory when this instance has
// seen it within the cache ttl and nothing announced a change since, and
// returns its principal: the account's current role, the key's scopes.
func (s *Service) Authenticate(ctx context.Context, key string) (auth.Principal, error) {
	if !wellFormed(key) {
		return auth.Principal{}, errMalformed
	}
	hash := [32]byte(Hash(key))
	st, _, gen, ok := s.cache.Get(hash)
	if !ok {
		loadedAt := time.Now()
		var err error
		st, err = store.LoadAPIKeyState(ctx, s.db, hash[:])
		if errors.Is(err, apperr.ErrNotFound) {
			return auth.Principal{}, errUnknown
		}
		if err != nil {
			return auth.Principal{}, err
		}
		s.cache.Put(hash, st.Key.UserID, st, gen, loadedAt)
	}
	now := s.now()
	k := &st.Key
	switch {
	case k.RevokedAt != nil:
		return auth.Principal{}, errRevoked
	case !k.Live(now):
		return auth.Principal{}, errExpired
	case st.Status != domain.UserActive:
		return auth.Principal{}, errNotActive
	case !access.HoldsAPIKeys(st.Role):
		return auth.Principal{}, errNotHolder
	}
	s.noteUse(k.ID, now)
	p := auth.Principal{UserID: k.UserID, Role: st.Role, APIKeyID: k.ID, Scopes: k.Scopes}
	if k.ExpiresAt != nil {
		p.ExpiresAt = *k.ExpiresAt
	}
	return p, nil
}

// noteUse queues the key's last use for the next flush, at most once per
// LastUseEvery per key on this instance.
func (s *Service) noteUse(id int64, now time.Time) {
	s.usesMu.Lock()
	defer s.usesMu.Unlock()
	if last, ok := s.noted[id]; ok && now.Sub(last) < LastUseEvery && !now.Before(last) {
		return
	}
	s.noted[id], s.pending[id] = now, now
}

// Flush writes the queued last uses.
func (s *Service) Flush(ctx context.Context) error {
	s.usesMu.Lock()
	used := s.pending
	s.pending = map[int64]time.Time{}
	s.usesMu.Unlock()
	if err := store.TouchAPIKeys(ctx, s.db, used); err != nil {
		// Put them back for the next flush, unless newer uses replaced them.
		s.usesMu.Lock()
		for id, at := range used {
			if _, ok := s.pending[id]; !ok {
				s.pending[id] = at
			}
		}
		s.usesMu.Unlock()
		return err
	}
	return nil
}

// RunFlusher writes queued last uses every interval until ctx ends, then once more.
func (s *Service) RunFlusher(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := s.Flush(final); err != nil {
				s.log.Error("record API keys' last use", "err", err)
			}
			return
		case <-t.C:
			if err := s.Flush(ctx); err != nil && ctx.Err() == nil {
				s.log.ErrorContext(ctx, "record API keys' last use", "err", err)
			}
		}
	}
}

// Forget drops what this instance cached about a user's keys; the session
// notifications call it on every instance for every change to the user or
// to one of its keys.
func (s *Service) Forget(userID int64) { s.cache.ForgetUser(userID) }

// ForgetAll drops every cached key: after the notifications were
// interrupted, any of them may have changed.
func (s *Service) ForgetAll() { s.cache.ForgetUser(0) }
