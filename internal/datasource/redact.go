package datasource

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/smartfinance/riskgraph/internal/apperr"
)

// redacted stands for a secret in a returned config; sent back, it keeps the stored secret.
const redacted = "***"

// secretWords mark a key as secret wherever they appear in it, compared
// lower-case with separators removed (so api_key, API-Key and apiKey all match).
// A webhook URL is itself the credential of whoever may post to it.
var secretWords = []string{
	"password", "passwd", "pwd", "passphrase", "secret", "token", "apikey",
	"credential", "auth", "dsn", "connectionstring", "signature", "cookie",
	"bearer", "jwt", "webhook",
}

// secretWholeWords mark a key as secret only as a whole word of it (sasl.pass,
// client_pw, sig) — inside a longer word (passenger, pinned) they mean nothing.
var secretWholeWords = []string{"key", "pass", "pw", "pin", "sig", "otp", "hmac"}

// Redact returns a config with the value of every secret-looking key, at any
// depth and inside arrays, replaced by "***", and the secrets inside every
// string (see secretSpans) too.
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
		return redactString(v)
	}
	return v
}

// secretKey tells whether a config key probably holds a secret. "key" counts
// as a whole word or a suffix (key_id, accessKey, private_key, sshkey) but not
// inside a word (keyspace); so do the other whole words.
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
		if slices.Contains(secretWholeWords, w) {
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

// The secrets inside a string value, whatever key holds it:
//   - in every URL (scheme://…) anywhere in the string: the userinfo's
//     password, and the value of every query and fragment parameter — a
//     query can carry anything from a signature to a session, so all are hidden;
//   - key=value pairs whose key looks secret (a libpq "host=db password=…" DSN);
//   - the credentials after "Bearer" or "Basic".
var (
	urlPattern    = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>` + "`" + `]+`)
	pairPattern   = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*('[^']*'|"[^"]*"|[^\s;,&'"]+)`)
	schemePattern = regexp.MustCompile(`(?i)\b(bearer|basic)\s+([A-Za-z0-9._~+/-]+=*|\*\*\*)`)
)

// span is one secret inside a string: its bytes [from, to) and a key naming
// its place, the same in the string as given and as redacted, so a "***" sent
// back finds the secret it stands for. A URL's secrets are keyed by its origin
// (scheme, host and port), so a secret never follows its URL to another host.
type span struct {
	key      string
	from, to int
}

// secretSpans finds the secrets in s, in order, without overlaps.
func secretSpans(s string) []span {
	var out []span
	seen := map[string]int{}
	add := func(key string, from, to int) {
		if from >= to {
			return
		}
		n := seen[key]
		seen[key] = n + 1
		out = append(out, span{key: key + "#" + strconv.Itoa(n), from: from, to: to})
	}
	// Matches never overlap: a URL's own parsing wins over a pair or a
	// "Bearer" around it, and a "Bearer" over a pair, so the string as given
	// and as redacted split the same way.
	var taken [][]int
	free := func(m []int) bool {
		for _, t := range taken {
			if m[0] < t[1] && t[0] < m[1] {
				return false
			}
		}
		return true
	}
	for _, m := range urlPattern.FindAllStringIndex(s, -1) {
		urlSpans(s[m[0]:m[1]], m[0], add)
		taken = append(taken, m)
	}
	for _, m := range schemePattern.FindAllStringSubmatchIndex(s, -1) {
		if free(m) {
			add("scheme:"+strings.ToLower(s[m[2]:m[3]]), m[4], m[5])
			taken = append(taken, m[:2])
		}
	}
	for _, m := range pairPattern.FindAllStringSubmatchIndex(s, -1) {
		if !free(m) || !secretKey(s[m[2]:m[3]]) {
			continue
		}
		from, to := m[4], m[5]
		if q := s[from]; q == '\'' || q == '"' {
			from, to = from+1, to-1
		}
		add("pair:"+strings.ToLower(s[m[2]:m[3]]), from, to)
	}
	slices.SortFunc(out, func(a, b span) int { return a.from - b.from })
	return out
}

// urlSpans reports the secrets of one URL found at offset off. The URL is cut
// by hand, the way url.Parse cuts it, because re-serializing a parsed URL
// would escape "***" and reformat the rest.
func urlSpans(u string, off int, add func(key string, from, to int)) {
	start := strings.Index(u, "://") + len("://")
	rest := u[start:]
	authEnd := len(rest)
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authEnd = i
	}
	authority := rest[:authEnd]
	host := authority
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		host = authority[at+1:]
	}
	origin := "url:" + strings.ToLower(u[:start]+host)
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		if colon := strings.Index(authority[:at], ":"); colon >= 0 {
			add(origin+":password", off+start+colon+1, off+start+at)
		}
	}
	// The query and the fragment, as name=value parameters.
	tail := start + authEnd
	for tail < len(u) {
		i := strings.IndexAny(u[tail:], "?#")
		if i < 0 {
			return
		}
		part := u[tail+i]
		from := tail + i + 1
		to := len(u)
		if part == '?' {
			if j := strings.IndexByte(u[from:], '#'); j >= 0 {
				to = from + j
			}
		}
		for p := from; p < to; {
			end := to
			if j := strings.IndexAny(u[p:to], "&;"); j >= 0 {
				end = p + j
			}
			if eq := strings.IndexByte(u[p:end], '='); eq >= 0 {
				add(origin+":"+string(part)+u[p:p+eq], off+p+eq+1, off+end)
			}
			p = end + 1
		}
		tail = to
	}
}

// redactString replaces every secret inside s with "***".
func redactString(s string) string {
	spans := secretSpans(s)
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		b.WriteString(s[last:sp.from])
		b.WriteString(redacted)
		last = sp.to
	}
	b.WriteString(s[last:])
	return b.String()
}

// restoreString puts the stored secrets back where an incoming string has
// "***" in place of one (a URL's password or parameter, a DSN's password…).
func restoreString(in string, stored any, path string) (string, error) {
	spans := secretSpans(in)
	var b strings.Builder
	last := 0
	var kept map[string]string
	for _, sp := range spans {
		if in[sp.from:sp.to] != redacted {
			continue
		}
		if kept == nil {
			kept = map[string]string{}
			if s, ok := stored.(string); ok {
				for _, st := range secretSpans(s) {
					kept[st.key] = s[st.from:st.to]
				}
			}
		}
		secret, ok := kept[sp.key]
		if !ok {
			return "", apperr.Invalid("config", path+` has "***" where no secret is stored (a URL's secrets stay with its host)`)
		}
		b.WriteString(in[last:sp.from])
		b.WriteString(secret)
		last = sp.to
	}
	if kept == nil {
		return in, nil
	}
	b.WriteString(in[last:])
	return b.String(), nil
}

// restore puts the stored secrets back where an incoming config says "***"
// (as a value, or as a secret inside a string), so a client can send back what it
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
		return restoreString(v, stored, path)
	}
	return in, nil
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
