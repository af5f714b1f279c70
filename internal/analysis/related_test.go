package analysis_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/analysis"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/domain"
)

// describe renders related users as "name@depth" followed by their evidence,
// "KIND value[device] from→to first..last" with times in hours before the clock.
func (f *fixture) describe(rs []*domain.RelatedUser) []string {
	hours := func(t time.Time) string { return fmt.Sprintf("-%gh", clock.Sub(t).Hours()) }
	out := []string{}
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%s@%d", f.names[r.UserID], r.Depth))
		for _, e := range r.Evidence {
			dev := ""
			if e.DeviceID != nil {
				dev = "[" + f.fps[*e.DeviceID] + "]"
			}
			out = append(out, fmt.Sprintf("  %s %s%s %s→%s %s..%s", e.Kind, e.Value, dev,
				f.names[e.FromUserID], f.names[e.ToUserID], hours(e.FirstSeenAt), hours(e.LastSeenAt)))
		}
	}
	return out
}

// linkGraph: a, b and c share device fp-shared; c and d logged in from
// 198.51.100.7; d and e share device fp-e; a and e paid from 203.0.113.9, so e
// is one hop from a directly and three through c and d. a and b also logged in
// from 192.0.2.10. Noise that must not link: x failed a login from
// 198.51.100.7, y paid with an empty IP like a did, z with none.
func linkGraph(t *testing.T) *fixture {
	f := newFixture(t)
	a, b, c, d, e := f.user("a"), f.user("b"), f.user("c"), f.user("d"), f.user("e")
	x, y, z := f.user("x"), f.user("y"), f.user("z")

	shared := f.device("fp-shared", domain.DeviceNormal)
	f.useDevice(a, shared, ago(72*time.Hour), ago(24*time.Hour))
	f.useDevice(b, shared, ago(48*time.Hour), ago(0))
	f.useDevice(c, shared, ago(24*time.Hour), ago(1*time.Hour))

	f.login(c, "198.51.100.7", ago(30*time.Hour), true)
	f.login(c, "198.51.100.7", ago(5*time.Hour), true)
	f.login(d, "198.51.100.7", ago(1*time.Hour), true)
	f.login(x, "198.51.100.7", ago(2*time.Hour), false)

	fpE := f.device("fp-e", domain.DeviceNormal)
	f.useDevice(d, fpE, ago(10*time.Hour), ago(2*time.Hour))
	f.useDevice(e, fpE, ago(6*time.Hour), ago(3*time.Hour))

	f.tx(a, "10.00", ago(7*time.Hour), func(t *domain.Transaction) { t.IPAddress = ptr("203.0.113.9") })
	f.tx(e, "10.00", ago(4*time.Hour), func(t *domain.Transaction) { t.IPAddress = ptr("203.0.113.9") })

	f.login(a, "192.0.2.10", ago(20*time.Hour), true)
	f.login(b, "192.0.2.10", ago(19*time.Hour), true)

	f.tx(a, "10.00", ago(8*time.Hour), func(t *domain.Transaction) { t.IPAddress = ptr("") })
	f.tx(y, "10.00", ago(8*time.Hour), func(t *domain.Transaction) { t.IPAddress = ptr("") })
	f.tx(a, "10.00", ago(9*time.Hour))
	f.tx(z, "10.00", ago(9*time.Hour))
	return f
}

func TestRelatedUsers(t *testing.T) {
	f := linkGraph(t)
	tests := []struct {
		name  string
		from  string
		depth int
		want  []string
	}{
		{
			name: "depth 3 from a: the IP-only user d is two hops away, e one hop despite a longer path",
			from: "a", depth: 3,
			want: []string{
				"b@1",
				"  DEVICE fp-shared[fp-shared] a→b -48h..-24h",
				"  IP 192.0.2.10 a→b -20h..-19h",
				"c@1",
				"  DEVICE fp-shared[fp-shared] a→c -24h..-24h",
				"e@1",
				"  IP 203.0.113.9 a→e -7h..-4h",
				"d@2",
				"  IP 198.51.100.7 c→d -30h..-1h",
			},
		},
		{
			name: "depth 1 from a excludes d",
			from: "a", depth: 1,
			want: []string{
				"b@1",
				"  DEVICE fp-shared[fp-shared] a→b -48h..-24h",
				"  IP 192.0.2.10 a→b -20h..-19h",
				"c@1",
				"  DEVICE fp-shared[fp-shared] a→c -24h..-24h",
				"e@1",
				"  IP 203.0.113.9 a→e -7h..-4h",
			},
		},
		{
			name: "depth 2 from b reaches d through c",
			from: "b", depth: 2,
			want: []string{
				"a@1",
				"  DEVICE fp-shared[fp-shared] b→a -48h..-24h",
				"  IP 192.0.2.10 b→a -20h..-19h",
				"c@1",
				"  DEVICE fp-shared[fp-shared] b→c -24h..-1h",
				"d@2",
				"  IP 198.51.100.7 c→d -30h..-1h",
				"e@2",
				"  IP 203.0.113.9 a→e -7h..-4h",
			},
		},
		{
			name: "depth 1 from c: d is a direct neighbor through the IP",
			from: "c", depth: 1,
			want: []string{
				"a@1",
				"  DEVICE fp-shared[fp-shared] c→a -24h..-24h",
				"b@1",
				"  DEVICE fp-shared[fp-shared] c→b -24h..-1h",
				"d@1",
				"  IP 198.51.100.7 c→d -30h..-1h",
			},
		},
		{
			name: "depth 3 from d: a and b reached through c, the lower-ID parent",
			from: "d", depth: 3,
			want: []string{
				"c@1",
				"  IP 198.51.100.7 d→c -30h..-1h",
				"e@1",
				"  DEVICE fp-e[fp-e] d→e -6h..-3h",
				"a@2",
				"  DEVICE fp-shared[fp-shared] c→a -24h..-24h",
				"b@2",
				"  DEVICE fp-shared[fp-shared] c→b -24h..-1h",
			},
		},
		{name: "a failed login links nobody", from: "x", depth: 3, want: []string{}},
		{name: "an empty IP links nobody", from: "y", depth: 3, want: []string{}},
		{name: "a missing IP links nobody", from: "z", depth: 3, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.svc.RelatedUsers(f.ctx, f.ids[tt.from], tt.depth)
			if err != nil {
				t.Fatalf("RelatedUsers: %v", err)
			}
			if d := f.describe(got); !slices.Equal(d, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", lines(d), lines(tt.want))
			}
		})
	}
}

func lines(ss []string) string {
	out := ""
	for _, s := range ss {
		out += s + "\n"
	}
	return out
}

func TestRelatedUsersDepthOutOfRange(t *testing.T) {
	f := newFixture(t)
	a := f.user("a")
	for _, depth := range []int{-1, 0, 4} {
		t.Run(fmt.Sprint(depth), func(t *testing.T) {
			_, err := f.svc.RelatedUsers(f.ctx, a, depth)
			if got := apperr.CodeOf(err); got != apperr.BadInput {
				t.Errorf("depth %d: got code %s (%v), want %s", depth, got, err, apperr.BadInput)
			}
		})
	}
}

// TestRelatedUsersBound: a device used by 150 other users yields exactly
// MaxRelated of them, the lowest IDs, and the walk stops there.
func TestRelatedUsersBound(t *testing.T) {
	f := newFixture(t)
	start := f.user("start")
	hub := f.device("fp-hub", domain.DeviceNormal)
	f.useDevice(start, hub, ago(day), ago(day))
	if _, err := f.db.NewRaw(`INSERT INTO users (username, password_hash) SELECT 'bulk' || g, 'x' FROM generate_series(1, 150) g`).
		Exec(f.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.NewRaw(`INSERT INTO user_devices (user_id, device_id, first_seen_at, last_seen_at)
		SELECT id, ?, ?, ? FROM users WHERE username LIKE 'bulk%'`, hub, ago(day), ago(day)).Exec(f.ctx); err != nil {
		t.Fatal(err)
	}
	var lowest []int64
	if err := f.db.NewRaw(`SELECT id FROM users WHERE username LIKE 'bulk%' ORDER BY id LIMIT ?`, analysis.MaxRelated).
		Scan(f.ctx, &lowest); err != nil {
		t.Fatal(err)
	}
	for _, depth := range []int{1, 3} {
		got, err := f.svc.RelatedUsers(f.ctx, start, depth)
		if err != nil {
			t.Fatalf("RelatedUsers: %v", err)
		}
		var ids []int64
		for _, r := range got {
			if r.Depth != 1 || len(r.Evidence) != 1 || r.Evidence[0].Value != "fp-hub" {
				t.Errorf("depth %d: user %d at depth %d with %d evidence, want depth 1 through fp-hub", depth, r.UserID, r.Depth, len(r.Evidence))
			}
			ids = append(ids, r.UserID)
		}
		if !slices.Equal(ids, lowest) {
			t.Errorf("depth %d: got %d users %v, want the %d lowest IDs %v", depth, len(ids), ids, len(lowest), lowest)
		}
	}
}
