package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/graph"
	"github.com/smartfinance/riskgraph/internal/account"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/gqlguard"
)

// postFrom sends a request from a given loopback address (127.0.0.0/8 is all
// local) with a given User-Agent, so tests can play several clients.
func (e *testEnv) postFrom(t *testing.T, from, userAgent, token, query string, vars map[string]any) gqlResponse {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)},
	}).DialContext}}
	defer client.CloseIdleConnections()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST /graphql from %s: %v", from, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("decode response (HTTP %d): %v: %s", resp.StatusCode, err, raw)
	}
	out.Status = resp.StatusCode
	return out
}

func loginVars(username, password string) map[string]any {
	return map[string]any{"in": map[string]any{"username": username, "password": password}}
}

const changePasswordMutation = `mutation($old: String!, $new: String!) { changePassword(input: {oldPassword: $old, newPassword: $new}) }`

func TestPasswordCheckingFieldsOnePerOperation(t *testing.T) {
	// The fields are found in the schema, so a new one is covered without a list to update.
	found := gqlguard.FindPasswordFields(graph.NewExecutableSchema(graph.Config{}).Schema())
	want := []string{"Mutation.changePassword", "Mutation.createUser", "Mutation.login", "Mutation.register"}
	if got := slices.Sorted(maps.Keys(found)); !slices.Equal(got, want) {
		t.Fatalf("password fields: got %v, want %v", got, want)
	}

	e := newEnv(t)
	s := e.user(t, "olga", domain.RoleUser)
	admin := e.user(t, "root", domain.RoleAdmin)
	const login = `login(input: {username: "olga", password: "guess"}) { accessToken }`
	const change = `changePassword(input: {oldPassword: "guess", newPassword: "brand new secret"})`
	const register = `register(input: {username: "newbie", password: "long enough pw"}) { accessToken }`
	const create = `createUser(input: {username: "made", password: "long enough pw", role: USER}) { id }`
	var twenty []string
	for i := range 20 {
		twenty = append(twenty, fmt.Sprintf(`c%d: changePassword(input: {oldPassword: "guess-%d", newPassword: "brand new secret"})`, i, i))
	}
	for _, tt := range []struct {
		name, token, query string
	}{
		{"login twice", "", "mutation { a: " + login + " b: " + login + " }"},
		{"login twice, same response key", "", "mutation { " + login + " " + login + " }"},
		{"changePassword twice", s.AccessToken, "mutation { a: " + change + " b: " + change + " }"},
		{"twenty aliased changePassword", s.AccessToken, "mutation { " + strings.Join(twenty, " ") + " }"},
		{"login and changePassword", s.AccessToken, "mutation { " + login + " " + change + " }"},
		{"register twice", "", "mutation { a: " + register + " b: " + register + " }"},
		{"createUser and login", admin.AccessToken, "mutation { " + create + " " + login + " }"},
		{"fragment holding two", "", "mutation { ...F } fragment F on Mutation { a: " + login + " b: " + login + " }"},
		{"one fragment spread twice", "", "mutation { ...F ...F } fragment F on Mutation { a: " + login + " }"},
		{"field and nested fragments", s.AccessToken, "mutation { " + change + " ...F } fragment F on Mutation { ...G } fragment G on Mutation { x: " + login + " }"},
		{"inline fragments", "", "mutation { ... on Mutation { a: " + login + " } ... { b: " + login + " } }"},
		{"skipped one still counts", "", "mutation { a: " + login + " b: " + strings.Replace(login, ") {", ") @skip(if: true) {", 1) + " }"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			logs := e.count(t, "SELECT count(*) FROM login_logs")
			audits := e.count(t, "SELECT count(*) FROM audit_logs")
			res, took := e.timedPost(t, tt.token, tt.query, nil)
			if took > pathologicalBound {
				t.Errorf("rejection took %v, want under %v", took, pathologicalBound)
			}
			if res.code() != "BAD_USER_INPUT" || len(res.Errors) != 1 || string(res.Data) != "null" && len(res.Data) != 0 {
				t.Fatalf("got %+v data %s, want one BAD_USER_INPUT and no data", res.Errors, res.Data)
			}
			// Rejected before any resolver: nothing checked, nothing recorded.
			if n := e.count(t, "SELECT count(*) FROM login_logs"); n != logs {
				t.Fatalf("login logs: got %d, want %d", n, logs)
			}
			if n := e.count(t, "SELECT count(*) FROM audit_logs"); n != audits {
				t.Fatalf("audit rows: got %d, want %d", n, audits)
			}
		})
	}
	// One password field with anything else is fine.
	e.must(t, "", `mutation { login(input: {username: "olga", password: "correct horse battery"}) { accessToken } logout(refreshToken: "none") }`, nil, nil)

	// The reported attack: 20 aliases per request, 10 requests at once.
	// Before, it checked 200 passwords in 13 s; a generous bound on the whole burst guards the class.
	var wg sync.WaitGroup
	start := time.Now()
	for range 10 {
		wg.Go(func() {
			if res := e.post(t, s.AccessToken, "mutation { "+strings.Join(twenty, " ")+" }", nil); res.code() != "BAD_USER_INPUT" {
				t.Errorf("parallel aliased changePassword: got %+v", res.Errors)
			}
		})
	}
	wg.Wait()
	if took := time.Since(start); took > 10*pathologicalBound {
		t.Errorf("ten parallel refusals took %v, want under %v", took, 10*pathologicalBound)
	}
	if n := e.count(t, "SELECT count(*) FROM audit_logs WHERE action LIKE 'auth.change_password%'"); n != 0 {
		t.Fatalf("password checks made by rejected operations: got %d, want 0", n)
	}
}

func TestPasswordChecksShareThrottleAndLockout(t *testing.T) {
	e := newEnv(t) // 5 free failures per account and address
	s := e.user(t, "petra", domain.RoleUser)
	for i := range 5 {
		res := e.mustFail(t, s.AccessToken, changePasswordMutation, map[string]any{"old": fmt.Sprintf("guess-%d", i), "new": "brand new secret"}, "BAD_USER_INPUT")
		if res.Errors[0].Extensions["field"] != "oldPassword" {
			t.Fatalf("wrong old password: got %+v", res.Errors)
		}
	}
	// The sixth check waits, even with the right password, and so does a
	// login from the same address: they share one count.
	for _, res := range []gqlResponse{
		e.post(t, s.AccessToken, changePasswordMutation, map[string]any{"old": "correct horse battery", "new": "brand new secret"}),
		e.post(t, "", loginMutation, loginVars("petra", "correct horse battery")),
	} {
		if res.code() != "RATE_LIMITED" || res.Errors[0].Extensions["retryAfter"] == nil {
			t.Fatalf("after five wrong old passwords: got %+v, want RATE_LIMITED with retryAfter", res.Errors)
		}
	}
	for action, want := range map[string]int{"auth.change_password_failed": 5, "auth.change_password_refused": 1, "auth.login_refused": 1} {
		if n := e.count(t, "SELECT count(*) FROM audit_logs WHERE action = ? AND target_id = 'petra'", action); n != want {
			t.Errorf("%s audit rows: got %d, want %d", action, n, want)
		}
	}
	if n := e.count(t, "SELECT count(*) FROM login_logs WHERE username = 'petra' AND NOT success AND failure_reason LIKE 'change_password:%'"); n != 6 {
		t.Errorf("failed changePassword login-log rows: got %d, want 6", n)
	}
	e.clock.Advance(time.Duration(retryAfter(t, e.post(t, "", loginMutation, loginVars("petra", "x")))) * time.Second)
	e.must(t, s.AccessToken, changePasswordMutation, map[string]any{"old": "correct horse battery", "new": "brand new secret"}, nil)
	// The success cleared the count.
	for i := range 4 {
		e.mustFail(t, "", loginMutation, loginVars("petra", fmt.Sprintf("again-%d", i)), "UNAUTHENTICATED")
	}
	e.login(t, "petra", "brand new secret")

	// The per-address throttle counts changePassword like login.
	e2, _ := newEnvWith(t, func(c *config) { c.Limits.LoginsPerMinute = 3 })
	s2 := e2.user(t, "quinn", domain.RoleUser) // one
	e2.mustFail(t, "", loginMutation, loginVars("quinn", "wrong password"), "UNAUTHENTICATED")
	e2.mustFail(t, s2.AccessToken, changePasswordMutation, map[string]any{"old": "wrong", "new": "brand new secret"}, "BAD_USER_INPUT")
	e2.mustFail(t, s2.AccessToken, changePasswordMutation, map[string]any{"old": "correct horse battery", "new": "brand new secret"}, "RATE_LIMITED")
}

func TestLockoutCannotBeTurnedAgainstOwner(t *testing.T) {
	e := newEnv(t)                     // 5 free failures per address, account slowdown after 10 in a row
	e.user(t, "rita", domain.RoleUser) // logs in from 127.0.0.1: a familiar address
	const attacker, other, owner, ownerNew = "127.0.0.2", "127.0.0.3", "127.0.0.1", "127.0.0.4"
	attempt := func(from, password string) gqlResponse {
		return e.postFrom(t, from, "test", "", loginMutation, loginVars("rita", password))
	}
	// The attacker keeps guessing, waiting out each backoff, as the reported
	// attack did every 30 minutes; it gets 5 quick guesses, then doubling waits.
	checked, refused := 0, 0
	var refusals []time.Duration
	for i := range 40 {
		start := time.Now()
		switch res := attempt(attacker, fmt.Sprintf("guess-%d", i)); res.code() {
		case "UNAUTHENTICATED":
			checked++
		case "RATE_LIMITED":
			refused++
			refusals = append(refusals, time.Since(start))
			if i%4 == 3 && i < 36 {
				e.clock.Advance(time.Duration(retryAfter(t, res)) * time.Second)
			}
		default:
			t.Fatalf("guess %d: got %+v", i, res.Errors)
		}
	}
	if checked < 10 || checked > 20 || refused == 0 {
		t.Fatalf("attacker's 40 guesses: %d checked, %d refused; want 10 to 20 checked, the rest refused", checked, refused)
	}
	// A refusal does no hashing: it is cheap for the server, whatever the flood
	// (the median, so a busy machine's hiccup is not taken for a hash).
	slices.Sort(refusals)
	if median := refusals[len(refusals)/2]; median > pathologicalBound {
		t.Errorf("refused guesses took %v (median), want under %v", median, pathologicalBound)
	}
	// The attacker is slowed even with the right password: the pair waits, nothing is checked.
	if res := attempt(attacker, "correct horse battery"); res.code() != "RATE_LIMITED" {
		t.Fatalf("attacker with the right password while backing off: got %+v, want RATE_LIMITED", res.Errors)
	}
	// The account is under attack, so another unfamiliar address gets one free guess.
	if res := attempt(other, "guess-x"); res.code() != "UNAUTHENTICATED" {
		t.Fatalf("a new address's first guess: got %+v", res.Errors)
	}
	if res := attempt(other, "guess-y"); res.code() != "RATE_LIMITED" {
		t.Fatalf("a new address's second guess on an account under attack: got %+v, want RATE_LIMITED", res.Errors)
	}
	// The owner is not locked out: a familiar address keeps its own free
	// failures (an unfamiliar one just got one), and from a new address the
	// first attempt is always checked.
	for i := range 3 {
		if res := attempt(owner, fmt.Sprintf("typo-%d", i)); res.code() != "UNAUTHENTICATED" {
			t.Fatalf("owner's typo %d from a familiar address: got %+v", i, res.Errors)
		}
	}
	if res := attempt(ownerNew, "correct horse battery"); res.code() != "" {
		t.Fatalf("owner from a new address during the attack: got %+v", res.Errors)
	}
	if res := attempt(owner, "correct horse battery"); res.code() != "" {
		t.Fatalf("owner from a familiar address during the attack: got %+v", res.Errors)
	}
	// …and the attacker still waits.
	if res := attempt(attacker, "guess-z"); res.code() != "RATE_LIMITED" {
		t.Fatalf("attacker after the owner's login: got %+v, want RATE_LIMITED", res.Errors)
	}

	// Through a payment system: a fraudster's failures reported from one end-user
	// address don't hold back the owner reported from another.
	gateway := e.user(t, "gateway", domain.RoleService)
	reported := func(ip, password string) gqlResponse {
		return e.post(t, gateway.AccessToken, loginMutation, map[string]any{"in": map[string]any{"username": "rita", "password": password, "ipAddress": ip}})
	}
	for i := range 5 {
		if res := reported("198.51.100.66", fmt.Sprintf("fraud-%d", i)); res.code() != "UNAUTHENTICATED" {
			t.Fatalf("reported guess %d: got %+v", i, res.Errors)
		}
	}
	if res := reported("198.51.100.66", "fraud-x"); res.code() != "RATE_LIMITED" {
		t.Fatalf("reported address after 5 failures: got %+v, want RATE_LIMITED", res.Errors)
	}
	if res := reported("198.51.100.1", "correct horse battery"); res.code() != "" {
		t.Fatalf("owner reported from another address: got %+v", res.Errors)
	}
}

func retryAfter(t *testing.T, res gqlResponse) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(fmt.Sprint(res.Errors[0].Extensions["retryAfter"]), &n); err != nil || n < 1 {
		t.Fatalf("retryAfter: got %v", res.Errors[0].Extensions["retryAfter"])
	}
	return n
}

func TestFailedLoginCountIsAtomic(t *testing.T) {
	e := newEnv(t) // 5 free failures per account and address
	s := e.user(t, "sara", domain.RoleUser)
	for _, tt := range []struct {
		name, from, token, query, failed, refused string
		vars                                      func(i int) map[string]any
		wrongCode                                 string
	}{
		{"login", "127.0.0.2", "", loginMutation, "auth.login_failed", "auth.login_refused",
			func(i int) map[string]any { return loginVars("sara", fmt.Sprintf("guess-%d", i)) }, "UNAUTHENTICATED"},
		{"changePassword", "127.0.0.3", s.AccessToken, changePasswordMutation, "auth.change_password_failed", "auth.change_password_refused",
			func(i int) map[string]any {
				return map[string]any{"old": fmt.Sprintf("guess-%d", i), "new": "brand new secret"}
			}, "BAD_USER_INPUT"},
		{"unknown user", "127.0.0.4", "", loginMutation, "auth.login_failed", "auth.login_refused",
			func(i int) map[string]any { return loginVars("nobody-here", fmt.Sprintf("guess-%d", i)) }, "UNAUTHENTICATED"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := func(action string) int {
				return e.count(t, "SELECT count(*) FROM audit_logs WHERE action = ? AND ip_address = ?", action, tt.from)
			}
			var mu sync.Mutex
			codes := map[string]int{}
			var wg sync.WaitGroup
			for i := range 30 {
				wg.Go(func() {
					res := e.postFrom(t, tt.from, "test", tt.token, tt.query, tt.vars(i))
					mu.Lock()
					codes[res.code()]++
					mu.Unlock()
				})
			}
			wg.Wait()
			// Exactly the free attempts were checked against a hash; the rest were refused unhashed.
			if codes[tt.wrongCode] != 5 || codes["RATE_LIMITED"] != 25 {
				t.Fatalf("30 parallel wrong guesses: got %v, want 5 %s and 25 RATE_LIMITED", codes, tt.wrongCode)
			}
			if n := before(tt.failed); n != 5 {
				t.Errorf("%s audit rows: got %d, want 5", tt.failed, n)
			}
			if n := before(tt.refused); n != 25 {
				t.Errorf("%s audit rows: got %d, want 25", tt.refused, n)
			}
			if n := e.count(t, "SELECT count(*) FROM login_logs WHERE NOT success AND ip_address = ?", tt.from); n != 30 {
				t.Errorf("failed login-log rows: got %d, want 30", n)
			}
		})
	}
}

func TestPasswordHashingIsCappedServiceWide(t *testing.T) {
	// One hashing slot and its queue of 8: 60 logins at once must not all
	// hash or wait; the excess is answered UNAVAILABLE at once, uncharged.
	e, _ := newEnvWith(t, func(c *config) { c.Limits.HashConcurrency = 1 })
	var mu sync.Mutex
	codes := map[string]int{}
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Go(func() {
			res := e.post(t, "", loginMutation, loginVars(fmt.Sprintf("ghost-%d", i), "guess"))
			if res.code() == "UNAVAILABLE" && res.Errors[0].Extensions["retryAfter"] == nil {
				t.Errorf("UNAVAILABLE without retryAfter: %+v", res.Errors)
			}
			mu.Lock()
			codes[res.code()]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes["UNAUTHENTICATED"] == 0 || codes["UNAVAILABLE"] == 0 || codes["UNAUTHENTICATED"]+codes["UNAVAILABLE"] != 60 {
		t.Fatalf("60 parallel logins with one hashing slot: got %v, want some checked and the rest UNAVAILABLE", codes)
	}
	if n := e.count(t, "SELECT count(*) FROM audit_logs WHERE action = 'auth.login_failed'"); n != codes["UNAUTHENTICATED"] {
		t.Errorf("checked logins recorded: got %d, want %d", n, codes["UNAUTHENTICATED"])
	}
	if n := e.count(t, "SELECT coalesce(sum(failures), 0) FROM login_attempts WHERE client <> '*'"); n != codes["UNAUTHENTICATED"] {
		t.Errorf("charged attempts: got %d, want only the %d checked", n, codes["UNAUTHENTICATED"])
	}
}

func TestFailedLoginAlwaysRecorded(t *testing.T) {
	e := newEnv(t)
	e.user(t, "vera", domain.RoleUser)
	gateway := e.user(t, "gateway", domain.RoleService)
	ctx := auth.WithClientIP(context.Background(), "198.51.100.7")
	bad := []string{"x\x00", "\xff\xfe", strings.Repeat("é", 5000), "a\x00\xffb" + strings.Repeat("\x00", 3000)}
	for i, text := range bad {
		city := text
		client := account.ClientInfo{IPAddress: "198.51.100.7", UserAgent: text, DeviceFingerprint: text,
			Location: &domain.Location{Latitude: 1, Longitude: 2, City: &city, Country: &city}}
		// Wrong password: refused like any other, and recorded.
		before := e.count(t, "SELECT count(*) FROM login_logs WHERE NOT success")
		_, err := e.app.accounts.Login(ctx, "vera", fmt.Sprintf("wrong-%d", i), client)
		if apperr.CodeOf(err) != apperr.Unauthenticated {
			t.Fatalf("wrong password with bad text %d: got %v", i, err)
		}
		if n := e.count(t, "SELECT count(*) FROM login_logs WHERE NOT success"); n != before+1 {
			t.Fatalf("bad text %d: failed login not recorded", i)
		}
		// A username nobody can have is an unknown user, recorded too.
		_, err = e.app.accounts.Login(ctx, "ve"+text, "whatever", client)
		if apperr.CodeOf(err) != apperr.Unauthenticated {
			t.Fatalf("bad username %d: got %v", i, err)
		}
		// Right password: never INTERNAL (an oracle); it logs in with the text cleaned.
		if _, err := e.app.accounts.Login(ctx, "vera", "correct horse battery", client); err != nil {
			t.Fatalf("right password with bad text %d: got %v", i, err)
		}
	}
	if n := e.count(t, "SELECT count(*) FROM audit_logs WHERE action = 'auth.login_failed'"); n != 2*len(bad) {
		t.Fatalf("auth.login_failed audit rows: got %d, want %d", n, 2*len(bad))
	}
	if n := e.count(t, "SELECT count(*) FROM login_logs WHERE length(user_agent) > 512 OR length(username) > 256"); n != 0 {
		t.Fatalf("over-long text stored in %d login logs", n)
	}

	// Over HTTP: a User-Agent header of invalid UTF-8, and a SERVICE caller's
	// stated agent and city, wrong and right password.
	header := "\xff\xfe" + strings.Repeat("z", 2000)
	if res := e.postFrom(t, "127.0.0.5", header, "", loginMutation, loginVars("vera", "wrong again")); res.code() != "UNAUTHENTICATED" {
		t.Fatalf("bad User-Agent, wrong password: got %+v", res.Errors)
	}
	if res := e.postFrom(t, "127.0.0.5", header, "", loginMutation, loginVars("vera", "correct horse battery")); res.code() != "" {
		t.Fatalf("bad User-Agent, right password: got %+v", res.Errors)
	}
	if n := e.count(t, "SELECT count(*) FROM login_logs WHERE ip_address = '127.0.0.5' AND user_agent LIKE '%zzz'"); n != 2 {
		t.Fatalf("login logs with the cleaned User-Agent: got %d, want 2", n)
	}
	for _, password := range []string{"wrong again", "correct horse battery"} {
		res := e.post(t, gateway.AccessToken, loginMutation, map[string]any{"in": map[string]any{
			"username": "vera", "password": password, "userAgent": "x\u0000", "deviceId": "fp\u0000",
			"location": map[string]any{"latitude": 1, "longitude": 2, "city": "c\u0000"},
		}})
		// The generic string check may refuse the NUL up front; the account path never answers INTERNAL.
		if c := res.code(); c == "INTERNAL" || c == "UNAVAILABLE" {
			t.Fatalf("SERVICE login with NUL text (%s): got %+v", password, res.Errors)
		}
	}
}

func TestFrozenAccountAnswersAlike(t *testing.T) {
	e := newEnv(t)
	admin := e.user(t, "root", domain.RoleAdmin)
	for _, status := range []string{"FROZEN", "DISABLED"} {
		t.Run(status, func(t *testing.T) {
			name := "w" + strings.ToLower(status)
			victim := e.user(t, name, domain.RoleUser)
			e.must(t, admin.AccessToken, `mutation($id: ID!, $s: UserStatus!) { updateUserStatus(id: $id, status: $s) { status } }`,
				map[string]any{"id": victim.User.ID, "s": status}, nil)
			right := e.post(t, "", loginMutation, loginVars(name, "correct horse battery"))
			wrong := e.post(t, "", loginMutation, loginVars(name, "wrong password"))
			unknown := e.post(t, "", loginMutation, loginVars("nobody-"+name, "wrong password"))
			for label, res := range map[string]gqlResponse{"wrong password": wrong, "unknown user": unknown} {
				if res.code() != right.code() || res.Errors[0].Message != right.Errors[0].Message ||
					string(res.Data) != string(right.Data) || !maps.Equal(res.Errors[0].Extensions, right.Errors[0].Extensions) {
					t.Fatalf("%s account, right password %+v %s; %s %+v %s: want the same answer",
						status, right.Errors, right.Data, label, res.Errors, res.Data)
				}
			}
			// Counted alike too: both went through the check and count toward the backoff.
			if n := e.count(t, "SELECT count(*) FROM audit_logs WHERE action = 'auth.login_failed' AND target_id = ?", name); n != 2 {
				t.Fatalf("failed checks recorded: got %d, want 2", n)
			}
			for i := range 3 {
				e.post(t, "", loginMutation, loginVars(name, fmt.Sprintf("guess-%d", i)))
			}
			// Backing off: the right and a wrong password get the same refusal.
			right = e.post(t, "", loginMutation, loginVars(name, "correct horse battery"))
			wrong = e.post(t, "", loginMutation, loginVars(name, "wrong password"))
			if right.code() != "RATE_LIMITED" || wrong.code() != "RATE_LIMITED" || right.Errors[0].Message != wrong.Errors[0].Message {
				t.Fatalf("backing off: right %+v, wrong %+v; want the same RATE_LIMITED", right.Errors, wrong.Errors)
			}
		})
	}
}

func TestLoginClientFactsFromConnection(t *testing.T) {
	e := newEnv(t)
	e.user(t, "xena", domain.RoleUser)
	gateway := e.user(t, "gateway", domain.RoleService)
	claimed := map[string]any{"username": "xena", "password": "correct horse battery", "deviceId": "fp-xena",
		"ipAddress": "203.0.113.9", "userAgent": "Forged/1.0",
		"location": map[string]any{"latitude": 31.2304, "longitude": 121.4737, "country": "CN", "city": "Shanghai"}}
	type logRow struct {
		IPAddress string  `bun:"ip_address"`
		UserAgent string  `bun:"user_agent"`
		City      *string `bun:"city"`
	}
	newest := func() logRow {
		var l logRow
		if err := e.db.NewRaw("SELECT ip_address, user_agent, city FROM login_logs ORDER BY id DESC LIMIT 1").Scan(context.Background(), &l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	lastCity := func() *string {
		var c *string
		if err := e.db.NewRaw("SELECT last_city FROM users WHERE username = 'xena'").Scan(context.Background(), &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	// Anonymous (and any non-SERVICE caller): the connection's address and the
	// request's User-Agent; the claimed address, agent and location are ignored.
	for _, wrong := range []bool{true, false} {
		in := maps.Clone(claimed)
		if wrong {
			in["password"] = "wrong password"
		}
		e.postFrom(t, "127.0.0.6", "RealAgent/2.0", "", loginMutation, map[string]any{"in": in})
		if l := newest(); l.IPAddress != "127.0.0.6" || l.UserAgent != "RealAgent/2.0" || l.City != nil {
			t.Fatalf("anonymous login (wrong password %v) stored %+v, want the connection's facts", wrong, l)
		}
	}
	if c := lastCity(); c != nil {
		t.Fatalf("a claimed location became the user's last location: %q", *c)
	}
	if n := e.count(t, "SELECT count(*) FROM audit_logs WHERE ip_address = '203.0.113.9'"); n != 0 {
		t.Fatalf("claimed address in %d audit rows", n)
	}
	// A SERVICE caller reports its customer's login: taken as stated.
	e.postFrom(t, "127.0.0.7", "Gateway/1.0", gateway.AccessToken, loginMutation, map[string]any{"in": claimed})
	if l := newest(); l.IPAddress != "203.0.113.9" || l.UserAgent != "Forged/1.0" || l.City == nil || *l.City != "Shanghai" {
		t.Fatalf("SERVICE-reported login stored %+v", l)
	}
	if c := lastCity(); c == nil || *c != "Shanghai" {
		t.Fatalf("SERVICE-reported location: last city %v", c)
	}
	// Registration records the connection's address as well.
	e.postFrom(t, "127.0.0.8", "RealAgent/2.0", "", `mutation { register(input: {username: "yuri", password: "long enough pw"}) { accessToken } }`, nil)
	if n := e.count(t, "SELECT count(*) FROM audit_logs WHERE action = 'auth.register' AND ip_address = '127.0.0.8'"); n != 1 {
		t.Fatalf("register audit row with the connection's address: got %d", n)
	}
}
