// Package auth holds credentials: argon2id password hashes, JWT access tokens,
// opaque refresh tokens and the authenticated principal of a request.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// OWASP's argon2id recommendation: 19 MiB, 2 passes, 1 lane.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16
)

// Password length limits for new passwords.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 128
)

// HashPassword returns a PHC-formatted argon2id hash.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemoryKiB, argonTime, argonThreads, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

var errBadHash = errors.New("auth: malformed password hash")

// VerifyPassword checks a password against a PHC argon2id hash in constant time.
func VerifyPassword(password, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	var mem, iter uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iter, &threads); err != nil {
		return false, errBadHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, iter, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// ValidateNewPassword enforces the length policy (NIST 800-63B: length over composition).
func ValidateNewPassword(password string) error {
	n := len([]rune(password))
	if n < MinPasswordLen || n > MaxPasswordLen {
		return fmt.Errorf("must be %d to %d characters", MinPasswordLen, MaxPasswordLen)
	}
	return nil
}

// ErrHashBusy means every password-hashing slot is taken and the queue is full.
var ErrHashBusy = errors.New("auth: password hashing is saturated")

// Hasher caps concurrent argon2id work service-wide: each hash holds 19 MiB
// and a core, so unbounded parallel logins would exhaust memory.
type Hasher struct {
	slots   chan struct{}
	waiting atomic.Int64
	// maxWaiting callers may queue; more are refused at once rather than piling up.
	maxWaiting int64
}

// hashQueuePerSlot is how many callers may wait per hashing slot.
const hashQueuePerSlot = 16

// NewHasher allows concurrency hashes at once (at least one).
func NewHasher(concurrency int) *Hasher {
	concurrency = max(concurrency, 1)
	return &Hasher{slots: make(chan struct{}, concurrency), maxWaiting: int64(concurrency * hashQueuePerSlot)}
}

// Acquire takes a hashing slot, waiting while ctx allows; release returns it.
func (h *Hasher) Acquire(ctx context.Context) (release func(), err error) {
	release = func() { <-h.slots }
	select {
	case h.slots <- struct{}{}:
		return release, nil
	default:
	}
	if h.waiting.Add(1) > h.maxWaiting {
		h.waiting.Add(-1)
		return nil, ErrHashBusy
	}
	defer h.waiting.Add(-1)
	select {
	case h.slots <- struct{}{}:
		return release, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrHashBusy, ctx.Err())
	}
}

// Hash hashes a new password within a slot.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	release, err := h.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return HashPassword(password)
}
