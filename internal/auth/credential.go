package auth

import (
	"strings"

	"github.com/smartfinance/riskgraph/internal/apperr"
)

// Scheme is how a request presents its credential.
type Scheme int

// The schemes.
const (
	// NoCredential: the request is anonymous.
	NoCredential Scheme = iota
	// Bearer: an access token, "Authorization: Bearer <token>".
	Bearer
	// APIKey: "Authorization: ApiKey <key>" or "X-Api-Key: <key>".
	APIKey
)

// Credential is what a request presented, not yet checked.
type Credential struct {
	Scheme Scheme
	Secret string
}

// The answers to credentials that cannot even be read; each says how to send one.
var (
	errScheme  = apperr.New(apperr.Unauthenticated, `unsupported Authorization header: send "Bearer <access token>" or "ApiKey <key>"`)
	errTwo     = apperr.New(apperr.Unauthenticated, "send one credential: an Authorization header or an X-Api-Key header, not both")
	errMissing = apperr.New(apperr.Unauthenticated, "the Authorization header names a scheme but no credential")
)

// ParseCredential reads the Authorization and X-Api-Key values ("" when
// absent). The scheme is matched without regard to case (RFC 9110 §11.1).
func ParseCredential(authorization, apiKey string) (Credential, error) {
	authorization, apiKey = strings.TrimSpace(authorization), strings.TrimSpace(apiKey)
	switch {
	case authorization != "" && apiKey != "":
		return Credential{}, errTwo
	case apiKey != "":
		return Credential{Scheme: APIKey, Secret: apiKey}, nil
	case authorization == "":
		return Credential{}, nil
	}
	scheme, secret, _ := strings.Cut(authorization, " ")
	secret = strings.TrimSpace(secret)
	var c Credential
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		c.Scheme = Bearer
	case strings.EqualFold(scheme, "ApiKey"):
		c.Scheme = APIKey
	default:
		return Credential{}, errScheme
	}
	if secret == "" {
		return Credential{}, errMissing
	}
	c.Secret = secret
	return c, nil
}
