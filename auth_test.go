package main

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
)

const meQuery = `{ me { id username role status email } }`

func TestRegisterLoginMe(t *testing.T) {
	e := newEnv(t)
	var reg struct{ Register session }
	e.must(t, "", `mutation { register(input: {username: "carol", password: "s3cure-passw0rd", email: "carol@example.com"}) {
		accessToken refreshToken user { id username role } } }`, nil, &reg)
	if reg.Register.User.Role != "USER" || reg.Register.AccessToken == "" || reg.Register.RefreshToken == "" {
		t.Fatalf("register: got %+v, want a USER with tokens", reg.Register)
	}

	s := e.login(t, "Carol", "s3cure-passw0rd") // usernames are case-insensitive
	var me struct {
		Me struct{ ID, Username, Role, Status, Email string }
	}
	e.must(t, s.AccessToken, meQuery, nil, &me)
	if me.Me.ID != reg.Register.User.ID || me.Me.Username != "carol" || me.Me.Role != "USER" ||
		me.Me.Status != "ACTIVE" || me.Me.Email != "carol@example.com" {
		t.Fatalf("me: got %+v", me.Me)
	}

	// Registration cannot choose a role: the input has no such field.
	e.mustFail(t, "", `mutation { register(input: {username: "mallory", password: "s3cure-passw0rd", role: ADMIN}) { accessToken } }`, nil, "GRAPHQL_VALIDATION_FAILED")
	// A taken username and a short password are refused with their field.
	e.mustFail(t, "", `mutation { register(input: {username: "CAROL", password: "s3cure-passw0rd"}) { accessToken } }`, nil, "CONFLICT")
	res := e.mustFail(t, "", `mutation { register(input: {username: "dave", password: "short"}) { accessToken } }`, nil, "BAD_USER_INPUT")
	if res.Errors[0].Extensions["field"] != "password" {
		t.Fatalf("short password: field got %v, want password", res.Errors[0].Extensions["field"])
	}
	e.mustFail(t, "", meQuery, nil, "UNAUTHENTICATED")
}

func TestLoginFailuresLookAlike(t *testing.T) {
	e := newEnv(t)
	e.user(t, "erin", domain.RoleUser)
	vars := func(user, pass string) map[string]any {
		return map[string]any{"in": map[string]any{"username": user, "password": pass}}
	}
	wrong := e.mustFail(t, "", loginMutation, vars("erin", "wrong password!"), "UNAUTHENTICATED")
	unknown := e.mustFail(t, "", loginMutation, vars("nobody", "wrong password!"), "UNAUTHENTICATED")
	if wrong.Errors[0].Message != unknown.Errors[0].Message {
		t.Fatalf("messages differ: wrong password %q, unknown user %q", wrong.Errors[0].Message, unknown.Errors[0].Message)
	}
	if string(wrong.Data) != string(unknown.Data) {
		t.Fatalf("data differs: %s vs %s", wrong.Data, unknown.Data)
	}
	var n int
	if err := e.db.NewRaw("SELECT count(*) FROM login_logs WHERE NOT success").Scan(context.Background(), &n); err != nil || n != 2 {
		t.Fatalf("failed login logs: got %d (%v), want 2", n, err)
	}
}

func TestLoginRecordsLogDeviceAndLocation(t *testing.T) {
	e := newEnv(t)
	e.user(t, "frank", domain.RoleUser)
	// A payment system reports its customer's login: its address, agent and
	// location are taken as stated (anyone else's are not: TestLoginClientFactsFromConnection).
	gateway := e.user(t, "gateway", domain.RoleService)
	var out struct{ Login session }
	e.must(t, gateway.AccessToken, loginMutation, map[string]any{"in": map[string]any{
		"username": "frank", "password": "correct horse battery", "deviceId": "fp-frank-phone",
		"ipAddress": "203.0.113.7", "userAgent": "FrankPhone/1.0",
		"location": map[string]any{"latitude": 31.2304, "longitude": 121.4737, "country": "CN", "city": "Shanghai"},
	}}, &out)
	var me struct {
		Me struct {
			LastLocation struct{ City string }
			Devices      []struct{ Fingerprint, Status string }
			LoginLogs    []struct {
				Success           bool
				IPAddress         string
				UserAgent         string
				DeviceFingerprint string
				Device            struct{ Fingerprint string }
				Location          struct {
					Latitude float64
					City     string
				}
			}
		}
	}
	e.must(t, out.Login.AccessToken, `{ me { lastLocation { city } devices { fingerprint status }
		loginLogs(first: 1) { success ipAddress userAgent deviceFingerprint device { fingerprint } location { latitude city } } } }`, nil, &me)
	if me.Me.LastLocation.City != "Shanghai" {
		t.Errorf("lastLocation.city: got %q, want Shanghai", me.Me.LastLocation.City)
	}
	if len(me.Me.Devices) != 1 || me.Me.Devices[0].Fingerprint != "fp-frank-phone" || me.Me.Devices[0].Status != "NORMAL" {
		t.Errorf("devices: got %+v", me.Me.Devices)
	}
	if len(me.Me.LoginLogs) != 1 {
		t.Fatalf("loginLogs(first:1): got %d entries", len(me.Me.LoginLogs))
	}
	l := me.Me.LoginLogs[0]
	if !l.Success || l.IPAddress != "203.0.113.7" || l.UserAgent != "FrankPhone/1.0" || l.DeviceFingerprint != "fp-frank-phone" ||
		l.Device.Fingerprint != "fp-frank-phone" || l.Location.Latitude != 31.2304 || l.Location.City != "Shanghai" {
		t.Errorf("login log: got %+v", l)
	}
	e.mustFail(t, "", loginMutation, map[string]any{"in": map[string]any{
		"username": "frank", "password": "correct horse battery", "location": map[string]any{"latitude": 91, "longitude": 0},
	}}, "BAD_USER_INPUT")
}

const refreshMutation = `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }`

func (e *testEnv) refresh(t *testing.T, token string) session {
	t.Helper()
	var out struct{ RefreshToken session }
	e.must(t, "", refreshMutation, map[string]any{"t": token}, &out)
	return out.RefreshToken
}

func TestRefreshRotationAndReuseDetection(t *testing.T) {
	e := newEnv(t)
	s0 := e.user(t, "grace", domain.RoleUser)
	s1 := e.refresh(t, s0.RefreshToken)
	if s1.RefreshToken == s0.RefreshToken || s1.AccessToken == "" {
		t.Fatalf("refresh did not rotate: %+v", s1)
	}
	e.must(t, s1.AccessToken, meQuery, nil, nil)

	// Replaying the rotated token revokes the whole family, including s1.
	e.mustFail(t, "", refreshMutation, map[string]any{"t": s0.RefreshToken}, "UNAUTHENTICATED")
	e.mustFail(t, "", refreshMutation, map[string]any{"t": s1.RefreshToken}, "UNAUTHENTICATED")
	e.mustFail(t, s1.AccessToken, meQuery, nil, "UNAUTHENTICATED")
	e.mustFail(t, "", refreshMutation, map[string]any{"t": "not-a-token"}, "UNAUTHENTICATED")

	// Another session of the same user is untouched.
	other := e.login(t, "grace", "correct horse battery")
	e.must(t, other.AccessToken, meQuery, nil, nil)
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	s := e.user(t, "heidi", domain.RoleUser)
	var out struct{ Logout bool }
	e.must(t, s.AccessToken, `mutation { logout }`, nil, &out)
	if !out.Logout {
		t.Fatal("logout returned false")
	}
	e.mustFail(t, s.AccessToken, meQuery, nil, "UNAUTHENTICATED")
	e.mustFail(t, "", refreshMutation, map[string]any{"t": s.RefreshToken}, "UNAUTHENTICATED")

	// Logging out by refresh token alone works too.
	s2 := e.login(t, "heidi", "correct horse battery")
	e.must(t, "", `mutation($t: String) { logout(refreshToken: $t) }`, map[string]any{"t": s2.RefreshToken}, nil)
	e.mustFail(t, s2.AccessToken, meQuery, nil, "UNAUTHENTICATED")
}

func TestChangePasswordEndsOtherSessions(t *testing.T) {
	e := newEnv(t)
	a := e.user(t, "ivan", domain.RoleUser)
	b := e.login(t, "ivan", "correct horse battery")
	change := `mutation($old: String!, $new: String!) { changePassword(input: {oldPassword: $old, newPassword: $new}) }`

	e.mustFail(t, a.AccessToken, change, map[string]any{"old": "wrong one!", "new": "brand new secret"}, "BAD_USER_INPUT")
	e.mustFail(t, a.AccessToken, change, map[string]any{"old": "correct horse battery", "new": "short"}, "BAD_USER_INPUT")
	e.must(t, a.AccessToken, change, map[string]any{"old": "correct horse battery", "new": "brand new secret"}, nil)

	e.must(t, a.AccessToken, meQuery, nil, nil) // the session that changed it lives on
	e.mustFail(t, b.AccessToken, meQuery, nil, "UNAUTHENTICATED")
	e.mustFail(t, "", refreshMutation, map[string]any{"t": b.RefreshToken}, "UNAUTHENTICATED")
	e.mustFail(t, "", loginMutation, map[string]any{"in": map[string]any{"username": "ivan", "password": "correct horse battery"}}, "UNAUTHENTICATED")
	e.login(t, "ivan", "brand new secret")
}

func TestForgedTokensAreRejected(t *testing.T) {
	e := newEnv(t)
	s := e.user(t, "judy", domain.RoleUser)
	tokens, err := auth.NewTokens(testJWTSecret, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tokens.Verify(s.AccessToken)
	if err != nil {
		t.Fatalf("own token: %v", err)
	}
	claims := func(mutate func(*auth.Claims)) *auth.Claims {
		now := time.Now()
		c := &auth.Claims{
			RegisteredClaims: jwt.RegisteredClaims{
				Issuer: auth.Issuer, Audience: jwt.ClaimStrings{auth.Audience}, Subject: strconv.FormatInt(p.UserID, 10),
				ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute)), IssuedAt: jwt.NewNumericDate(now), ID: uuid.NewString(),
			},
			Type: "access", Role: "ADMIN", SessionID: p.SessionID.String(),
		}
		mutate(c)
		return c
	}
	sign := func(c *auth.Claims, secret []byte) string {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims(func(*auth.Claims) {})).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, token string
	}{
		{"alg none", none},
		{"wrong signature", sign(claims(func(*auth.Claims) {}), []byte("another-secret-another-secret-1234"))},
		{"expired", sign(claims(func(c *auth.Claims) { c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Hour)) }), testJWTSecret)},
		{"no expiry", sign(claims(func(c *auth.Claims) { c.ExpiresAt = nil }), testJWTSecret)},
		{"wrong audience", sign(claims(func(c *auth.Claims) { c.Audience = jwt.ClaimStrings{"someone-else"} }), testJWTSecret)},
		{"wrong issuer", sign(claims(func(c *auth.Claims) { c.Issuer = "evil" }), testJWTSecret)},
		{"not an access token", sign(claims(func(c *auth.Claims) { c.Type = "refresh" }), testJWTSecret)},
		{"refresh token as access token", s.RefreshToken},
		{"garbage", "abc.def.ghi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.mustFail(t, tt.token, meQuery, nil, "UNAUTHENTICATED")
			if string(res.Data) != "null" {
				t.Errorf("data: got %s, want null", res.Data)
			}
		})
	}
	// A validly signed token takes its role from the database, not its claims.
	var me struct{ Me struct{ Role string } }
	e.must(t, sign(claims(func(*auth.Claims) {}), testJWTSecret), meQuery, nil, &me)
	if me.Me.Role != "USER" {
		t.Errorf("role from forged claim: got %s, want USER", me.Me.Role)
	}
}
