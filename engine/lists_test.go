package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func mustList(t testing.TB, name string, kind ListKind, values ...string) *List {
	t.Helper()
	entries := make([]ListEntry, len(values))
	for i, v := range values {
		n, err := NormalizeListValue(kind, v)
		if err != nil {
			t.Fatalf("normalize %q: %v", v, err)
		}
		entries[i] = ListEntry{Value: n}
	}
	l, err := NewList(name, kind, entries)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestInListIPAndCIDR(t *testing.T) {
	lists := NewListSet(
		mustList(t, "blocked_ips", ListIP, "203.0.113.7", "2001:DB8::1"),
		mustList(t, "blocked_nets", ListCIDR, "198.51.100.0/24", "10.1.2.3", "2001:db8:ff::/48"),
		mustList(t, "vip_ips", ListIP, "198.51.100.9"),
	)
	cond, err := CompileCondition(`(inList("blocked_ips", ipAddress) || inList("blocked_nets", ipAddress)) && !inList("vip_ips", ipAddress)`)
	if err != nil {
		t.Fatal(err)
	}
	if cond.native == nil {
		t.Fatal("inList condition did not compile natively")
	}
	for ip, want := range map[string]bool{
		"203.0.113.7":        true,  // listed IP
		"::ffff:203.0.113.7": true,  // the same, IPv4-mapped
		"2001:db8:0::1":      true,  // listed IPv6, non-canonical text
		"203.0.113.8":        false, // next door
		"198.51.100.200":     true,  // inside the /24
		"198.51.101.1":       false, // outside it
		"10.1.2.3":           true,  // a lone address is its own /32
		"10.1.2.4":           false,
		"2001:db8:ff:1::5":   true,
		"2001:db8:fe::5":     false,
		"198.51.100.9":       false, // inside the /24 but on the ALLOW list
		"":                   false,
		"not an ip":          false,
	} {
		f := &Features{IPAddress: ip, Lists: lists}
		f.Derive(time.Now())
		if got, _ := cond.Eval(f); got != want {
			t.Errorf("%q: got %v, want %v", ip, got, want)
		}
	}
	// Without lists (backtests, a probe) nothing is listed.
	if got, _ := cond.Eval(&Features{IPAddress: "203.0.113.7"}); got {
		t.Error("matched without lists")
	}
}

func TestInListExpiresInEventTime(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	l, err := NewList("emails", ListEmail, []ListEntry{{Value: "a@example.com", ExpiresAt: at}, {Value: "b@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	cond, err := CompileCondition(`inList("emails", merchant)`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		value string
		at    time.Time
		want  bool
	}{
		{"A@Example.com", at.Add(-time.Second), true},
		{"a@example.com", at, false},
		{"b@example.com", at.Add(1000 * time.Hour), true},
	} {
		f := &Features{Merchant: c.value, Lists: NewListSet(l)}
		f.Derive(c.at)
		if got, _ := cond.Eval(f); got != c.want {
			t.Errorf("%s at %v: got %v, want %v", c.value, c.at, got, c.want)
		}
	}
}

func TestNormalizeListValue(t *testing.T) {
	for _, c := range []struct {
		kind       ListKind
		in, want   string
		errContain string
	}{
		{ListIP, " 2001:DB8:0::1 ", "2001:db8::1", ""},
		{ListIP, "::ffff:1.2.3.4", "1.2.3.4", ""},
		{ListIP, "1.2.3", "", "not an IP address"},
		{ListIP, "1.2.3.0/24", "", "not an IP address"},
		{ListCIDR, "1.2.3.4/24", "1.2.3.0/24", ""},
		{ListCIDR, "1.2.3.4", "1.2.3.4/32", ""},
		{ListCIDR, "2001:db8::1/32", "2001:db8::/32", ""},
		{ListCIDR, "1.2.3.4/33", "", "not a CIDR block"},
		{ListEmail, "Bob@Example.COM", "bob@example.com", ""},
		{ListEmail, "Bob <bob@example.com>", "", "not an email address"},
		{ListEmail, "bob", "", "not an email address"},
		{ListCountry, "us", "US", ""},
		{ListCountry, "USA", "", "not an ISO 3166-1"},
		{ListCountry, "ZZ", "", "not an ISO 3166-1"},
		{ListCardBIN, "411111", "411111", ""},
		{ListCardBIN, "41111111", "41111111", ""},
		{ListCardBIN, "41111", "", "6 to 8 digits"},
		{ListCardBIN, "4111a1", "", "6 to 8 digits"},
		{ListDevice, " fp-1 ", "fp-1", ""},
		{ListMerchant, "", "", "empty"},
		{ListAccount, strings.Repeat("x", MaxListValueLen+1), "", "longer than"},
		{ListAccount, "a\x00b", "", "control characters"},
		{ListKind("PHONE"), "1", "", "unknown list kind"},
	} {
		got, err := NormalizeListValue(c.kind, c.in)
		switch {
		case c.errContain == "" && (err != nil || got != c.want):
			t.Errorf("%s %q: got %q, %v; want %q", c.kind, c.in, got, err, c.want)
		case c.errContain != "" && (err == nil || !strings.Contains(err.Error(), c.errContain)):
			t.Errorf("%s %q: got %q, %v; want an error with %q", c.kind, c.in, got, err, c.errContain)
		}
	}
}

func TestInListNeedsNativeForm(t *testing.T) {
	for _, cond := range []string{
		`inList(merchant, merchant)`,                        // the name must be a literal
		`inList("x", merchant) ? true : false`,              // ?: runs on the VM
		`inList("x", merchant) && user.txCount10m % 2 == 0`, // so does %
	} {
		if _, err := CompileCondition(cond); err == nil || !strings.Contains(err.Error(), "string literal") {
			t.Errorf("%s: got %v, want the inList restriction", cond, err)
		}
	}
	if _, err := CompileCondition(`inList("x", amount)`); err == nil {
		t.Error("inList over a number compiled")
	}
}

// BenchmarkInList measures one inList evaluation against lists of 1,000,000
// entries: a hash set (IP) and a CIDR set probed per prefix length.
func BenchmarkInList(b *testing.B) {
	const n = 1_000_000
	ips := make([]ListEntry, n)
	nets := make([]ListEntry, n)
	for i := range n {
		ips[i] = ListEntry{Value: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}
		bits := 16 + i%17 // 17 distinct prefix lengths
		p, _ := parsePrefix(fmt.Sprintf("%d.%d.%d.0/%d", 11+i>>16&127, i>>8&255, i&255, bits))
		nets[i] = ListEntry{Value: p.String()}
	}
	ipList, err := NewList("ips", ListIP, ips)
	if err != nil {
		b.Fatal(err)
	}
	netList, err := NewList("nets", ListCIDR, nets)
	if err != nil {
		b.Fatal(err)
	}
	lists := NewListSet(ipList, netList)
	for _, c := range []struct {
		name, cond, ip string
		want           bool
	}{
		{"ip/hit", `inList("ips", ipAddress)`, "10.3.4.5", true},
		{"ip/miss", `inList("ips", ipAddress)`, "192.0.2.1", false},
		{"cidr/hit", `inList("nets", ipAddress)`, "12.1.2.1", true},
		{"cidr/miss", `inList("nets", ipAddress)`, "192.0.2.1", false},
	} {
		cond, err := CompileCondition(c.cond)
		if err != nil {
			b.Fatal(err)
		}
		f := &Features{IPAddress: c.ip, Lists: lists}
		f.Derive(time.Now())
		if got, _ := cond.Eval(f); got != c.want {
			b.Fatalf("%s: got %v, want %v", c.name, got, c.want)
		}
		b.Run(fmt.Sprintf("%s/entries=%d", c.name, n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				cond.Eval(f)
			}
		})
	}
}
