package datasource

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"

	"github.com/smartfinance/riskgraph/internal/apperr"
)

// redacted stands for a secret in a returned config; sent back, it keeps the stored secret.
const redacted = "***"

// secretWords mark a key as secret wherever they appear in it, compared
// lower-case with separators removed (so api_key, API-Key and apiKey all match).
var secretWords = []string{
	"password", "passwd", "pwd", "passphrase", "secret", "token", "apikey",
	"credential", "auth", "dsn", "connectionstring",
}

// Redact returns a config with the value of every secret-looking key, at any
// depth, replaced by "***", and the password of every URL with userinfo too.
// Unparseable input comes back as "***" entirely: what in it is secret is unknowable.
func Redact(raw json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage("null")
	}
	v, err := decode(raw)
	if err != nil {
		return json.RawMessage(`"` + redacted + `"`)
	}
	out, err := encode(redactValue(v))
	if err != nil {
		return json.RawMessage(`"` + redacted + `"`)
	}
	return out
}

func redactValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, val := range v {
			if val != nil && secretKey(k) {
				v[k] = redacted
			} else {
				v[k] = redactValue(val)
			}
		}
	case []any:
		for i, val := range v {
			v[i] = redactValue(val)
		}
	case string:
		return redactURL(v)
	}
	return v
}

// secretKey tells whether a config key probably holds a secret. "key" counts
// as a whole word or a suffix (key_id, accessKey, private_key, sshkey) but not
// inside a word (keyspace).
func secretKey(k string) bool {
	compact := strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == '.' || unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, k)
	for _, w := range secretWords {
		if strings.Contains(compact, w) {
			return true
		}
	}
	if strings.HasSuffix(compact, "key") {
		return true
	}
	for _, w := range words(k) {
		if w == "key" {
			return true
		}
	}
	return false
}

// words splits a key at separators and camelCase humps, lower-cased:
// "privateKeyID" → private, key, id; "APIKey" → api, key.
func words(s string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(s)
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush()
			continue
		}
		if unicode.IsUpper(r) && i > 0 &&
			(unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]) ||
				(unicode.IsUpper(rs[i-1]) && i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
			flush()
		}
		cur = append(cur, r)
	}
	flush()
	return out
}

// redactURL replaces the password of a URL with userinfo, e.g. a DSN under an innocent key.
func redactURL(s string) string {
	from, to, ok := passwordSpan(s)
	if !ok {
		return s
	}
	return s[:from] + redacted + s[to:]
}

// passwordSpan locates the password, as written, in an absolute URL whose
// userinfo has one. The URL is cut by hand, the way url.Parse cuts it, because
// re-serializing a parsed URL would escape "***" and reformat the rest.
func passwordSpan(s string) (from, to int, ok bool) {
	if !strings.Contains(s, "://") || !strings.Contains(s, "@") {
		return 0, 0, false
	}
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return 0, 0, false
	}
	if _, set := u.User.Password(); !set {
		return 0, 0, false
	}
	start := strings.Index(s, "://") + len("://")
	authority := s[start:]
	if end := strings.IndexAny(authority, "/?#"); end >= 0 {
		authority = authority[:end]
	}
	userinfo := authority[:strings.LastIndex(authority, "@")]
	colon := strings.Index(userinfo, ":")
	return start + colon + 1, start + len(userinfo), true
}

// restore puts the stored secrets back where an incoming config says "***"
// (as a value, or as a URL's password), so a client can send back what it
// was shown. A "***" with nothing stored at its place is an error.
func restore(in, stored any, path string) (any, error) {
	switch v := in.(type) {
	case map[string]any:
		sm, _ := stored.(map[string]any)
		for k, val := range v {
			r, err := restore(val, sm[k], path+"."+k)
			if err != nil {
				return nil, err
			}
			v[k] = r
		}
	case []any:
		sa, _ := stored.([]any)
		for i, val := range v {
			var s any
			if i < len(sa) {
				s = sa[i]
			}
			r, err := restore(val, s, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			v[i] = r
		}
	case string:
		if v == redacted {
			if stored == nil {
				return nil, apperr.Invalid("config", path+` is "***" but no secret is stored there`)
			}
			return stored, nil
		}
		return restoreURL(v, stored, path)
	}
	return in, nil
}

// restoreURL puts the stored URL's password into an incoming URL whose password is "***".
func restoreURL(in string, stored any, path string) (any, error) {
	from, to, ok := passwordSpan(in)
	if !ok || in[from:to] != redacted {
		return in, nil
	}
	s, _ := stored.(string)
	sFrom, sTo, ok := passwordSpan(s)
	if !ok {
		return nil, apperr.Invalid("config", path+` has the password "***" but no password is stored there`)
	}
	return in[:from] + s[sFrom:sTo] + in[to:], nil
}

// decode parses one JSON value, keeping numbers exact.
func decode(raw []byte) (any, error) {
	if !json.Valid(raw) {
		return nil, errors.New("datasource: invalid JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// encode writes v as JSON without escaping HTML, which a config is not.
func encode(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
