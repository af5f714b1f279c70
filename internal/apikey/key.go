// Package apikey is the API keys of SERVICE accounts: issuing (once, in
// clear), storing only a hash, scopes, revocation, rotation with overlap, and
// checking a presented key from memory after its first use.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"strings"
)

// A key reads rgk_<prefix>_<secret>: the prefix (8 base32 characters) is
// public and shown in listings and logs so people can tell keys apart; the
// secret part holds 256 random bits. The whole key is what is hashed.
const (
	keyTag       = "rgk_"
	prefixChars  = 8
	secretChars  = 52 // two rand.Text values: 2 × 128 bits
	prefixLength = len(keyTag) + prefixChars
	keyLength    = prefixLength + 1 + secretChars
	base32Chars  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" // rand.Text's alphabet
)

// newKey returns a fresh key and its public prefix.
func newKey() (key, prefix string) {
	prefix = keyTag + rand.Text()[:prefixChars]
	return prefix + "_" + rand.Text() + rand.Text(), prefix
}

// Hash is how keys are stored and looked up. A plain SHA-256 suffices, and a
// slow password hash (argon2id) would be wrong here: the key is 256 random
// bits, so no guessing or precomputation can reach it, while a salted slow
// hash could not be looked up by index and would spend tens of milliseconds
// and megabytes on every request (and on every forged key an attacker sends).
func Hash(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// wellFormed reports whether s has a key's shape, so a mistyped or truncated
// value is refused with a clear message and without a database look-up.
func wellFormed(s string) bool {
	if len(s) != keyLength || !strings.HasPrefix(s, keyTag) || s[prefixLength] != '_' {
		return false
	}
	for i := len(keyTag); i < len(s); i++ {
		if i != prefixLength && strings.IndexByte(base32Chars, s[i]) < 0 {
			return false
		}
	}
	return true
}
