package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
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
	secret []byte
	parser *jwt.Parser
}

// NewTokens returns a token issuer for an HMAC secret of at least 32 bytes, checking times against now.
func NewTokens(secret []byte, now func() time.Time) (*Tokens, error) {
	if len(secret) < 32 {
		return nil, errors.New("auth: JWT secret must be at least 32 bytes")
	}
	return &Tokens{
		secret: secret,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithIssuer(Issuer),
			jwt.WithAudience(Audience),
			jwt.WithLeeway(5*time.Second),
			jwt.WithTimeFunc(now),
		),
	}, nil
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
	var claims Claims
	_, err := t.parser.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return t.secret, nil })
	if err != nil || claims.Type != accessType {
		return Principal{}, ErrInvalidToken
	}
	userID, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || userID <= 0 {
		return Principal{}, ErrInvalidToken
	}
	sid, err := uuid.Parse(claims.SessionID)
	if err != nil {
		return Principal{}, ErrInvalidToken
	}
	return Principal{UserID: userID, Role: Role(claims.Role), SessionID: sid, ExpiresAt: claims.ExpiresAt.Time}, nil
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
