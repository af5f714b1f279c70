package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket/wsjson"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/smartfinance/riskgraph/graph"
	"github.com/smartfinance/riskgraph/internal/apikey"
	"github.com/smartfinance/riskgraph/internal/domain"
)

// postWith sends one GraphQL request with the given headers (credentials).
func (e *testEnv) postWith(t testing.TB, headers map[string]string, query string, vars map[string]any) gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("POST /graphql: %v", err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("decode response (HTTP %d): %v: %s", resp.StatusCode, err, raw)
	}
	out.Status = resp.StatusCode
	return out
}

// withKey sends a request with an API key in X-Api-Key.
func (e *testEnv) withKey(t testing.TB, key, query string, vars map[string]any) gqlResponse {
	t.Helper()
	return e.postWith(t, map[string]string{"X-Api-Key": key}, query, vars)
}

type issuedKey struct {
	Secret string
	APIKey apiKeyRow `json:"apiKey"`
}

type apiKeyRow struct {
	ID, Name, Prefix string
	Scopes           []string
	User             struct{ Username string }
	CreatedBy        *struct{ Username string }
	CreatedAt        time.Time
	ExpiresAt        *time.Time
	RevokedAt        *time.Time
	LastUsedAt       *time.Time
	RotatedFromID    *string `json:"rotatedFromId"`
}

const apiKeyFields = `id name prefix scopes user { username } createdBy { username } createdAt expiresAt revokedAt lastUsedAt rotatedFromId`

// createKey has the admin issue a key for the SERVICE account userID.
func (e *testEnv) createKey(t *testing.T, adminToken, userID string, scopes []string, expiresAt *time.Time) issuedKey {
	t.Helper()
	in := map[string]any{"userId": userID, "name": "card gateway", "scopes": scopes}
	if expiresAt != nil {
		in["expiresAt"] = expiresAt
	}
	var out struct{ CreateAPIKey issuedKey }
	e.must(t, adminToken, `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret apiKey { `+apiKeyFields+` } } }`,
		map[string]any{"in": in}, &out)
	return out.CreateAPIKey
}

func (e *testEnv) listKeys(t *testing.T, adminToken string, vars map[string]any) []apiKeyRow {
	t.Helper()
	var out struct {
		APIKeys struct {
			Edges []struct{ Node apiKeyRow }
		} `json:"apiKeys"`
	}
	e.must(t, adminToken, `query($u: ID, $first: Int, $after: String) { apiKeys(filter: {userId: $u}, first: $first, after: $after) { edges { node { `+apiKeyFields+` } } } }`, vars, &out)
	var rows []apiKeyRow
	for _, e := range out.APIKeys.Edges {
		rows = append(rows, e.Node)
	}
	return rows
}

// failsWith asserts the request failed with code and a message containing msg.
func failsWith(t *testing.T, res gqlResponse, code, msg string) {
	t.Helper()
	if res.code() != code || !strings.Contains(res.Errors[0].Message, msg) {
		t.Fatalf("got %q %+v, want %s mentioning %q", res.code(), res.Errors, code, msg)
	}
}

var allScopes = []string{"transactions:submit", "logins:record", "labels:write", "results:read"}

const submitForMutation = `mutation($in: SubmitTransactionInput!) { submitTransaction(input: $in) { transaction { id userId } detection { decision features } } }`

func submitFor(userID, key string) map[string]any {
	return map[string]any{"in": map[string]any{"userId": userID, "amount": "25.00", "idempotencyKey": key}}
}

// TestAPIKeyLifecycle: an admin issues a key to a SERVICE account (the secret
// shown once, a prefix in listings), the key works in either header, its use
// is recorded, listings page, revocation ends it, and each change is audited.
func TestAPIKeyLifecycle(t *testing.T) {
	e := newEnv(t)
	admin := e.user(t, "root", domain.RoleAdmin)
	gateway := e.user(t, "gateway", domain.RoleService)
	customer := e.user(t, "cust", domain.RoleUser)

	issued := e.createKey(t, admin.AccessToken, gateway.User.ID, []string{"results:read", "transactions:submit", "results:read"}, nil)
	k := issued.APIKey
	if !strings.HasPrefix(issued.Secret, k.Prefix+"_") || len(k.Prefix) != len("rgk_")+8 {
		t.Fatalf("secret %q and prefix %q: want rgk_ and 8 characters, the secret starting with the prefix", issued.Secret, k.Prefix)
	}
	if !slices.Equal(k.Scopes, []string{"transactions:submit", "results:read"}) || k.User.Username != "gateway" ||
		k.CreatedBy == nil || k.CreatedBy.Username != "root" || k.ExpiresAt != nil || k.RevokedAt != nil || k.LastUsedAt != nil {
		t.Fatalf("created key: %+v", k)
	}

	// Either header; the scheme's case does not matter.
	var sub struct {
		SubmitTransaction struct {
			Transaction struct{ ID, UserID string }
			Detection   struct{ Features map[string]any }
		}
	}
	res := e.withKey(t, issued.Secret, submitForMutation, submitFor(customer.User.ID, "k-1"))
	if len(res.Errors) > 0 {
		t.Fatalf("submit with X-Api-Key: %+v", res.Errors)
	}
	json.Unmarshal(res.Data, &sub) //nolint:errcheck // checked below
	if sub.SubmitTransaction.Transaction.UserID != customer.User.ID || len(sub.SubmitTransaction.Detection.Features) != 0 {
		t.Fatalf("submitted: %+v; want the customer's transaction, without the feature vector (SERVICE)", sub.SubmitTransaction)
	}
	res = e.postWith(t, map[string]string{"Authorization": "apikey " + issued.Secret},
		`query($id: ID!) { transaction(id: $id) { id userId } }`, map[string]any{"id": sub.SubmitTransaction.Transaction.ID})
	if len(res.Errors) > 0 || !strings.Contains(string(res.Data), `"userId":"`+customer.User.ID+`"`) {
		t.Fatalf("read back with Authorization: ApiKey: %s %+v", res.Data, res.Errors)
	}

	// The use is recorded (queued, written by the flusher; flushed here).
	if err := e.app.keys.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	rows := e.listKeys(t, admin.AccessToken, map[string]any{"u": gateway.User.ID})
	if len(rows) != 1 || rows[0].LastUsedAt == nil || rows[0].Prefix != k.Prefix {
		t.Fatalf("listing after use: %+v; want the key with lastUsedAt", rows)
	}

	// Listings page newest first and filter by account.
	second := e.createKey(t, admin.AccessToken, gateway.User.ID, []string{"labels:write"}, nil)
	other := e.user(t, "gateway2", domain.RoleService)
	third := e.createKey(t, admin.AccessToken, other.User.ID, []string{"logins:record"}, nil)
	var page struct {
		APIKeys struct {
			Edges    []struct{ Node struct{ ID string } }
			PageInfo struct {
				HasNextPage bool
				EndCursor   string
			}
			TotalCount int
		} `json:"apiKeys"`
	}
	e.must(t, admin.AccessToken, `{ apiKeys(first: 2) { edges { node { id } } pageInfo { hasNextPage endCursor } totalCount } }`, nil, &page)
	if p := page.APIKeys; p.TotalCount != 3 || len(p.Edges) != 2 || !p.PageInfo.HasNextPage ||
		p.Edges[0].Node.ID != third.APIKey.ID || p.Edges[1].Node.ID != second.APIKey.ID {
		t.Fatalf("first page: %+v", p)
	}
	if rest := e.listKeys(t, admin.AccessToken, map[string]any{"first": 2, "after": page.APIKeys.PageInfo.EndCursor}); len(rest) != 1 || rest[0].ID != k.ID {
		t.Fatalf("second page: %+v", rest)
	}
	if mine := e.listKeys(t, admin.AccessToken, map[string]any{"u": other.User.ID}); len(mine) != 1 || mine[0].ID != third.APIKey.ID {
		t.Fatalf("filtered by account: %+v", mine)
	}

	// Revocation ends the key; revoking again changes nothing.
	var revoked struct{ RevokeAPIKey apiKeyRow }
	e.must(t, admin.AccessToken, `mutation($id: ID!) { revokeApiKey(id: $id) { `+apiKeyFields+` } }`, map[string]any{"id": k.ID}, &revoked)
	if revoked.RevokeAPIKey.RevokedAt == nil {
		t.Fatalf("revoked key: %+v", revoked.RevokeAPIKey)
	}
	failsWith(t, e.withKey(t, issued.Secret, `{ transactions(first: 1) { totalCount } }`, nil), "UNAUTHENTICATED", "API key revoked")
	var again struct{ RevokeAPIKey apiKeyRow }
	e.must(t, admin.AccessToken, `mutation($id: ID!) { revokeApiKey(id: $id) { `+apiKeyFields+` } }`, map[string]any{"id": k.ID}, &again)
	if !again.RevokeAPIKey.RevokedAt.Equal(*revoked.RevokeAPIKey.RevokedAt) {
		t.Errorf("revoking twice moved revokedAt: %v then %v", revoked.RevokeAPIKey.RevokedAt, again.RevokeAPIKey.RevokedAt)
	}
	e.mustFail(t, admin.AccessToken, `mutation { revokeApiKey(id: "999999") { id } }`, nil, "NOT_FOUND")

	// The audit log has each change once, by the admin, without the secret.
	var audit struct {
		AuditLogs struct {
			Edges []struct {
				Node struct {
					Action, TargetID string
					Actor            struct{ Username string }
				}
			}
		}
	}
	e.must(t, admin.AccessToken, `{ auditLogs(filter: {targetType: "api_key"}, first: 100) { edges { node { action targetId actor { username } } } } }`, nil, &audit)
	var actions []string
	for _, ed := range audit.AuditLogs.Edges {
		if ed.Node.Actor.Username != "root" {
			t.Errorf("audit entry %+v: want the admin as actor", ed.Node)
		}
		actions = append(actions, ed.Node.Action+" "+ed.Node.TargetID)
	}
	slices.Sort(actions)
	want := []string{"apikey.created " + k.ID, "apikey.created " + second.APIKey.ID, "apikey.created " + third.APIKey.ID, "apikey.revoked " + k.ID}
	slices.Sort(want)
	if !slices.Equal(actions, want) {
		t.Errorf("audit: got %v, want %v", actions, want)
	}
}

// TestAPIKeyAdministrationIsChecked: only admins manage keys, only SERVICE
// accounts hold them, and bad input is named.
func TestAPIKeyAdministrationIsChecked(t *testing.T) {
	e := newEnv(t)
	admin := e.user(t, "root", domain.RoleAdmin)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	gateway := e.user(t, "gateway", domain.RoleService)
	customer := e.user(t, "cust", domain.RoleUser)
	const create = `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret } }`
	in := func(edit func(map[string]any)) map[string]any {
		m := map[string]any{"userId": gateway.User.ID, "name": "gw", "scopes": []string{"results:read"}}
		edit(m)
		return map[string]any{"in": m}
	}
	for _, tt := range []struct {
		name, token string
		vars        map[string]any
		code, msg   string
	}{
		{"an analyst", analyst.AccessToken, in(func(map[string]any) {}), "FORBIDDEN", "role"},
		{"the service account itself", gateway.AccessToken, in(func(map[string]any) {}), "FORBIDDEN", "role"},
		{"for a customer", admin.AccessToken, in(func(m map[string]any) { m["userId"] = customer.User.ID }), "BAD_USER_INPUT", "SERVICE accounts"},
		{"for an admin", admin.AccessToken, in(func(m map[string]any) { m["userId"] = admin.User.ID }), "FORBIDDEN", "below your own"},
		{"for nobody", admin.AccessToken, in(func(m map[string]any) { m["userId"] = "999999" }), "NOT_FOUND", ""},
		{"no scopes", admin.AccessToken, in(func(m map[string]any) { m["scopes"] = []string{} }), "BAD_USER_INPUT", "transactions:submit"},
		{"unknown scope", admin.AccessToken, in(func(m map[string]any) { m["scopes"] = []string{"rules:write"} }), "BAD_USER_INPUT", "unknown scope"},
		{"no name", admin.AccessToken, in(func(m map[string]any) { m["name"] = "  " }), "BAD_USER_INPUT", "name"},
		{"expired already", admin.AccessToken, in(func(m map[string]any) { m["expiresAt"] = e.clock.Now().Add(-time.Minute) }), "BAD_USER_INPUT", "expiresAt"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			failsWith(t, e.post(t, tt.token, create, tt.vars), tt.code, tt.msg)
		})
	}
	k := e.createKey(t, admin.AccessToken, gateway.User.ID, []string{"results:read"}, nil)
	e.mustFail(t, analyst.AccessToken, `{ apiKeys { totalCount } }`, nil, "FORBIDDEN")
	e.mustFail(t, analyst.AccessToken, `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, map[string]any{"id": k.APIKey.ID}, "FORBIDDEN")
	failsWith(t, e.post(t, admin.AccessToken, `mutation($id: ID!) { rotateApiKey(id: $id, overlapSeconds: -1) { secret } }`, map[string]any{"id": k.APIKey.ID}), "BAD_USER_INPUT", "overlapSeconds")
	failsWith(t, e.post(t, admin.AccessToken, `mutation($id: ID!) { rotateApiKey(id: $id, overlapSeconds: 2592001) { secret } }`, map[string]any{"id": k.APIKey.ID}), "BAD_USER_INPUT", "overlapSeconds")
	// A key cannot manage keys: its role is SERVICE, and no scope names key management.
	failsWith(t, e.withKey(t, k.Secret, `{ apiKeys { totalCount } }`, nil), "FORBIDDEN", "role")
}

// TestAPIKeyScopesAndRole: a key calls only fields of its scopes (the refusal
// names the missing scope), never session-only fields, and never more than
// its account's role allows.
func TestAPIKeyScopesAndRole(t *testing.T) {
	e := newEnv(t)
	admin := e.user(t, "root", domain.RoleAdmin)
	gateway := e.user(t, "gateway", domain.RoleService)
	customer := e.user(t, "cust", domain.RoleUser)
	reader := e.createKey(t, admin.AccessToken, gateway.User.ID, []string{"results:read"}, nil).Secret
	full := e.createKey(t, admin.AccessToken, gateway.User.ID, allScopes, nil).Secret

	var sub struct {
		SubmitTransaction struct{ Transaction struct{ ID string } }
	}
	e.must(t, gateway.AccessToken, submitForMutation, submitFor(customer.User.ID, "s-1"), &sub)
	txID := sub.SubmitTransaction.Transaction.ID

	const (
		label  = `mutation($id: ID!) { labelTransaction(id: $id, label: FRAUD) { source } }`
		record = `mutation($in: RecordLoginInput!) { recordLogin(input: $in) { id } }`
	)
	recordVars := map[string]any{"in": map[string]any{"userId": customer.User.ID, "success": true}}
	for _, tt := range []struct {
		name, query string
		vars        map[string]any
		msg         string
	}{
		{"submit", submitForMutation, submitFor(customer.User.ID, "s-2"), "lacks the scope transactions:submit"},
		{"label", label, map[string]any{"id": txID}, "lacks the scope labels:write"},
		{"record a login", record, recordVars, "lacks the scope logins:record"},
		{"me", `{ me { id } }`, nil, "for logged-in sessions"},
		{"change the password", `mutation { changePassword(input: {oldPassword: "correct horse battery", newPassword: "another horse battery"}) }`, nil, "for logged-in sessions"},
		{"log out", `mutation { logout }`, nil, "revokes the key"},
	} {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			failsWith(t, e.withKey(t, reader, tt.query, tt.vars), "FORBIDDEN", tt.msg)
		})
	}
	// Within its scope the reader reads what its account submitted.
	res := e.withKey(t, reader, `query($id: ID!) { transaction(id: $id) { id } }`, map[string]any{"id": txID})
	if len(res.Errors) > 0 || !strings.Contains(string(res.Data), txID) {
		t.Fatalf("read within scope: %s %+v", res.Data, res.Errors)
	}
	// Every scope: each SERVICE operation works.
	if res := e.withKey(t, full, label, map[string]any{"id": txID}); len(res.Errors) > 0 {
		t.Fatalf("label with labels:write: %+v", res.Errors)
	}
	if res := e.withKey(t, full, record, recordVars); len(res.Errors) > 0 {
		t.Fatalf("recordLogin with logins:record: %+v", res.Errors)
	}
	// ...and the role still limits the key: staff fields are refused, and
	// what another channel submitted is not the account's to read.
	failsWith(t, e.withKey(t, full, `{ users { totalCount } }`, nil), "FORBIDDEN", "role")
	failsWith(t, e.withKey(t, full, `{ riskEvents { totalCount } }`, nil), "FORBIDDEN", "role")
	theirs := e.submit(t, customer.AccessToken, map[string]any{"amount": "30"})
	if res := e.withKey(t, full, `query($id: ID!) { transaction(id: $id) { id } }`, map[string]any{"id": theirs.Transaction.ID}); res.code() != "NOT_FOUND" {
		t.Fatalf("another channel's transaction through a key: %s %+v; want NOT_FOUND", res.Data, res.Errors)
	}

	// A customer's login reported with a key: its address is the key's to
	// state only with logins:record, as recordLogin is.
	for _, tt := range []struct {
		key, want string
	}{{reader, "127.0.0.1"}, {full, "198.51.100.7"}} {
		res := e.withKey(t, tt.key, `mutation($in: LoginInput!) { login(input: $in) { user { id } } }`, map[string]any{"in": map[string]any{
			"username": "cust", "password": "correct horse battery", "ipAddress": "198.51.100.7"}})
		if len(res.Errors) > 0 {
			t.Fatalf("login reported with a key: %+v", res.Errors)
		}
		var me struct {
			Me struct{ LoginLogs []struct{ IPAddress string } }
		}
		e.must(t, customer.AccessToken, `{ me { loginLogs(first: 1) { ipAddress } } }`, nil, &me)
		if got := me.Me.LoginLogs[0].IPAddress; got != tt.want {
			t.Errorf("the login's address: got %s, want %s", got, tt.want)
		}
	}
}

// TestAPIKeyScopesCoverServiceFields pins the scope catalogue to the schema:
// every field a SERVICE account may call names a scope of the catalogue, and
// every scope is used.
func TestAPIKeyScopesCoverServiceFields(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	used := map[string]bool{}
	for _, def := range schema.Types {
		if def.BuiltIn || def.Kind != ast.Object {
			continue
		}
		for _, f := range def.Fields {
			d := f.Directives.ForName("hasRole")
			if d == nil {
				continue
			}
			scope := ""
			if a := d.Arguments.ForName("scope"); a != nil {
				scope = a.Value.Raw
				if !slices.Contains(apikey.Scopes, scope) {
					t.Errorf("%s.%s: scope %q is not in apikey.Scopes", def.Name, f.Name, scope)
				}
				used[scope] = true
			}
			// Fields without roles (me, changePassword) are every account's own
			// identity and credentials: session-only on purpose.
			service := false
			if roles := d.Arguments.ForName("roles"); roles != nil {
				for _, r := range roles.Value.Children {
					service = service || r.Value.Raw == string(domain.RoleService)
				}
			}
			if service && scope == "" {
				t.Errorf("%s.%s: SERVICE may call it, but it names no scope, so no API key can", def.Name, f.Name)
			}
		}
	}
	for _, s := range apikey.Scopes {
		if !used[s] {
			t.Errorf("scope %s: no field names it", s)
		}
	}
}

// TestAPIKeyExpiryAndRotation: an expired key is refused; a rotated key keeps
// working for the overlap beside its successor, then stops.
func TestAPIKeyExpiryAndRotation(t *testing.T) {
	e := newEnv(t)
	admin := e.user(t, "root", domain.RoleAdmin)
	gateway := e.user(t, "gateway", domain.RoleService)
	const read = `{ transactions(first: 1) { totalCount } }`
	works := func(key string) bool { return e.withKey(t, key, read, nil).code() == "" }

	expires := e.clock.Now().Add(time.Hour)
	short := e.createKey(t, admin.AccessToken, gateway.User.ID, []string{"results:read"}, &expires)
	if !works(short.Secret) {
		t.Fatal("a fresh key with an expiry was refused")
	}

	old := e.createKey(t, admin.AccessToken, gateway.User.ID, []string{"results:read"}, nil)
	if !works(old.Secret) { // now in this instance's cache
		t.Fatal("a fresh key was refused")
	}
	var rot struct{ RotateAPIKey issuedKey }
	e.must(t, admin.AccessToken, `mutation($id: ID!) { rotateApiKey(id: $id, overlapSeconds: 600) { secret apiKey { `+apiKeyFields+` } } }`,
		map[string]any{"id": old.APIKey.ID}, &rot)
	next := rot.RotateAPIKey
	if next.Secret == old.Secret || next.APIKey.RotatedFromID == nil || *next.APIKey.RotatedFromID != old.APIKey.ID ||
		!slices.Equal(next.APIKey.Scopes, old.APIKey.Scopes) || next.APIKey.Name != old.APIKey.Name {
		t.Fatalf("successor: %+v", next.APIKey)
	}
	if !works(old.Secret) || !works(next.Secret) {
		t.Fatal("during the overlap both keys must work")
	}
	for _, r := range e.listKeys(t, admin.AccessToken, nil) {
		if r.ID == old.APIKey.ID && (r.ExpiresAt == nil || r.ExpiresAt.Sub(e.clock.Now()) > 600*time.Second || r.ExpiresAt.Sub(e.clock.Now()) < 590*time.Second) {
			t.Fatalf("the old key's expiry: %v, want about now + 600 s", r.ExpiresAt)
		}
	}

	e.clock.Advance(11 * time.Minute)
	failsWith(t, e.withKey(t, old.Secret, read, nil), "UNAUTHENTICATED", "API key expired")
	if !works(next.Secret) || !works(short.Secret) {
		t.Fatal("the successor (and the other key) must outlive the overlap")
	}
	e.mustFail(t, admin.AccessToken, `mutation($id: ID!) { rotateApiKey(id: $id) { secret } }`, map[string]any{"id": old.APIKey.ID}, "CONFLICT")

	// Overlap 0: the old key stops at once.
	var now struct{ RotateAPIKey issuedKey }
	e.must(t, admin.AccessToken, `mutation($id: ID!) { rotateApiKey(id: $id) { secret } }`, map[string]any{"id": next.APIKey.ID}, &now)
	failsWith(t, e.withKey(t, next.Secret, read, nil), "UNAUTHENTICATED", "API key expired")
	if !works(now.RotateAPIKey.Secret) {
		t.Fatal("the second successor was refused")
	}

	e.clock.Advance(time.Hour)
	failsWith(t, e.withKey(t, short.Secret, read, nil), "UNAUTHENTICATED", "API key expired")
}

// TestAPIKeyChangesReachOtherInstances: a key cached on instance B stops
// working there within a second of a revocation, rotation, freeze or demotion
// made on instance A (the session notifications), and B answers from memory
// meanwhile.
func TestAPIKeyChangesReachOtherInstances(t *testing.T) {
	a := newEnv(t)
	b := newEnvOn(t, a.db, a.url)
	admin := a.user(t, "root", domain.RoleAdmin)
	const read = `{ transactions(first: 1) { totalCount } }`
	for _, tt := range []struct {
		name, query, msg string
		vars             func(userID, keyID string) map[string]any
	}{
		{"revoke", `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, "API key revoked",
			func(_, keyID string) map[string]any { return map[string]any{"id": keyID} }},
		{"rotate without overlap", `mutation($id: ID!) { rotateApiKey(id: $id) { secret } }`, "API key expired",
			func(_, keyID string) map[string]any { return map[string]any{"id": keyID} }},
		{"freeze the account", `mutation($id: ID!) { updateUserStatus(id: $id, status: FROZEN) { status } }`, "not active",
			func(userID, _ string) map[string]any { return map[string]any{"id": userID} }},
		{"demote the account", `mutation($id: ID!) { updateUserRole(id: $id, role: USER) { role } }`, "no longer a SERVICE account",
			func(userID, _ string) map[string]any { return map[string]any{"id": userID} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gw := a.user(t, "gw-"+strings.ReplaceAll(tt.name, " ", "-"), domain.RoleService)
			k := a.createKey(t, admin.AccessToken, gw.User.ID, []string{"results:read"}, nil)
			if res := b.withKey(t, k.Secret, read, nil); res.code() != "" {
				t.Fatalf("fresh key on B: %+v", res.Errors)
			}
			a.must(t, admin.AccessToken, tt.query, tt.vars(gw.User.ID, k.APIKey.ID), nil)
			start := time.Now()
			for {
				res := b.withKey(t, k.Secret, read, nil)
				if res.code() == "UNAUTHENTICATED" {
					failsWith(t, res, "UNAUTHENTICATED", tt.msg)
					break
				}
				if time.Since(start) > time.Second {
					t.Fatalf("B still accepts the key %v after the change; the bound is 1s", time.Since(start))
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Logf("B refused the key %v after the change", time.Since(start))
		})
	}

	t.Run("a revocation no notification announced", func(t *testing.T) {
		gw := a.user(t, "gw-lost", domain.RoleService)
		k := a.createKey(t, admin.AccessToken, gw.User.ID, []string{"results:read"}, nil)
		if res := b.withKey(t, k.Secret, read, nil); res.code() != "" {
			t.Fatalf("fresh key on B: %+v", res.Errors)
		}
		// Revoke behind the triggers' back, as if the notification were lost.
		ctx := context.Background()
		tx, err := a.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback() //nolint:errcheck
		if _, err := tx.ExecContext(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE api_keys SET revoked_at = now() WHERE id = ?", k.APIKey.ID); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		// Served from B's memory meanwhile (the cache at work), then refused
		// once the entry is SESSION_CACHE_TTL old; the poll adds a few milliseconds.
		start := time.Now()
		for b.withKey(t, k.Secret, read, nil).code() == "" {
			if time.Since(start) > time.Second+250*time.Millisecond {
				t.Fatalf("still accepted %v after the revocation; the bound is the 1s cache", time.Since(start))
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("refused after %v without a notification", time.Since(start))
	})
}

// TestAPIKeyNeverInClear: the key appears in no database row (only its
// SHA-256 does) and in no log line, including for refused keys.
func TestAPIKeyNeverInClear(t *testing.T) {
	e, logs := newEnvWith(t, func(*config) {})
	admin := e.user(t, "root", domain.RoleAdmin)
	gateway := e.user(t, "gateway", domain.RoleService)
	customer := e.user(t, "cust", domain.RoleUser)
	k := e.createKey(t, admin.AccessToken, gateway.User.ID, allScopes, nil)
	e.withKey(t, k.Secret, submitForMutation, submitFor(customer.User.ID, "c-1"))
	e.postWith(t, map[string]string{"Authorization": "ApiKey " + k.Secret}, `{ me { id } }`, nil)
	var rot struct{ RotateAPIKey issuedKey }
	e.must(t, admin.AccessToken, `mutation($id: ID!) { rotateApiKey(id: $id, overlapSeconds: 60) { secret } }`, map[string]any{"id": k.APIKey.ID}, &rot)
	e.withKey(t, rot.RotateAPIKey.Secret, `{ transactions { totalCount } }`, nil)
	e.must(t, admin.AccessToken, `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, map[string]any{"id": k.APIKey.ID}, nil)
	e.withKey(t, k.Secret, `{ transactions { totalCount } }`, nil) // refused now
	if err := e.app.keys.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	var tables []string
	if err := e.db.NewRaw(`SELECT quote_ident(table_name) FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`).Scan(ctx, &tables); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{k.Secret, rot.RotateAPIKey.Secret} {
		random := secret[strings.LastIndexByte(secret, '_')+1:] // the part that is not the public prefix
		for _, table := range tables {
			var n int
			if err := e.db.NewRaw(`SELECT count(*) FROM `+table+` t WHERE t::text LIKE '%' || ? || '%'`, random).Scan(ctx, &n); err != nil {
				t.Fatal(err)
			}
			if n > 0 {
				t.Errorf("table %s holds a key in clear (%d rows)", table, n)
			}
		}
		sum := sha256.Sum256([]byte(secret))
		if n := e.count(t, `SELECT count(*) FROM api_keys WHERE key_hash = ?`, sum[:]); n != 1 {
			t.Errorf("api_keys rows with the key's SHA-256: got %d, want 1", n)
		}
		if strings.Contains(logs.String(), random) {
			t.Errorf("the logs hold a key in clear")
		}
	}
	if !strings.Contains(logs.String(), "request") {
		t.Fatal("no log lines were captured; the check above proves nothing")
	}
}

// TestAPIKeyHeaderFormats: each way of getting the credential headers wrong
// gets a clear UNAUTHENTICATED answer on fields that need a caller.
func TestAPIKeyHeaderFormats(t *testing.T) {
	e := newEnv(t)
	admin := e.user(t, "root", domain.RoleAdmin)
	gateway := e.user(t, "gateway", domain.RoleService)
	k := e.createKey(t, admin.AccessToken, gateway.User.ID, []string{"results:read"}, nil)
	unknown := k.APIKey.Prefix + "_" + strings.Repeat("A", 52)
	const read = `{ transactions(first: 1) { totalCount } }`
	for _, tt := range []struct {
		name    string
		headers map[string]string
		msg     string // "" : accepted
	}{
		{"X-Api-Key", map[string]string{"X-Api-Key": k.Secret}, ""},
		{"Authorization: ApiKey", map[string]string{"Authorization": "ApiKey " + k.Secret}, ""},
		{"scheme in lower case, extra spaces", map[string]string{"Authorization": "apikey   " + k.Secret + " "}, ""},
		{"another scheme", map[string]string{"Authorization": "Basic " + k.Secret}, `send "Bearer <access token>" or "ApiKey <key>"`},
		{"the key without a scheme", map[string]string{"Authorization": k.Secret}, `send "Bearer <access token>" or "ApiKey <key>"`},
		{"a scheme without a key", map[string]string{"Authorization": "ApiKey"}, "names a scheme but no credential"},
		{"a key as a bearer token", map[string]string{"Authorization": "Bearer " + k.Secret}, "invalid or expired access token"},
		{"both headers", map[string]string{"Authorization": "Bearer x", "X-Api-Key": k.Secret}, "not both"},
		{"truncated", map[string]string{"X-Api-Key": k.Secret[:40]}, "malformed API key"},
		{"unknown", map[string]string{"X-Api-Key": unknown}, "invalid API key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := e.postWith(t, tt.headers, read, nil)
			if tt.msg == "" {
				if len(res.Errors) > 0 {
					t.Fatalf("refused: %+v", res.Errors)
				}
				return
			}
			failsWith(t, res, "UNAUTHENTICATED", tt.msg)
			if strings.Contains(res.Errors[0].Message, k.Secret[len(k.APIKey.Prefix):]) {
				t.Errorf("the answer echoes the key: %s", res.Errors[0].Message)
			}
		})
	}
}

// TestAPIKeyWebsocket: a websocket authenticated by an API key (in
// connection_init or the upgrade request) answers within its scopes, and is
// closed when the key is revoked, on another instance too; a bad key is
// refused at connection_init.
func TestAPIKeyWebsocket(t *testing.T) {
	a := newEnv(t)
	b := newEnvOn(t, a.db, a.url)
	admin := a.user(t, "root", domain.RoleAdmin)
	gateway := a.user(t, "gateway", domain.RoleService)
	query := func(t *testing.T, p *wsPeer, q string) string {
		t.Helper()
		payload, _ := json.Marshal(map[string]string{"query": q})
		if err := wsjson.Write(context.Background(), p.conn, wsMessage{ID: "q", Type: "subscribe", Payload: payload}); err != nil {
			t.Fatal(err)
		}
		m := p.next(t, "the answer")
		if m.Type != "next" {
			t.Fatalf("got %s %s, want next", m.Type, m.Payload)
		}
		if done := p.next(t, "complete"); done.Type != "complete" {
			t.Fatalf("got %s, want complete", done.Type)
		}
		return string(m.Payload)
	}
	for _, tt := range []struct {
		name string
		dial func(key string) wsDial
	}{
		{"connection_init X-Api-Key", func(key string) wsDial { return wsDial{initPayload: map[string]string{"X-Api-Key": key}} }},
		{"connection_init Authorization", func(key string) wsDial {
			return wsDial{initPayload: map[string]string{"Authorization": "ApiKey " + key}}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k := a.createKey(t, admin.AccessToken, gateway.User.ID, []string{"results:read"}, nil)
			p := dialWSPeer(t, b, tt.dial(k.Secret))
			if m := p.next(t, "connection_ack"); m.Type != "connection_ack" {
				t.Fatalf("got %s %s, want connection_ack", m.Type, m.Payload)
			}
			if got := query(t, p, `{ transactions(first: 1) { totalCount } }`); !strings.Contains(got, "totalCount") {
				t.Fatalf("query over the websocket: %s", got)
			}
			if got := query(t, p, `{ me { id } }`); !strings.Contains(got, "FORBIDDEN") {
				t.Fatalf("a session-only field over a key's websocket: %s", got)
			}
			a.must(t, admin.AccessToken, `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, map[string]any{"id": k.APIKey.ID}, nil)
			p.expectClosed(t, closeSessionEnded)
		})
	}
	t.Run("upgrade header", func(t *testing.T) {
		k := a.createKey(t, admin.AccessToken, gateway.User.ID, []string{"results:read"}, nil)
		p := dialWSPeer(t, b, wsDial{header: http.Header{"X-Api-Key": {k.Secret}}})
		if m := p.next(t, "connection_ack"); m.Type != "connection_ack" {
			t.Fatalf("got %s %s, want connection_ack", m.Type, m.Payload)
		}
		if got := query(t, p, `{ transactions(first: 1) { totalCount } }`); !strings.Contains(got, "totalCount") {
			t.Fatalf("query over the websocket: %s", got)
		}
	})
	t.Run("revoked key", func(t *testing.T) {
		k := a.createKey(t, admin.AccessToken, gateway.User.ID, []string{"results:read"}, nil)
		a.must(t, admin.AccessToken, `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, map[string]any{"id": k.APIKey.ID}, nil)
		p := dialWSPeer(t, b, wsDial{initPayload: map[string]string{"X-Api-Key": k.Secret}})
		p.expectClosed(t, closeTokenExpired)
	})
}

// BenchmarkAPIKeyRequest: the cheapest request through the real handler
// ({ __typename }, which still authenticates its credential) with no
// credential, and with an API key checked from memory or from the database.
func BenchmarkAPIKeyRequest(b *testing.B) {
	for _, tt := range []struct {
		name string
		ttl  time.Duration
		key  bool
	}{{"anonymous", time.Second, false}, {"key cached", time.Second, true}, {"key database", 0, true}} {
		b.Run(tt.name, func(b *testing.B) {
			e, _ := newEnvWith(b, func(c *config) { c.Limits.SessionCacheTTL = tt.ttl })
			headers := map[string]string{}
			if tt.key {
				gw := e.user(b, "gateway", domain.RoleService)
				issued, err := e.app.keys.IssueDemo(context.Background(), mustID(b, gw.User.ID), "bench")
				if err != nil {
					b.Fatal(err)
				}
				headers["X-Api-Key"] = issued
			}
			b.ResetTimer()
			for b.Loop() {
				if res := e.postWith(b, headers, `{ __typename }`, nil); res.code() != "" {
					b.Fatal(res.Errors)
				}
			}
		})
	}
}

func mustID(t testing.TB, id string) int64 {
	t.Helper()
	var n int64
	if err := json.Unmarshal([]byte(id), &n); err != nil {
		t.Fatalf("ID %q: %v", id, err)
	}
	return n
}
