package engine

import (
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"golang.org/x/text/language"
)

// ListKind is what a list's entries are; it decides how a value is
// validated, normalised and looked up.
type ListKind string

// The list kinds.
const (
	ListIP       ListKind = "IP"
	ListCIDR     ListKind = "CIDR"
	ListDevice   ListKind = "DEVICE"
	ListEmail    ListKind = "EMAIL"
	ListMerchant ListKind = "MERCHANT"
	ListCountry  ListKind = "COUNTRY"
	ListCardBIN  ListKind = "CARD_BIN"
	ListAccount  ListKind = "ACCOUNT"
)

// Valid reports whether k is one of the list kinds.
func (k ListKind) Valid() bool {
	switch k {
	case ListIP, ListCIDR, ListDevice, ListEmail, ListMerchant, ListCountry, ListCardBIN, ListAccount:
		return true
	}
	return false
}

// MaxListValueLen bounds an entry's value.
const MaxListValueLen = 256

// NormalizeListValue validates an entry's value for kind and returns its
// canonical form, the one lookups compare against: an IP in its canonical
// text (IPv4-mapped IPv6 as IPv4), a CIDR masked to its prefix (an address
// alone is its own /32 or /128), an email lower-cased, a country as an
// upper-case ISO 3166-1 alpha-2 code, a card BIN as its 6 to 8 digits, and
// device, merchant and account IDs trimmed.
func NormalizeListValue(kind ListKind, value string) (string, error) {
	v := strings.TrimSpace(value)
	switch {
	case v == "":
		return "", fmt.Errorf("value is empty")
	case len(v) > MaxListValueLen:
		return "", fmt.Errorf("value is longer than %d bytes", MaxListValueLen)
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return "", fmt.Errorf("value %q has control characters", v)
	}
	switch kind {
	case ListIP:
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return "", fmt.Errorf("%q is not an IP address", v)
		}
		return a.Unmap().String(), nil
	case ListCIDR:
		p, err := parsePrefix(v)
		if err != nil {
			return "", fmt.Errorf("%q is not a CIDR block such as 203.0.113.0/24", v)
		}
		return p.String(), nil
	case ListEmail:
		a, err := mail.ParseAddress(v)
		if err != nil || a.Name != "" || a.Address != v {
			return "", fmt.Errorf("%q is not an email address", v)
		}
		return strings.ToLower(v), nil
	case ListCountry:
		r, err := language.ParseRegion(v)
		if len(v) != 2 || err != nil || !r.IsCountry() {
			return "", fmt.Errorf("%q is not an ISO 3166-1 alpha-2 country code", v)
		}
		return strings.ToUpper(v), nil
	case ListCardBIN:
		if len(v) < 6 || len(v) > 8 || strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
			return "", fmt.Errorf("%q is not a card BIN (6 to 8 digits)", v)
		}
		return v, nil
	case ListDevice, ListMerchant, ListAccount:
		return v, nil
	}
	return "", fmt.Errorf("unknown list kind %q", kind)
}

// parsePrefix reads a CIDR block, or a lone address as its single-address block, masked.
func parsePrefix(v string) (netip.Prefix, error) {
	if !strings.Contains(v, "/") {
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("not an address")
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(v)
	if err != nil {
		return netip.Prefix{}, err
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// ListEntry is one normalised value of a list; a zero ExpiresAt never expires.
type ListEntry struct {
	Value     string
	ExpiresAt time.Time
}

// List is the in-memory form of one list: a hash set (CIDR: one per prefix
// length), so a lookup costs O(1) whatever its size. It is immutable.
type List struct {
	Name string
	Kind ListKind
	// values maps a value (hash kinds) to its expiry in Unix nanoseconds, 0 for never.
	values map[string]int64
	// nets maps a masked prefix to its expiry; bits4 and bits6 are the prefix
	// lengths present, longest first, so a lookup probes only those.
	nets         map[netip.Prefix]int64
	bits4, bits6 []int
}

// NewList builds a list from normalised entries (see NormalizeListValue).
func NewList(name string, kind ListKind, entries []ListEntry) (*List, error) {
	l := &List{Name: name, Kind: kind}
	expiry := func(e ListEntry) int64 {
		if e.ExpiresAt.IsZero() {
			return 0
		}
		return e.ExpiresAt.UnixNano()
	}
	if kind != ListCIDR {
		l.values = make(map[string]int64, len(entries))
		for _, e := range entries {
			l.values[e.Value] = expiry(e)
		}
		return l, nil
	}
	l.nets = make(map[netip.Prefix]int64, len(entries))
	seen4, seen6 := map[int]bool{}, map[int]bool{}
	for _, e := range entries {
		p, err := parsePrefix(e.Value)
		if err != nil {
			return nil, fmt.Errorf("engine: list %q: %q is not a CIDR block", name, e.Value)
		}
		l.nets[p] = expiry(e)
		if p.Addr().Is4() {
			seen4[p.Bits()] = true
		} else {
			seen6[p.Bits()] = true
		}
	}
	for bits := range seen4 {
		l.bits4 = append(l.bits4, bits)
	}
	for bits := range seen6 {
		l.bits6 = append(l.bits6, bits)
	}
	slices.SortFunc(l.bits4, func(a, b int) int { return b - a })
	slices.SortFunc(l.bits6, func(a, b int) int { return b - a })
	return l, nil
}

// Len is the number of entries, expired ones included.
func (l *List) Len() int { return len(l.values) + len(l.nets) }

// Contains reports whether value is in the list and unexpired at at (Unix
// nanoseconds). The value is normalised as entries are; a value that cannot
// be one (a malformed IP) is in no list.
func (l *List) Contains(value string, at int64) bool {
	live := func(exp int64, ok bool) bool { return ok && (exp == 0 || at < exp) }
	switch l.Kind {
	case ListIP:
		a, err := netip.ParseAddr(value)
		if err != nil {
			return false
		}
		// Lists hold canonical text; most inputs already are, so no string is built for them.
		if c := a.Unmap().WithZone(""); !canonicalIP(value, c) {
			value = c.String()
		}
	case ListCIDR:
		a, err := netip.ParseAddr(value)
		if err != nil {
			return false
		}
		a = a.Unmap().WithZone("")
		bits := l.bits6
		if a.Is4() {
			bits = l.bits4
		}
		for _, b := range bits {
			p, _ := a.Prefix(b)
			if exp, ok := l.nets[p]; live(exp, ok) {
				return true
			}
		}
		return false
	case ListEmail:
		value = lowerASCII(value)
	case ListCountry:
		value = upperASCII(value)
	}
	exp, ok := l.values[value]
	return live(exp, ok)
}

// canonicalIP reports whether s is a's canonical text, without allocating for IPv4.
func canonicalIP(s string, a netip.Addr) bool {
	var buf [64]byte
	return string(a.AppendTo(buf[:0])) == s
}

// lowerASCII lower-cases s, allocating only when it has an upper-case letter.
func lowerASCII(s string) string {
	if strings.IndexFunc(s, unicode.IsUpper) < 0 {
		return s
	}
	return strings.ToLower(s)
}

func upperASCII(s string) string {
	if strings.IndexFunc(s, unicode.IsLower) < 0 {
		return s
	}
	return strings.ToUpper(s)
}

// ListSet is every list by name, as of one load. It is immutable; a change
// builds a new set (With) sharing the unchanged lists.
type ListSet struct {
	byName map[string]*List
}

// NewListSet returns a set of lists.
func NewListSet(lists ...*List) *ListSet {
	s := &ListSet{byName: make(map[string]*List, len(lists))}
	for _, l := range lists {
		s.byName[l.Name] = l
	}
	return s
}

// List returns the list of that name, nil when none.
func (s *ListSet) List(name string) *List {
	if s == nil {
		return nil
	}
	return s.byName[name]
}

// With returns a copy of s where the list named drop is removed (if any) and l added (if not nil).
func (s *ListSet) With(drop string, l *List) *ListSet {
	n := &ListSet{byName: make(map[string]*List, len(s.byNameOrNil())+1)}
	for name, x := range s.byNameOrNil() {
		if name != drop {
			n.byName[name] = x
		}
	}
	if l != nil {
		n.byName[l.Name] = l
	}
	return n
}

func (s *ListSet) byNameOrNil() map[string]*List {
	if s == nil {
		return nil
	}
	return s.byName
}

// inList is the lookup conditions call: false for a list that does not exist.
func (f *Features) inList(name, value string) bool {
	l := f.Lists.List(name)
	return l != nil && l.Contains(value, f.OccurredAt.UnixNano())
}

// inListFunction declares inList to expr's checker. Conditions that call it
// run natively only (CompileCondition refuses the others), since the VM's
// functions see their arguments but not the features' lists.
var inListFunction = expr.Function("inList", func(...any) (any, error) {
	return nil, errors.New("inList runs only in natively compiled conditions")
}, new(func(name, value string) bool))

// callsInList reports whether the condition calls inList anywhere.
func callsInList(root ast.Node) bool {
	return ast.Find(root, func(n ast.Node) bool {
		c, ok := n.(*ast.CallNode)
		if !ok {
			return false
		}
		id, ok := c.Callee.(*ast.IdentifierNode)
		return ok && id.Value == "inList"
	}) != nil
}
