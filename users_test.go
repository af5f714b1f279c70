package main

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/smartfinance/riskgraph/internal/domain"
)

func TestCustomersSeeOnlyThemselves(t *testing.T) {
	e := newEnv(t)
	alice := e.user(t, "alice", domain.RoleUser)
	bob := e.user(t, "bob", domain.RoleVIP)
	var bobLogin struct{ Login session }
	e.must(t, "", loginMutation, map[string]any{"in": map[string]any{
		"username": "bob", "password": "correct horse battery", "deviceId": "fp-bob"}}, &bobLogin)
	var bobMe struct {
		Me struct{ Devices []struct{ ID string } }
	}
	e.must(t, bob.AccessToken, `{ me { devices { id } } }`, nil, &bobMe)
	bobDevice := bobMe.Me.Devices[0].ID

	userQ := `query($id: ID!) { user(id: $id) { id username } }`
	deviceQ := `query($id: ID!) { device(id: $id) { id fingerprint } }`
	forbidden := e.mustFail(t, alice.AccessToken, userQ, map[string]any{"id": bob.User.ID}, "NOT_FOUND")
	missing := e.mustFail(t, alice.AccessToken, userQ, map[string]any{"id": "999999"}, "NOT_FOUND")
	if !reflect.DeepEqual(forbidden.Errors[0].Message, missing.Errors[0].Message) || string(forbidden.Data) != string(missing.Data) {
		t.Fatalf("forbidden and missing users differ: %+v / %+v", forbidden, missing)
	}
	forbiddenDev := e.mustFail(t, alice.AccessToken, deviceQ, map[string]any{"id": bobDevice}, "NOT_FOUND")
	missingDev := e.mustFail(t, alice.AccessToken, deviceQ, map[string]any{"id": "999999"}, "NOT_FOUND")
	if forbiddenDev.Errors[0].Message != missingDev.Errors[0].Message || string(forbiddenDev.Data) != string(missingDev.Data) {
		t.Fatalf("forbidden and missing devices differ: %+v / %+v", forbiddenDev, missingDev)
	}

	// Own data is readable; the device lists only the caller among its users.
	var own struct {
		User   struct{ Username string }
		Device struct {
			Fingerprint string
			Users       []struct{ Username string }
		}
	}
	e.must(t, bob.AccessToken, `query($u: ID!, $d: ID!) { user(id: $u) { username } device(id: $d) { fingerprint users { username } } }`,
		map[string]any{"u": bob.User.ID, "d": bobDevice}, &own)
	if own.User.Username != "bob" || own.Device.Fingerprint != "fp-bob" || len(own.Device.Users) != 1 {
		t.Fatalf("own data: got %+v", own)
	}

	e.mustFail(t, alice.AccessToken, `{ users { totalCount } }`, nil, "FORBIDDEN")
	e.mustFail(t, alice.AccessToken, `query($id: ID!) { user(id: $id) { id } }`, map[string]any{"id": "abc"}, "BAD_USER_INPUT")
}

func TestAdminOnlyMutations(t *testing.T) {
	e := newEnv(t)
	alice := e.user(t, "alice", domain.RoleUser)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	admin := e.user(t, "root", domain.RoleAdmin)
	status := `mutation($id: ID!, $s: UserStatus!) { updateUserStatus(id: $id, status: $s) { id status } }`
	vars := map[string]any{"id": alice.User.ID, "s": "FROZEN"}

	e.mustFail(t, alice.AccessToken, status, vars, "FORBIDDEN")
	e.mustFail(t, analyst.AccessToken, status, vars, "FORBIDDEN")
	e.mustFail(t, "", status, vars, "UNAUTHENTICATED")
	e.mustFail(t, admin.AccessToken, status, map[string]any{"id": admin.User.ID, "s": "FROZEN"}, "BAD_USER_INPUT")
	e.mustFail(t, admin.AccessToken, status, map[string]any{"id": "424242", "s": "FROZEN"}, "NOT_FOUND")

	var created struct {
		CreateUser struct{ ID, Role string }
	}
	e.must(t, admin.AccessToken, `mutation { createUser(input: {username: "payments", password: "gateway-secret-1", role: SERVICE}) { id role } }`, nil, &created)
	if created.CreateUser.Role != "SERVICE" {
		t.Fatalf("createUser role: got %s", created.CreateUser.Role)
	}
	e.mustFail(t, analyst.AccessToken, `mutation { createUser(input: {username: "x2", password: "gateway-secret-1", role: ADMIN}) { id } }`, nil, "FORBIDDEN")

	var role struct {
		UpdateUserRole struct{ Role string }
	}
	e.must(t, admin.AccessToken, `mutation($id: ID!) { updateUserRole(id: $id, role: VIP) { role } }`, map[string]any{"id": alice.User.ID}, &role)
	if role.UpdateUserRole.Role != "VIP" {
		t.Fatalf("updateUserRole: got %s, want VIP", role.UpdateUserRole.Role)
	}
	var me struct{ Me struct{ Role string } }
	e.must(t, alice.AccessToken, meQuery, nil, &me) // role changes apply to live tokens at once
	if me.Me.Role != "VIP" {
		t.Fatalf("role after update: got %s, want VIP", me.Me.Role)
	}

	var audit struct {
		AuditLogs struct {
			Edges []struct {
				Node struct {
					Action string
					Actor  struct{ Username string }
				}
			}
		}
	}
	e.must(t, admin.AccessToken, `{ auditLogs(filter: {action: "user.role_changed"}) { edges { node { action actor { username } } } } }`, nil, &audit)
	if len(audit.AuditLogs.Edges) != 1 || audit.AuditLogs.Edges[0].Node.Actor.Username != "root" {
		t.Fatalf("audit of role change: got %+v", audit.AuditLogs.Edges)
	}
	e.mustFail(t, analyst.AccessToken, `{ auditLogs { totalCount } }`, nil, "FORBIDDEN")
}

func TestFrozenUserCannotLogIn(t *testing.T) {
	e := newEnv(t)
	victim := e.user(t, "kate", domain.RoleUser)
	admin := e.user(t, "root", domain.RoleAdmin)
	e.must(t, admin.AccessToken, `mutation($id: ID!) { updateUserStatus(id: $id, status: FROZEN, reason: "chargebacks") { status } }`,
		map[string]any{"id": victim.User.ID}, nil)

	// The answer is the wrong-password one (TestFrozenAccountAnswersAlike).
	e.mustFail(t, "", loginMutation, map[string]any{"in": map[string]any{"username": "kate", "password": "correct horse battery"}}, "UNAUTHENTICATED")
	e.mustFail(t, victim.AccessToken, meQuery, nil, "UNAUTHENTICATED")
	e.mustFail(t, "", refreshMutation, map[string]any{"t": victim.RefreshToken}, "UNAUTHENTICATED")

	e.must(t, admin.AccessToken, `mutation($id: ID!) { updateUserStatus(id: $id, status: ACTIVE) { status } }`, map[string]any{"id": victim.User.ID}, nil)
	e.login(t, "kate", "correct horse battery")
}

func TestUsersPaginationWalksEveryUserOnce(t *testing.T) {
	e := newEnv(t)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	for i := range 23 {
		if _, err := e.app.accounts.EnsureUser(t.Context(), newTestUser(fmt.Sprintf("walker%02d", i)), true); err != nil {
			t.Fatal(err)
		}
	}
	query := `query($after: String) { users(first: 5, after: $after) { totalCount
		edges { cursor node { id username } } pageInfo { hasNextPage endCursor } } }`
	seen := map[string]int{}
	var after any
	pages := 0
	for {
		var out struct {
			Users struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID, Username string } }
				PageInfo   struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		e.must(t, analyst.AccessToken, query, map[string]any{"after": after}, &out)
		pages++
		if out.Users.TotalCount != 24 {
			t.Fatalf("totalCount: got %d, want 24", out.Users.TotalCount)
		}
		for _, edge := range out.Users.Edges {
			seen[edge.Node.ID]++
		}
		if !out.Users.PageInfo.HasNextPage {
			break
		}
		after = out.Users.PageInfo.EndCursor
	}
	if len(seen) != 24 || pages != 5 {
		t.Fatalf("walked %d users in %d pages, want 24 in 5", len(seen), pages)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("user %s seen %d times", id, n)
		}
	}

	var filtered struct{ Users struct{ TotalCount int } }
	e.must(t, analyst.AccessToken, `{ users(filter: {search: "WALKER1", role: USER}) { totalCount } }`, nil, &filtered)
	if filtered.Users.TotalCount != 10 {
		t.Errorf("search walker1: got %d, want 10", filtered.Users.TotalCount)
	}
	for _, bad := range []string{`{ users(first: 0) { totalCount } }`, `{ users(first: 101) { totalCount } }`, `{ users(after: "nope") { totalCount } }`} {
		e.mustFail(t, analyst.AccessToken, bad, nil, "BAD_USER_INPUT")
	}
}

func TestDeviceStatusByAnalyst(t *testing.T) {
	e := newEnv(t)
	var login struct{ Login session }
	e.user(t, "leo", domain.RoleUser)
	e.must(t, "", loginMutation, map[string]any{"in": map[string]any{"username": "leo", "password": "correct horse battery", "deviceId": "fp-shared"}}, &login)
	e.user(t, "mia", domain.RoleUser)
	e.must(t, "", loginMutation, map[string]any{"in": map[string]any{"username": "mia", "password": "correct horse battery", "deviceId": "fp-shared"}}, nil)
	analyst := e.user(t, "ana", domain.RoleAnalyst)

	var me struct {
		Me struct{ Devices []struct{ ID string } }
	}
	e.must(t, login.Login.AccessToken, `{ me { devices { id } } }`, nil, &me)
	id := me.Me.Devices[0].ID
	e.mustFail(t, login.Login.AccessToken, `mutation($id: ID!) { setDeviceStatus(id: $id, status: BLACKLISTED) { status } }`, map[string]any{"id": id}, "FORBIDDEN")

	var out struct {
		SetDeviceStatus struct {
			Status string
			Users  []struct{ Username string }
		}
	}
	e.must(t, analyst.AccessToken, `mutation($id: ID!) { setDeviceStatus(id: $id, status: ABNORMAL, reason: "emulator") { status users { username } } }`, map[string]any{"id": id}, &out)
	if out.SetDeviceStatus.Status != "ABNORMAL" || len(out.SetDeviceStatus.Users) != 2 {
		t.Fatalf("setDeviceStatus: got %+v, want ABNORMAL with 2 users", out.SetDeviceStatus)
	}
	e.mustFail(t, analyst.AccessToken, `mutation($id: ID!) { setDeviceStatus(id: $id, status: STOLEN) { status } }`, map[string]any{"id": id}, "GRAPHQL_VALIDATION_FAILED")
}

func TestHealthAndReadiness(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := e.srv.Client().Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: got HTTP %d, want 200", path, resp.StatusCode)
		}
	}
}
