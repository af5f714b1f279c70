// Package webhook signs and sends outbox events to admin-managed HTTP
// endpoints as the Standard Webhooks specification describes
// (webhook-id, webhook-timestamp, webhook-signature), and manages those
// endpoints and their write-only secrets.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/smartfinance/riskgraph/internal/apperr"
)

// secretPrefix marks a Standard Webhooks signing secret; base64 key bytes follow.
const secretPrefix = "whsec_"

// Key sizes the API accepts: the specification asks for 24 to 64 bytes.
const (
	minKeyBytes = 24
	maxKeyBytes = 64
	newKeyBytes = 32
)

// NewSecret returns a fresh whsec_ secret of 32 random bytes.
func NewSecret() string {
	key := make([]byte, newKeyBytes)
	rand.Read(key) //nolint:errcheck // crypto/rand never fails on Linux
	return secretPrefix + base64.StdEncoding.EncodeToString(key)
}

// ValidSecret checks a caller-chosen secret: whsec_ and 24 to 64 bytes of base64.
func ValidSecret(s string) error {
	key, err := secretKey(s)
	if err != nil || len(key) < minKeyBytes || len(key) > maxKeyBytes {
		return apperr.Invalid("secret", "must be whsec_ followed by 24 to 64 random bytes in base64")
	}
	return nil
}

func secretKey(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.TrimPrefix(s, secretPrefix))
}

// Headers are the Standard Webhooks headers of one delivery attempt.
type Headers struct {
	ID        string
	Timestamp string
	Signature string
}

// Sign signs body for message id at time at with every secret given (one
// during a rotation's overlap, two with both the new and the previous one):
// each signature is "v1,<base64 HMAC-SHA256 of id.timestamp.body>", joined
// by spaces, so a receiver holding either secret accepts the message.
func Sign(secrets []string, id string, at time.Time, body []byte) Headers {
	ts := strconv.FormatInt(at.Unix(), 10)
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		key, err := secretKey(s)
		if err != nil {
			continue // stored secrets were validated; an unreadable one cannot sign
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + ts + "."))
		mac.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return Headers{ID: id, Timestamp: ts, Signature: strings.Join(sigs, " ")}
}
