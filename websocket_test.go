package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// closeWithin bounds how long a revoked connection may stay open in these
// tests; the design target is about a second, the bound is generous.
const closeWithin = 5 * time.Second

// wsPeer is a graphql-transport-ws client whose messages are read on their own goroutine.
type wsPeer struct {
	conn   *websocket.Conn
	msgs   chan wsMessage
	closed chan websocket.StatusCode
	reason chan string
}

type wsDial struct {
	protocol    string            // default graphql-transport-ws
	initToken   string            // in the connection_init payload
	headerToken string            // in the upgrade request's Authorization header
	initPayload map[string]string // the whole connection_init payload, instead of initToken
	header      http.Header       // more upgrade request headers
}

// dialWSPeer opens a websocket, sends connection_init and reads in the background.
func dialWSPeer(t *testing.T, e *testEnv, d wsDial) *wsPeer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if d.protocol == "" {
		d.protocol = "graphql-transport-ws"
	}
	opts := &websocket.DialOptions{Subprotocols: []string{d.protocol}, HTTPHeader: http.Header{}}
	if d.headerToken != "" {
		opts.HTTPHeader.Set("Authorization", "Bearer "+d.headerToken)
	}
	for k, v := range d.header {
		opts.HTTPHeader[k] = v
	}
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.srv.URL, "http")+"/graphql", opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	conn.SetReadLimit(1 << 20)
	t.Cleanup(func() { conn.CloseNow() })
	init := json.RawMessage(`{}`)
	if d.initToken != "" {
		init, _ = json.Marshal(map[string]string{"Authorization": "Bearer " + d.initToken})
	}
	if d.initPayload != nil {
		init, _ = json.Marshal(d.initPayload)
	}
	if err := wsjson.Write(ctx, conn, wsMessage{Type: "connection_init", Payload: init}); err != nil {
		t.Fatalf("connection_init: %v", err)
	}
	p := &wsPeer{conn: conn, msgs: make(chan wsMessage, 64), closed: make(chan websocket.StatusCode, 1), reason: make(chan string, 1)}
	go func() {
		for {
			var m wsMessage
			if err := wsjson.Read(context.Background(), conn, &m); err != nil {
				var ce websocket.CloseError
				if errors.As(err, &ce) {
					p.reason <- ce.Reason
				} else {
					p.reason <- err.Error()
				}
				p.closed <- websocket.CloseStatus(err)
				close(p.msgs)
				return
			}
			switch m.Type {
			case "ping":
				wsjson.Write(context.Background(), conn, wsMessage{Type: "pong"}) //nolint:errcheck // a lost pong only ends the connection
			case "ka":
			default:
				p.msgs <- m
			}
		}
	}()
	return p
}

// next returns the next message, failing if the connection closes or stays quiet.
func (p *wsPeer) next(t *testing.T, what string) wsMessage {
	t.Helper()
	select {
	case m, ok := <-p.msgs:
		if !ok {
			t.Fatalf("%s: connection closed (%d) instead", what, <-p.closed)
		}
		return m
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: nothing within 10s", what)
	}
	return wsMessage{}
}

// subscribeAlerts waits for connection_ack and subscribes to every alert.
func (p *wsPeer) subscribeAlerts(t *testing.T) {
	t.Helper()
	if m := p.next(t, "connection_ack"); m.Type != "connection_ack" {
		t.Fatalf("after connection_init: got %s %s, want connection_ack", m.Type, m.Payload)
	}
	payload, _ := json.Marshal(map[string]string{"query": "subscription { alertRaised { id user { username email } } }"})
	if err := wsjson.Write(context.Background(), p.conn, wsMessage{ID: "1", Type: "subscribe", Payload: payload}); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
}

// expectAlert reads the next message, which must be an alert.
func (p *wsPeer) expectAlert(t *testing.T) {
	t.Helper()
	if m := p.next(t, "an alert"); m.Type != "next" || !strings.Contains(string(m.Payload), "alertRaised") {
		t.Fatalf("got %s %s, want an alert", m.Type, m.Payload)
	}
}

// expectClosed waits for the server to close the connection with code,
// failing on any message (an alert above all) before the close.
func (p *wsPeer) expectClosed(t *testing.T, code websocket.StatusCode) {
	t.Helper()
	start := time.Now()
	deadline := time.After(closeWithin)
	for {
		select {
		case m, ok := <-p.msgs:
			if !ok {
				got, reason := <-p.closed, <-p.reason
				if got != code {
					t.Fatalf("close code: got %d (%s), want %d", got, reason, code)
				}
				t.Logf("closed with %d after %v: %s", got, time.Since(start).Round(time.Millisecond), reason)
				return
			}
			t.Fatalf("got %s %s before the close, want nothing", m.Type, m.Payload)
		case <-deadline:
			t.Fatalf("connection still open after %v", closeWithin)
		}
	}
}

// waitHubSubscribers waits until the instance has exactly n live subscriptions.
func (e *testEnv) waitHubSubscribers(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.app.hub.Subscribers() != n {
		if time.Now().After(deadline) {
			t.Fatalf("subscribers: got %d, want %d", e.app.hub.Subscribers(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// raiseAlert has a customer submit a payment that raises a MEDIUM alert.
func (e *testEnv) raiseAlert(t *testing.T, customer session) {
	t.Helper()
	if res := e.submit(t, customer.AccessToken, map[string]any{"amount": "12000"}); res.Alert == nil {
		t.Fatal("the payment raised no alert")
	}
}

// shortLivedLogin logs in with an access token that expires in d.
func (e *testEnv) shortLivedLogin(t *testing.T, username string, d time.Duration) (session, time.Time) {
	t.Helper()
	const accessTTL = 15 * time.Minute
	e.clock.Advance(-(accessTTL - d))
	s := e.login(t, username, "correct horse battery")
	e.clock.Advance(accessTTL - d)
	return s, e.clock.Now().Add(d)
}

// TestWebsocketEndsWhenSessionRevoked proves every websocket is bound to its
// session: each way credentials end or change closes the subscription with the
// documented code, and no alert raised afterwards reaches it.
func TestWebsocketEndsWhenSessionRevoked(t *testing.T) {
	e := newEnv(t)
	admin := e.user(t, "root", domain.RoleAdmin)
	customer := e.user(t, "cust", domain.RoleUser)

	// live subscribes an analyst's connection and proves it delivers.
	live := func(t *testing.T, d wsDial) *wsPeer {
		t.Helper()
		e.waitHubSubscribers(t, 0)
		p := dialWSPeer(t, e, d)
		p.subscribeAlerts(t)
		e.waitHubSubscribers(t, 1)
		e.raiseAlert(t, customer)
		p.expectAlert(t)
		return p
	}
	mutate := func(t *testing.T, token, query string, vars map[string]any) gqlResponse {
		t.Helper()
		res := e.post(t, token, query, vars)
		if len(res.Errors) > 0 {
			t.Fatalf("%s: %+v", query, res.Errors)
		}
		return res
	}
	userID := func(s session) string { return s.User.ID }

	for _, via := range []string{"connection_init", "upgrade header"} {
		t.Run("token expiry/"+via, func(t *testing.T) {
			e.user(t, "exp-"+strings.ReplaceAll(via, " ", "-"), domain.RoleAnalyst)
			s, expires := e.shortLivedLogin(t, "exp-"+strings.ReplaceAll(via, " ", "-"), 3*time.Second)
			d := wsDial{initToken: s.AccessToken}
			if via == "upgrade header" {
				d = wsDial{headerToken: s.AccessToken}
			}
			p := live(t, d)
			time.Sleep(time.Until(expires) + 100*time.Millisecond)
			e.raiseAlert(t, customer)
			p.expectClosed(t, closeTokenExpired)
		})
	}

	for _, tt := range []struct {
		name   string
		revoke func(t *testing.T, s session)
	}{
		{"logout", func(t *testing.T, s session) {
			mutate(t, s.AccessToken, `mutation { logout }`, nil)
		}},
		{"logout by refresh token", func(t *testing.T, s session) {
			mutate(t, "", `mutation($r: String) { logout(refreshToken: $r) }`, map[string]any{"r": s.RefreshToken})
		}},
		{"password change", func(t *testing.T, s session) {
			mutate(t, s.AccessToken, `mutation { changePassword(input: {oldPassword: "correct horse battery", newPassword: "another horse battery"}) }`, nil)
		}},
		{"freeze", func(t *testing.T, s session) {
			mutate(t, admin.AccessToken, `mutation($id: ID!) { updateUserStatus(id: $id, status: FROZEN, reason: "test") { status } }`, map[string]any{"id": userID(s)})
		}},
		{"disable", func(t *testing.T, s session) {
			mutate(t, admin.AccessToken, `mutation($id: ID!) { updateUserStatus(id: $id, status: DISABLED) { status } }`, map[string]any{"id": userID(s)})
		}},
		{"demotion", func(t *testing.T, s session) {
			mutate(t, admin.AccessToken, `mutation($id: ID!) { updateUserRole(id: $id, role: USER) { role } }`, map[string]any{"id": userID(s)})
		}},
		{"promotion", func(t *testing.T, s session) {
			// No admin may grant ADMIN through the API; the bootstrap path can, and any role change counts.
			if _, err := e.db.ExecContext(context.Background(), "UPDATE users SET role = 'ADMIN' WHERE id = ?", userID(s)); err != nil {
				t.Fatal(err)
			}
		}},
		{"refresh-token replay", func(t *testing.T, s session) {
			q := `mutation($r: String!) { refreshToken(refreshToken: $r) { accessToken } }`
			mutate(t, "", q, map[string]any{"r": s.RefreshToken})
			if res := e.post(t, "", q, map[string]any{"r": s.RefreshToken}); res.code() != "UNAUTHENTICATED" {
				t.Fatalf("replayed refresh token: got %+v, want UNAUTHENTICATED", res.Errors)
			}
		}},
		{"notification lost, listener reconnected", func(t *testing.T, s session) {
			// The revocation bypasses the triggers, as if its notification
			// had been lost; the re-check after the listener reconnects must find it.
			ctx := context.Background()
			tx, err := e.db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback() //nolint:errcheck // committed on the usual path
			if _, err := tx.ExecContext(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, "UPDATE sessions SET revoked_at = now() WHERE user_id = ?", userID(s)); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if _, err := e.db.ExecContext(ctx, `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
				WHERE application_name = 'riskgraph-listener' AND datname = current_database()`); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			name := "ana-" + strings.NewReplacer(" ", "-", ",", "").Replace(tt.name)
			e.user(t, name, domain.RoleAnalyst)
			s := e.login(t, name, "correct horse battery")
			p := live(t, wsDial{initToken: s.AccessToken})
			tt.revoke(t, s)
			e.raiseAlert(t, customer)
			p.expectClosed(t, closeSessionEnded)
		})
	}

	t.Run("password change ends the user's other sessions too", func(t *testing.T) {
		e.user(t, "ana-pw2", domain.RoleAnalyst)
		first, second := e.login(t, "ana-pw2", "correct horse battery"), e.login(t, "ana-pw2", "correct horse battery")
		e.waitHubSubscribers(t, 0)
		a, b := dialWSPeer(t, e, wsDial{initToken: first.AccessToken}), dialWSPeer(t, e, wsDial{initToken: second.AccessToken})
		a.subscribeAlerts(t)
		b.subscribeAlerts(t)
		e.waitHubSubscribers(t, 2)
		mutate(t, first.AccessToken, `mutation { changePassword(input: {oldPassword: "correct horse battery", newPassword: "another horse battery"}) }`, nil)
		e.raiseAlert(t, customer)
		a.expectClosed(t, closeSessionEnded)
		b.expectClosed(t, closeSessionEnded)
	})

	t.Run("another session's logout leaves this one open", func(t *testing.T) {
		e.user(t, "ana-two", domain.RoleAnalyst)
		mine, other := e.login(t, "ana-two", "correct horse battery"), e.login(t, "ana-two", "correct horse battery")
		p := live(t, wsDial{initToken: mine.AccessToken})
		mutate(t, other.AccessToken, `mutation { logout }`, nil)
		e.raiseAlert(t, customer)
		p.expectAlert(t)
	})

	// Over plain HTTP a subscription would wait for its first alert outside
	// any binding to the session: it is refused at once instead.
	t.Run("plain HTTP is refused", func(t *testing.T) {
		ana := e.user(t, "ana-http", domain.RoleAnalyst)
		query := `subscription { alertRaised { id user { username } } }`
		res := e.post(t, ana.AccessToken, query, nil)
		if res.code() != "BAD_USER_INPUT" || len(res.Data) > 0 && string(res.Data) != "null" {
			t.Fatalf("POST: got %s %+v, want BAD_USER_INPUT", res.Data, res.Errors)
		}
		resp, err := e.srv.Client().Get(e.srv.URL + "/graphql?query=" + url.QueryEscape(query))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got gqlResponse
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			t.Fatal(err)
		}
		if len(got.Errors) == 0 || len(got.Data) > 0 && string(got.Data) != "null" {
			t.Fatalf("GET: got HTTP %d %s %+v, want an error", resp.StatusCode, got.Data, got.Errors)
		}
		t.Logf("GET: HTTP %d, %s (%s)", resp.StatusCode, got.code(), got.Errors[0].Message)
	})

	// A token that can no longer open a session is refused at connection_init.
	t.Run("refused at connection_init", func(t *testing.T) {
		e.user(t, "ana-init", domain.RoleAnalyst)
		loggedOut := e.login(t, "ana-init", "correct horse battery")
		mutate(t, loggedOut.AccessToken, `mutation { logout }`, nil)
		for _, tt := range []struct {
			name string
			dial wsDial
			want websocket.StatusCode
		}{
			{"garbage token", wsDial{initToken: "not-a-token"}, closeTokenExpired},
			{"garbage token in the header", wsDial{headerToken: "not-a-token"}, closeTokenExpired},
			{"logged-out session", wsDial{initToken: loggedOut.AccessToken}, closeSessionEnded},
			{"logged-out session in the header", wsDial{headerToken: loggedOut.AccessToken}, closeSessionEnded},
		} {
			t.Run(tt.name, func(t *testing.T) {
				// graphql-transport-ws has no connection_error: the close says it.
				dialWSPeer(t, e, tt.dial).expectClosed(t, tt.want)
			})
		}
	})
}

// TestWebsocketEndsWhenSessionRevokedOnAnotherInstance: the change is made
// through instance A, the subscriber is on instance B.
func TestWebsocketEndsWhenSessionRevokedOnAnotherInstance(t *testing.T) {
	a := newEnv(t)
	b := newEnvOn(t, a.db, a.url)
	admin := a.user(t, "root", domain.RoleAdmin)
	customer := a.user(t, "cust", domain.RoleUser)
	for _, tt := range []struct {
		name, query string
	}{
		{"freeze", `mutation($id: ID!) { updateUserStatus(id: $id, status: FROZEN) { status } }`},
		{"demotion", `mutation($id: ID!) { updateUserRole(id: $id, role: VIP) { role } }`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			analyst := b.user(t, "ana-"+tt.name, domain.RoleAnalyst)
			b.waitHubSubscribers(t, 0)
			p := dialWSPeer(t, b, wsDial{initToken: analyst.AccessToken})
			p.subscribeAlerts(t)
			b.waitHubSubscribers(t, 1)
			a.raiseAlert(t, customer)
			p.expectAlert(t)
			a.must(t, admin.AccessToken, tt.query, map[string]any{"id": analyst.User.ID}, nil)
			a.raiseAlert(t, customer)
			p.expectClosed(t, closeSessionEnded)
		})
	}
}

// TestWebsocketPerAddressCap: one address holds at most WS_MAX_PER_ADDRESS
// websockets, whatever their state, protocol or credentials.
func TestWebsocketPerAddressCap(t *testing.T) {
	e, _ := newEnvWith(t, func(c *config) { c.Limits.WSMaxPerAddress = 3 })
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	url := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/graphql"
	dial := func(t *testing.T, header http.Header, protocol string) (*websocket.Conn, *http.Response, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{protocol}, HTTPHeader: header})
		if err == nil {
			t.Cleanup(func() { conn.CloseNow() })
		}
		return conn, resp, err
	}

	silent, _, err := dial(t, nil, "graphql-transport-ws") // never sends connection_init
	if err != nil {
		t.Fatal(err)
	}
	dialWSPeer(t, e, wsDial{}).next(t, "connection_ack") // anonymous, acknowledged
	legacy := dialWSPeer(t, e, wsDial{protocol: "graphql-ws", initToken: analyst.AccessToken})
	legacy.next(t, "connection_ack")

	for _, tt := range []struct {
		name     string
		header   http.Header
		protocol string
	}{
		{"anonymous", nil, "graphql-transport-ws"},
		{"with a token", http.Header{"Authorization": {"Bearer " + analyst.AccessToken}}, "graphql-transport-ws"},
		{"legacy protocol", nil, "graphql-ws"},
	} {
		t.Run("over the cap/"+tt.name, func(t *testing.T) {
			_, resp, err := dial(t, tt.header, tt.protocol)
			if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("4th websocket: got %v, response %+v, want HTTP 429", err, resp)
			}
			if resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		})
	}

	// The silent one is dropped by the init timeout, which frees its place.
	if code := closeStatus(t, silent, 10*time.Second); code != closeInitTimeout {
		t.Fatalf("no connection_init: close code %d, want %d", code, closeInitTimeout)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, _, err := dial(t, nil, "graphql-transport-ws")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a place freed by a closed websocket is not reusable: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestWebsocketAddressKey(t *testing.T) {
	for _, tt := range []struct{ ip, want string }{
		{"203.0.113.7", "203.0.113.7"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
		{"not an address", "not an address"},
	} {
		if got := addressKey(tt.ip); got != tt.want {
			t.Errorf("addressKey(%q): got %q, want %q", tt.ip, got, tt.want)
		}
	}
}

// TestWebsocketMessageLimitIsConfigured: the websocket message limit is
// MAX_BODY_BYTES, below and above the websocket library's 32 KiB default.
func TestWebsocketMessageLimitIsConfigured(t *testing.T) {
	for _, limit := range []int64{16 << 10, 100 << 10} {
		t.Run(fmt.Sprintf("%d bytes", limit), func(t *testing.T) {
			e, _ := newEnvWith(t, func(c *config) { c.Limits.MaxBodyBytes = limit })
			p := dialWSPeer(t, e, wsDial{})
			p.next(t, "connection_ack")
			// A graphql-transport-ws ping of exactly n bytes; the server echoes its payload.
			ping := func(n int64) []byte {
				const head, tail = `{"type":"ping","payload":{"pad":"`, `"}}`
				return []byte(head + strings.Repeat("x", int(n)-len(head)-len(tail)) + tail)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := p.conn.Write(ctx, websocket.MessageText, ping(limit)); err != nil {
				t.Fatal(err)
			}
			if m := p.next(t, "pong"); m.Type != "pong" || len(m.Payload) < int(limit)-40 {
				t.Fatalf("message of exactly the limit: got %s of %d bytes, want its pong", m.Type, len(m.Payload))
			}
			if err := p.conn.Write(ctx, websocket.MessageText, ping(limit+1)); err != nil {
				t.Fatal(err)
			}
			p.expectClosed(t, websocket.StatusMessageTooBig)
		})
	}
}
