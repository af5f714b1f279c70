package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Token settings.
const (
	Issuer          = "riskgraph"
	Audience        = "riskgraph-api"
	AccessTokenTTL  = 15 * time.Minute
	RefreshTokenTTL = 30 * 24 * time.Hour
	// accessType marks access tokens; refresh tokens are opaque and never JWTs,
	// so nothing else can carry it.
	accessType = "access"
)

// Claims are the access token's claims.
type Claims struct {
	jwt.RegisteredClaims
	Type      string `json:"typ"`
	Role      string `json:"role"`
	SessionID string `json:"sid"`
}

// Tokens issues and verifies access tokens.
type Tokens struct {
	secret    []byte
	parser    *jwt.Parser
	validator *jwt.Validator

	// verified holds the principals of tokens whose signature and claims
	// checked out: a client sends the same token on every request for its
	// lifetime, and parsing it again (base64, JSON, HMAC) was ~50
	// allocations per request. The times are checked again on every use.
	mu       sync.RWMutex
	verified map[string]verifiedToken
}

type verifiedToken struct {
	claims    jwt.RegisteredClaims
	principal Principal
}

// maxVerifiedTokens bounds the cache; when full it starts over, so expired
// tokens can't pile up.
const maxVerifiedTokens = 10_000

// NewTokens returns a token issuer for an HMAC secret of at least 32 bytes, checking times against now.
func NewTokens(secret []byte, now func() time.Time) (*Tokens, error) {
	if len(secret) < 32 {
		return nil, errors.New("auth: JWT secret must be at least 32 bytes")
	}
	options := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(Audience),
		jwt.WithLeeway(5 * time.Second),
		jwt.WithTimeFunc(now),
	}
	return &Tokens{secret: secret, parser: jwt.NewParser(options...), validator: jwt.NewValidator(options...),
		verified: map[string]verifiedToken{}}, nil
}

// Issue signs an access token for a principal.
func (t *Tokens) Issue(p Principal, now time.Time) (string, time.Time, error) {
	exp := now.Add(AccessTokenTTL)
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Audience:  jwt.ClaimStrings{Audience},
			Subject:   strconv.FormatInt(p.UserID, 10),
			ExpiresAt: jwt.NewNumericDate(exp),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        uuid.NewString(),
		},
		Type:      accessType,
		Role:      string(p.Role),
		SessionID: p.SessionID.String(),
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: sign: %w", err)
	}
	return signed, exp, nil
}

// ErrInvalidToken is returned for any token that fails verification; callers
// never learn which check failed.
var ErrInvalidToken = errors.New("auth: invalid token")

// Verify checks an access token and returns its principal.
func (t *Tokens) Verify(token string) (Principal, error) {
	t.mu.RLock()
	v, ok := t.verified[token]
	t.mu.RUnlock()
	if ok {
		// The same checks of times, issuer and audience the parser makes.
		if t.validator.Validate(&v.claims) != nil {
			return Principal{}, ErrInvalidToken
		}
		return v.principal, nil
	}
	p, claims, err := t.verify(token)
	if err != nil {
		return Principal{}, err
	}
	t.mu.Lock()
	if len(t.verified) >= maxVerifiedTokens {
		clear(t.verified)
	}
	t.verified[token] = verifiedToken{claims: claims, principal: p}
	t.mu.Unlock()
	return p, nil
}

// verify parses and checks a token not seen before.
func (t *Tokens) verify(token string) (Principal, jwt.RegisteredClaims, error) {
	var claims Claims
	_, err := t.parser.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return t.secret, nil })
	if err != nil || claims.Type != accessType {
		return Principal{}, claims.RegisteredClaims, ErrInvalidToken
	}
	userID, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || userID <= 0 {
		return Principal{}, claims.RegisteredClaims, ErrInvalidToken
	}
	sid, err := uuid.Parse(claims.SessionID)
	if err != nil {
		return Principal{}, claims.RegisteredClaims, ErrInvalidToken
	}
	return Principal{UserID: userID, Role: Role(claims.Role), SessionID: sid, ExpiresAt: claims.ExpiresAt.Time}, claims.RegisteredClaims, nil
}

// NewRefreshToken returns an opaque random token and the hash to store.
func NewRefreshToken() (token string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("auth: refresh token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashRefreshToken(token), nil
}

// HashRefreshToken is how refresh tokens are stored and looked up.
func HashRefreshToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
