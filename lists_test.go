package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/domain"
)

const (
	upsertListMutation = `mutation($in: ListInput!) { upsertList(input: $in) { id name kind mode description } }`
	addEntriesMutation = `mutation($id: ID!, $e: [ListEntryInput!]!) { addListEntries(listId: $id, entries: $e) { id } }`
)

type listOut struct{ ID, Name, Kind, Mode, Description string }

func (e *testEnv) newList(t *testing.T, token, name, kind, mode string) string {
	t.Helper()
	var out struct{ UpsertList listOut }
	e.must(t, token, upsertListMutation, map[string]any{"in": map[string]any{"name": name, "kind": kind, "mode": mode}}, &out)
	return out.UpsertList.ID
}

func (e *testEnv) addEntries(t *testing.T, token, listID string, entries ...map[string]any) {
	t.Helper()
	e.must(t, token, addEntriesMutation, map[string]any{"id": listID, "e": entries}, nil)
}

func hitsRule(s submitted, name string) bool { return slices.Contains(s.ruleNames(), name) }

// A rule reads block lists with inList: a listed IP and an address inside a
// listed CIDR block hit, others not; an ALLOW list exempts an address from
// it; an expired entry matches nothing; and every change reaches a second
// instance within a second.
func TestListsInRules(t *testing.T) {
	a := newEnv(t)
	b := newEnvOn(t, a.db, a.url)
	analyst := a.user(t, "ana", domain.RoleAnalyst)
	admin := a.user(t, "root", domain.RoleAdmin)
	alice := a.user(t, "alice", domain.RoleUser)

	ips := a.newList(t, analyst.AccessToken, "blocked_ips", "IP", "BLOCK")
	nets := a.newList(t, analyst.AccessToken, "blocked_nets", "CIDR", "BLOCK")
	vips := a.newList(t, analyst.AccessToken, "vip_ips", "IP", "ALLOW")
	a.addEntries(t, analyst.AccessToken, ips, map[string]any{"value": "203.0.113.7", "note": "card testing"})
	a.addEntries(t, analyst.AccessToken, nets, map[string]any{"value": "198.51.100.0/24"})
	a.addEntries(t, analyst.AccessToken, vips, map[string]any{"value": "198.51.100.9"})
	const rule = "listed address"
	a.must(t, admin.AccessToken, `mutation($c: String!) { upsertRule(input: {name: "listed address", condition: $c, score: 45}) { id } }`,
		map[string]any{"c": `(inList("blocked_ips", ipAddress) || inList("blocked_nets", ipAddress)) && !inList("vip_ips", ipAddress)`}, nil)

	for _, c := range []struct {
		ip   string
		want bool
	}{
		{"203.0.113.7", true},        // listed
		{"::ffff:203.0.113.7", true}, // the same address, IPv4-mapped
		{"203.0.113.8", false},       // next door
		{"198.51.100.200", true},     // inside the /24
		{"198.51.101.1", false},      // outside it
		{"198.51.100.9", false},      // inside, but on the ALLOW list
		{"2001:db8::203:7", false},   // another family
	} {
		for _, env := range []*testEnv{a, b} {
			res := env.submit(t, alice.AccessToken, map[string]any{"amount": 5, "ipAddress": c.ip})
			if got := hitsRule(res, rule); got != c.want {
				t.Errorf("%s on instance %p: rule hit %v, want %v (matched %v)", c.ip, env, got, c.want, res.ruleNames())
			}
		}
	}

	// A change made on a reaches b at once (NOTIFY, then b reloads the list).
	within := func(what string, cond func() bool) {
		t.Helper()
		start := time.Now()
		for !cond() {
			if time.Since(start) > time.Second {
				t.Fatalf("%s: not on the second instance after a second", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("%s reached the second instance in %v", what, time.Since(start).Round(time.Millisecond))
	}
	listed := func(env *testEnv, list, value string) func() bool {
		return func() bool {
			l := env.app.lists.Current().List(list)
			return l != nil && l.Contains(value, env.clock.Now().UnixNano())
		}
	}
	a.addEntries(t, analyst.AccessToken, ips, map[string]any{"value": "192.0.2.55"})
	within("an added entry", listed(b, "blocked_ips", "192.0.2.55"))
	if res := b.submit(t, alice.AccessToken, map[string]any{"amount": 5, "ipAddress": "192.0.2.55"}); !hitsRule(res, rule) {
		t.Errorf("192.0.2.55 added on a: no hit on b (matched %v)", res.ruleNames())
	}
	a.must(t, analyst.AccessToken, `mutation($id: ID!) { removeListEntries(listId: $id, values: ["192.0.2.55"]) { id } }`, map[string]any{"id": ips}, nil)
	within("a removed entry", func() bool { return !listed(b, "blocked_ips", "192.0.2.55")() })
	if res := b.submit(t, alice.AccessToken, map[string]any{"amount": 5, "ipAddress": "192.0.2.55"}); hitsRule(res, rule) {
		t.Error("192.0.2.55 removed on a: still a hit on b")
	}
	// The ALLOW entry lifted on a: b flags the address again.
	a.must(t, analyst.AccessToken, `mutation($id: ID!) { removeListEntries(listId: $id, values: ["198.51.100.9"]) { id } }`, map[string]any{"id": vips}, nil)
	within("a lifted exemption", func() bool { return !listed(b, "vip_ips", "198.51.100.9")() })
	if res := b.submit(t, alice.AccessToken, map[string]any{"amount": 5, "ipAddress": "198.51.100.9"}); !hitsRule(res, rule) {
		t.Error("198.51.100.9 no longer exempt: no hit on b")
	}

	// An entry expires at its expiresAt, in the payment's event time.
	a.addEntries(t, analyst.AccessToken, ips, map[string]any{"value": "192.0.2.77", "expiresAt": a.clock.Now().Add(time.Minute)})
	if res := a.submit(t, alice.AccessToken, map[string]any{"amount": 5, "ipAddress": "192.0.2.77"}); !hitsRule(res, rule) {
		t.Error("192.0.2.77 before its expiry: no hit")
	}
	a.clock.Advance(2 * time.Minute)
	if res := a.submit(t, alice.AccessToken, map[string]any{"amount": 5, "ipAddress": "192.0.2.77"}); hitsRule(res, rule) {
		t.Error("192.0.2.77 after its expiry: still a hit")
	}

	// Every change is in the audit log, by whom.
	var audit struct {
		AuditLogs struct {
			Edges []struct {
				Node struct{ Action, ActorID string }
			}
		}
	}
	a.must(t, admin.AccessToken, `query($id: String!) { auditLogs(filter: {targetType: "list", targetId: $id}, first: 10) { edges { node { action actorId } } } }`,
		map[string]any{"id": ips}, &audit)
	var actions []string
	for _, e := range audit.AuditLogs.Edges {
		actions = append(actions, e.Node.Action)
		if e.Node.ActorID != analyst.User.ID {
			t.Errorf("audit %s by %s, want the analyst %s", e.Node.Action, e.Node.ActorID, analyst.User.ID)
		}
	}
	slices.Sort(actions)
	if want := []string{"list.created", "list.entries_added", "list.entries_added", "list.entries_added", "list.entries_removed"}; !slices.Equal(actions, want) {
		t.Errorf("audit actions: got %v, want %v", actions, want)
	}
}

// Entries are validated and normalised per kind; bad input is a
// BAD_USER_INPUT naming the entry, and nothing of a refused call is kept.
func TestListValidation(t *testing.T) {
	e := newEnv(t)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	tok := analyst.AccessToken
	entries := func(id string) []string {
		var out struct {
			List struct {
				Entries struct {
					Edges []struct{ Node struct{ Value string } }
				}
			}
		}
		e.must(t, tok, `query($id: ID!) { list(id: $id) { entries(first: 100) { edges { node { value } } } } }`, map[string]any{"id": id}, &out)
		var vs []string
		for _, ed := range out.List.Entries.Edges {
			vs = append(vs, ed.Node.Value)
		}
		return vs
	}
	for _, c := range []struct {
		kind      string
		good      []string
		want      []string
		bad, code string
	}{
		{"IP", []string{" 2001:DB8:0::1 ", "::ffff:10.0.0.1"}, []string{"2001:db8::1", "10.0.0.1"}, "10.0.0", "not an IP address"},
		{"CIDR", []string{"10.1.2.3/16", "192.0.2.1"}, []string{"10.1.0.0/16", "192.0.2.1/32"}, "10.0.0.0/40", "not a CIDR block"},
		{"EMAIL", []string{"Bob@Example.COM"}, []string{"bob@example.com"}, "Bob <bob@example.com>", "not an email address"},
		{"COUNTRY", []string{"us", "DE"}, []string{"US", "DE"}, "XX", "ISO 3166-1"},
		{"CARD_BIN", []string{"411111", "41111111"}, []string{"411111", "41111111"}, "4111", "6 to 8 digits"},
		{"DEVICE", []string{" fp-1 "}, []string{"fp-1"}, " ", "empty"},
		{"MERCHANT", []string{"m-1"}, []string{"m-1"}, strings.Repeat("m", 300), "longer than"},
		{"ACCOUNT", []string{"42"}, []string{"42"}, "a\tb", "control characters"},
	} {
		id := e.newList(t, tok, "l_"+strings.ToLower(c.kind), c.kind, "BLOCK")
		var in []map[string]any
		for _, v := range c.good {
			in = append(in, map[string]any{"value": v})
		}
		e.addEntries(t, tok, id, in...)
		if got := entries(id); !slices.Equal(got, c.want) {
			t.Errorf("%s: stored %q, want %q", c.kind, got, c.want)
		}
		res := e.mustFail(t, tok, addEntriesMutation, map[string]any{"id": id, "e": []map[string]any{{"value": c.good[0], "note": "not kept"}, {"value": c.bad}}}, "BAD_USER_INPUT")
		if msg := res.Errors[0].Message; !strings.Contains(msg, "entries[1].value") || !strings.Contains(msg, c.code) {
			t.Errorf("%s %q: message %q, want entries[1].value and %q", c.kind, c.bad, msg, c.code)
		}
		if got := entries(id); !slices.Equal(got, c.want) {
			t.Errorf("%s: after a refused call stored %q, want %q", c.kind, got, c.want)
		}
	}

	ipList := e.newList(t, tok, "checked", "IP", "BLOCK")
	for _, c := range []struct {
		name, query string
		vars        map[string]any
		code, msg   string
	}{
		{"past expiry", addEntriesMutation, map[string]any{"id": ipList, "e": []map[string]any{{"value": "10.0.0.1", "expiresAt": e.clock.Now().Add(-time.Minute)}}}, "BAD_USER_INPUT", "expiresAt: must be in the future"},
		{"no entries", addEntriesMutation, map[string]any{"id": ipList, "e": []map[string]any{}}, "BAD_USER_INPUT", "give at least one entry"},
		{"missing list", addEntriesMutation, map[string]any{"id": "999999", "e": []map[string]any{{"value": "10.0.0.1"}}}, "NOT_FOUND", ""},
		{"bad name", upsertListMutation, map[string]any{"in": map[string]any{"name": "Blocked IPs", "kind": "IP", "mode": "BLOCK"}}, "BAD_USER_INPUT", "name:"},
		{"taken name", upsertListMutation, map[string]any{"in": map[string]any{"name": "checked", "kind": "IP", "mode": "BLOCK"}}, "CONFLICT", "a list with this name exists"},
		{"kind change", upsertListMutation, map[string]any{"in": map[string]any{"id": ipList, "name": "checked", "kind": "CIDR", "mode": "BLOCK"}}, "BAD_USER_INPUT", "kind: cannot change"},
		{"bad remove", `mutation($id: ID!) { removeListEntries(listId: $id, values: ["nope"]) { id } }`, map[string]any{"id": ipList}, "BAD_USER_INPUT", "values[0]"},
		{"bad csv line", `mutation($id: ID!, $csv: String!) { importListEntries(listId: $id, csv: $csv) { id } }`, map[string]any{"id": ipList, "csv": "value\n10.0.0.1\n10.0.0.999\n"}, "BAD_USER_INPUT", "csv line 3.value"},
		{"bad csv quote", `mutation($id: ID!, $csv: String!) { importListEntries(listId: $id, csv: $csv) { id } }`, map[string]any{"id": ipList, "csv": "10.0.0.1\n\"10.0.0.2\n"}, "BAD_USER_INPUT", "csv: line 2"},
		{"csv too wide", `mutation($id: ID!, $csv: String!) { importListEntries(listId: $id, csv: $csv) { id } }`, map[string]any{"id": ipList, "csv": "10.0.0.1,,note,extra\n"}, "BAD_USER_INPUT", "at most 3"},
		{"empty csv", `mutation($id: ID!, $csv: String!) { importListEntries(listId: $id, csv: $csv) { id } }`, map[string]any{"id": ipList, "csv": "value,expiresAt,note\n"}, "BAD_USER_INPUT", "give at least one entry"},
		{"bad csv expiry", `mutation($id: ID!, $csv: String!) { importListEntries(listId: $id, csv: $csv) { id } }`, map[string]any{"id": ipList, "csv": "10.0.0.1,tomorrow\n"}, "BAD_USER_INPUT", "line 1: expiresAt"},
	} {
		res := e.mustFail(t, tok, c.query, c.vars, c.code)
		if !strings.Contains(res.Errors[0].Message, c.msg) {
			t.Errorf("%s: message %q, want %q", c.name, res.Errors[0].Message, c.msg)
		}
	}
	// A rule must name its list with a literal, so the engine resolves it natively.
	admin := e.user(t, "root", domain.RoleAdmin)
	res := e.mustFail(t, admin.AccessToken, `mutation { upsertRule(input: {name: "x", condition: "inList(merchant, merchant)", score: 1}) { id } }`, nil, "BAD_USER_INPUT")
	if !strings.Contains(res.Errors[0].Message, "string literal") {
		t.Errorf("non-literal list name: %q", res.Errors[0].Message)
	}
	// Renaming and describing keep the kind and entries.
	var up struct{ UpsertList listOut }
	e.must(t, tok, upsertListMutation, map[string]any{"in": map[string]any{"id": ipList, "name": "checked2", "kind": "IP", "mode": "ALLOW", "description": "partners"}}, &up)
	if up.UpsertList != (listOut{ID: ipList, Name: "checked2", Kind: "IP", Mode: "ALLOW", Description: "partners"}) {
		t.Errorf("updated list: %+v", up.UpsertList)
	}
	if l := e.app.lists.Current(); l.List("checked2") == nil || l.List("checked") != nil {
		t.Error("renamed list: the in-memory set still has the old name")
	}
}

// CSV import adds entries (header optional, expiresAt and note optional);
// export writes them back; entries page in insertion order.
func TestListCSV(t *testing.T) {
	e := newEnv(t)
	tok := e.user(t, "ana", domain.RoleAnalyst).AccessToken
	id := e.newList(t, tok, "bins", "CARD_BIN", "BLOCK")
	doc := "value,expiresAt,note\n411111,2099-01-31T00:00:00Z,\"leaked, batch 7\"\n 5500000 \n41111111,,\n"
	e.must(t, tok, `mutation($id: ID!, $csv: String!) { importListEntries(listId: $id, csv: $csv) { id } }`, map[string]any{"id": id, "csv": doc}, nil)
	var out struct {
		List struct {
			CSV     string
			Entries struct {
				TotalCount int
				PageInfo   struct {
					HasNextPage bool
					EndCursor   string
				}
				Edges []struct {
					Node struct {
						Value, Note string
						ExpiresAt   *time.Time
					}
				}
			}
		}
	}
	e.must(t, tok, `query($id: ID!) { list(id: $id) { csv entries(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { node { value note expiresAt } } } } }`, map[string]any{"id": id}, &out)
	want := "value,expiresAt,note\n411111,2099-01-31T00:00:00Z,\"leaked, batch 7\"\n5500000,,\n41111111,,\n"
	if out.List.CSV != want {
		t.Errorf("csv:\n%s\nwant\n%s", out.List.CSV, want)
	}
	es := out.List.Entries
	if es.TotalCount != 3 || !es.PageInfo.HasNextPage || len(es.Edges) != 2 || es.Edges[0].Node.Note != "leaked, batch 7" || es.Edges[0].Node.ExpiresAt == nil || es.Edges[1].Node.Value != "5500000" {
		t.Errorf("first page: %+v", es)
	}
	e.must(t, tok, `query($id: ID!, $after: String!) { list(id: $id) { entries(first: 2, after: $after) { edges { node { value } } } } }`, map[string]any{"id": id, "after": es.PageInfo.EndCursor}, &out)
	if got := out.List.Entries.Edges; len(got) != 1 || got[0].Node.Value != "41111111" {
		t.Errorf("second page: %+v", got)
	}
	// The export imports again unchanged (re-adding updates, never duplicates).
	e.must(t, tok, `mutation($id: ID!, $csv: String!) { importListEntries(listId: $id, csv: $csv) { id } }`, map[string]any{"id": id, "csv": want}, nil)
	e.must(t, tok, `query($id: ID!) { list(id: $id) { csv } }`, map[string]any{"id": id}, &out)
	if out.List.CSV != want {
		t.Errorf("csv after re-import:\n%s", out.List.CSV)
	}
}
