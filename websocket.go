package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/google/uuid"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/pubsub"
	"github.com/smartfinance/riskgraph/internal/store"
)

// Close codes beyond gqlgen's "1000 terminated", so clients know what to do
// next. docs/SECURITY.md ("Websockets") lists them for client authors.
const (
	closeGoingAway    = 1001 // server shutting down: reconnect to another instance
	closeRecheck      = 1013 // "try again later": the session could not be checked (database); reconnect
	closeTokenExpired = 4401 // "Unauthorized": the access token expired or is invalid; refresh it, then reconnect
	closeSessionEnded = 4403 // "Forbidden": the session ended or the account changed; reconnecting re-authorizes, else log in
	closeInitTimeout  = 4408 // graphql-transport-ws "Connection initialisation timeout"
)

// connection is one websocket's bookkeeping, shared by the transport, the
// registry and the operations on it.
type connection struct {
	addr string // the per-address cap's key
	// upgradeAuth and upgradeAPIKey are the upgrade request's Authorization
	// and X-Api-Key headers; they are used only by websocketInit, so they are
	// bound exactly like a connection_init credential.
	upgradeAuth   string
	upgradeAPIKey string
	cancel        context.CancelFunc

	subscriptions int // guarded by app.subsMu

	mu        sync.Mutex // guards the rest
	userID    int64
	sessionID uuid.UUID // the access token's session, or
	apiKeyID  int64     // the API key, whichever authenticated the connection
	role      domain.Role
	code      int // why the server ended the connection; 0 while it lives
	reason    string
}

type connectionKey struct{}

func withConnection(ctx context.Context, c *connection) context.Context {
	return context.WithValue(ctx, connectionKey{}, c)
}

func connectionOf(ctx context.Context) *connection {
	c, _ := ctx.Value(connectionKey{}).(*connection)
	return c
}

// end closes the connection with code: its context ends (and with it every
// subscription on it) and nothing more is written to the client. The first
// reason given wins.
func (c *connection) end(code int, reason string) {
	c.mu.Lock()
	if c.code == 0 {
		c.code, c.reason = code, reason
	}
	c.mu.Unlock()
	c.cancel()
}

func (c *connection) ended() (code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.code, c.reason
}

// websockets is an instance's registry of live websocket connections: per
// client address for the cap, and per user for ending them when the
// credentials behind them change (on any instance, through pubsub).
type websockets struct {
	mu     sync.Mutex
	byAddr map[string]int
	byUser map[int64]map[*connection]struct{}
}

func newWebsockets() *websockets {
	return &websockets{byAddr: map[string]int{}, byUser: map[int64]map[*connection]struct{}{}}
}

// open counts c against its address; false when the address has max open already.
func (ws *websockets) open(c *connection, max int) bool {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.byAddr[c.addr] >= max {
		return false
	}
	ws.byAddr[c.addr]++
	return true
}

// bind files c under its user and session or API key, so changes to them end it.
func (ws *websockets) bind(c *connection, userID int64, sessionID uuid.UUID, apiKeyID int64) {
	c.mu.Lock()
	c.userID, c.sessionID, c.apiKeyID = userID, sessionID, apiKeyID
	c.mu.Unlock()
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.byUser[userID] == nil {
		ws.byUser[userID] = map[*connection]struct{}{}
	}
	ws.byUser[userID][c] = struct{}{}
}

// close forgets c once its connection is over.
func (ws *websockets) close(c *connection) {
	c.mu.Lock()
	userID := c.userID
	c.mu.Unlock()
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.byAddr[c.addr]--; ws.byAddr[c.addr] <= 0 {
		delete(ws.byAddr, c.addr)
	}
	if conns := ws.byUser[userID]; conns != nil {
		delete(conns, c)
		if len(conns) == 0 {
			delete(ws.byUser, userID)
		}
	}
}

// sessionChanged ends the connections a change concerns: those of the
// session or API key, or every one of the user when the role, status or
// password changed.
// Even a change that leaves the session usable (a promotion, a password
// change made on this very session) ends them: the subscriptions were
// authorized under the old credentials, and reconnecting re-authorizes.
func (ws *websockets) sessionChanged(ch pubsub.SessionChange) {
	ws.mu.Lock()
	var affected []*connection
	userWide := ch.SessionID == uuid.Nil && ch.APIKeyID == 0
	for c := range ws.byUser[ch.UserID] {
		session, apiKey := c.credential()
		if userWide || ch.SessionID != uuid.Nil && session == ch.SessionID || ch.APIKeyID != 0 && apiKey == ch.APIKeyID {
			affected = append(affected, c)
		}
	}
	ws.mu.Unlock()
	reason := "session ended"
	switch {
	case userWide:
		reason = "account changed (role, status or password)"
	case ch.APIKeyID != 0:
		reason = "API key revoked or rotated"
	}
	for _, c := range affected {
		c.end(closeSessionEnded, reason)
	}
}

// credential is what authenticated the connection: a session or an API key.
func (c *connection) credential() (uuid.UUID, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessionID, c.apiKeyID
}

// resync checks every bound connection against the database, for when
// session notifications may have been lost (the listener reconnected): a
// connection whose session or API key ended, whose user is no longer active
// or whose role differs from the one it was authorized with is ended. A
// password change shows here only through the other sessions it revoked.
func (a *app) resyncWebsockets(ctx context.Context) {
	a.ws.mu.Lock()
	var conns []*connection
	for _, byUser := range a.ws.byUser {
		for c := range byUser {
			conns = append(conns, c)
		}
	}
	a.ws.mu.Unlock()
	if len(conns) == 0 {
		return
	}
	var sessionIDs []uuid.UUID
	var keyIDs []int64
	for _, c := range conns {
		if session, apiKey := c.credential(); apiKey != 0 {
			keyIDs = append(keyIDs, apiKey)
		} else {
			sessionIDs = append(sessionIDs, session)
		}
	}
	states, err := store.SessionStates(ctx, a.db, sessionIDs, a.now())
	var keyStates map[int64]store.SessionState
	if err == nil {
		keyStates, err = store.APIKeyStates(ctx, a.db, keyIDs, a.now())
	}
	if err != nil {
		// Unable to prove the sessions live: fail closed, clients reconnect.
		a.log.ErrorContext(ctx, "re-check websocket sessions; closing them", "err", err)
		for _, c := range conns {
			c.end(closeRecheck, "session could not be re-checked; reconnect")
		}
		return
	}
	for _, c := range conns {
		c.mu.Lock()
		st, ok := states[c.sessionID]
		if c.apiKeyID != 0 {
			st, ok = keyStates[c.apiKeyID]
		}
		live := ok && st.Active && st.Status == domain.UserActive && st.Role == c.role
		c.mu.Unlock()
		if !live {
			c.end(closeSessionEnded, "session ended")
		}
	}
}

// serveWebsocket admits a websocket under the per-address cap and gives it
// the bookkeeping the transport, websocketInit and the registry share. Its
// credentials are not read here: websocketInit authenticates every websocket.
func (a *app) serveWebsocket(w http.ResponseWriter, r *http.Request, next http.Handler) {
	c := &connection{addr: addressKey(auth.ClientIP(r.Context())),
		upgradeAuth: r.Header.Get("Authorization"), upgradeAPIKey: r.Header.Get(apiKeyHeader)}
	if !a.ws.open(c, a.limits.WSMaxPerAddress) {
		w.Header().Set("Retry-After", "5")
		http.Error(w, "too many websockets from your address", http.StatusTooManyRequests)
		return
	}
	defer a.ws.close(c)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(a.wsCtx, cancel)()
	c.cancel = cancel
	next.ServeHTTP(w, r.WithContext(withConnection(ctx, c)))
}

// addressKey is what the per-address cap counts: the IP address, or for IPv6
// its /64, which one subscriber line usually owns entirely.
func addressKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.Unmap()
	if addr.Is4() {
		return addr.String()
	}
	prefix, _ := addr.Prefix(64)
	return prefix.String()
}

var errNoConnection = errors.New("websocket without its bookkeeping")

// websocketInit is the one way a websocket is authenticated: the credential in
// the connection_init payload ({"Authorization": "Bearer <token>"}, or
// "ApiKey <key>", or {"X-Api-Key": "<key>"}), else the one in the upgrade
// request's headers. The connection is bound to the token's session (or the
// key) before the final check, so a change committed after that check still
// reaches it, and it ends when the token (or key) expires.
func (a *app) websocketInit(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	c := connectionOf(ctx)
	if c == nil {
		return ctx, nil, errNoConnection
	}
	header, apiKey := payload.Authorization(), payload.GetString(apiKeyHeader)
	if header == "" {
		header = payload.GetString("authorization")
	}
	if apiKey == "" {
		apiKey = payload.GetString(strings.ToLower(apiKeyHeader))
	}
	if header == "" && apiKey == "" {
		header, apiKey = c.upgradeAuth, c.upgradeAPIKey
	}
	refuse := func(code int, msg string) (context.Context, *transport.InitPayload, error) {
		ctx = transport.AppendCloseReason(transport.WithWebsocketCloseCode(ctx, code), msg)
		return ctx, nil, errors.New(msg)
	}
	cred, err := auth.ParseCredential(header, apiKey)
	var appErr *apperr.Error
	switch {
	case errors.As(err, &appErr):
		return refuse(closeTokenExpired, appErr.Message)
	case cred.Scheme == auth.NoCredential:
		return ctx, nil, nil // anonymous: only anonymous fields will answer
	case cred.Scheme == auth.Bearer:
		claims, err := a.tokens.Verify(cred.Secret)
		if err != nil {
			return refuse(closeTokenExpired, "invalid or expired access token")
		}
		a.ws.bind(c, claims.UserID, claims.SessionID, 0)
	default:
		// A key names its account only through its row: look it up, bind,
		// then check again below (from memory unless a change came meanwhile).
		p, err := a.keys.Authenticate(ctx, cred.Secret)
		if errors.As(err, &appErr) && appErr.Code == apperr.Unauthenticated {
			return refuse(closeTokenExpired, appErr.Message)
		}
		if err == nil {
			a.ws.bind(c, p.UserID, uuid.Nil, p.APIKeyID)
		}
	}
	p, err := a.checkCredential(ctx, cred)
	switch {
	case errors.As(err, &appErr) && appErr.Code == apperr.Unauthenticated:
		return refuse(closeSessionEnded, appErr.Message)
	case err != nil:
		if ctx.Err() == nil { // else the connection was ended meanwhile, and closes saying why
			a.log.ErrorContext(ctx, "authenticate websocket", "err", err)
		}
		return refuse(closeRecheck, "session could not be checked; reconnect")
	}
	c.mu.Lock()
	c.role = p.Role
	c.mu.Unlock()
	if !p.ExpiresAt.IsZero() { // an API key may never expire
		reason := "access token expired"
		if p.APIKeyID != 0 {
			reason = "API key expired"
		}
		expiry := time.AfterFunc(p.ExpiresAt.Sub(a.now()), func() { c.end(closeTokenExpired, reason) })
		context.AfterFunc(ctx, func() { expiry.Stop() })
	}
	return auth.WithPrincipal(ctx, p), nil, nil
}

// errSubscriptionTransport refuses subscriptions over plain HTTP: gqlgen would
// hold the request open until the first alert, outside the websocket's
// binding to its session, so a revoked session could still receive one.
var errSubscriptionTransport = apperr.New(apperr.BadInput, "subscriptions are served over websockets only (graphql-transport-ws or graphql-ws)")

// admitSubscription enforces that subscriptions run on a websocket, and the
// per-connection and per-user subscription caps; the release func gives the
// places back when the subscription ends.
func (a *app) admitSubscription(ctx context.Context) (func(), *apperr.Error) {
	c := connectionOf(ctx)
	if c == nil {
		return nil, errSubscriptionTransport
	}
	p, _ := auth.FromContext(ctx)
	a.subsMu.Lock()
	defer a.subsMu.Unlock()
	if c.subscriptions >= a.limits.WSMaxSubscriptions {
		return nil, apperr.New(apperr.RateLimited, fmt.Sprintf("at most %d subscriptions per connection", a.limits.WSMaxSubscriptions))
	}
	if p.UserID != 0 && a.userSubs[p.UserID] >= a.limits.WSMaxUserSubs {
		return nil, apperr.New(apperr.RateLimited, fmt.Sprintf("at most %d subscriptions per user", a.limits.WSMaxUserSubs))
	}
	c.subscriptions++
	if p.UserID != 0 {
		a.userSubs[p.UserID]++
	}
	return func() {
		a.subsMu.Lock()
		defer a.subsMu.Unlock()
		c.subscriptions--
		if p.UserID != 0 {
			if a.userSubs[p.UserID]--; a.userSubs[p.UserID] <= 0 {
				delete(a.userSubs, p.UserID)
			}
		}
	}, nil
}

// closeCodes makes gqlgen's closes say why (see the close codes above), and
// stops writes to a connection the server has ended.
type closeCodes struct {
	inner    transport.WebsocketImplementation
	shutdown context.Context
}

func (cc closeCodes) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := cc.inner.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	return &closeCodeConn{WebsocketConn: conn, shutdown: cc.shutdown, conn: connectionOf(r.Context())}, nil
}

type closeCodeConn struct {
	transport.WebsocketConn
	shutdown context.Context
	conn     *connection
}

// The transport applies PayloadReadLimit and the ping/pong deadline only
// through these optional interfaces; a wrapper without them silently left
// the library's 32 KiB default and no pong deadline in force.
var (
	_ transport.WebsocketReadLimiter   = (*closeCodeConn)(nil)
	_ transport.WebsocketReadDeadliner = (*closeCodeConn)(nil)
)

func (c *closeCodeConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

func (c *closeCodeConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}

var errConnectionEnded = errors.New("websocket ended by the server")

// WriteJSON sends nothing once the server has ended the connection, so an
// alert raised after a revocation never reaches it while the close is under way.
func (c *closeCodeConn) WriteJSON(v any) error {
	if c.conn != nil {
		if code, _ := c.conn.ended(); code != 0 {
			return errConnectionEnded
		}
	}
	return c.WebsocketConn.WriteJSON(v)
}

// WriteClose says why the server closes. A connection the server ended
// closes with that reason whatever the transport was doing at the time (a
// revocation during connection_init makes the session check fail, say).
func (c *closeCodeConn) WriteClose(code int, message string) error {
	if ended, reason := c.endedBy(); ended != 0 {
		return c.WebsocketConn.WriteClose(ended, reason)
	}
	switch {
	case code == transport.WebsocketCloseProtocolError && message == "connection initialisation timeout" && c.Subprotocol() == "graphql-transport-ws":
		code = closeInitTimeout
	case code == transport.WebsocketCloseNormalClosure && c.shutdown.Err() != nil:
		code, message = closeGoingAway, "server shutting down"
	}
	return c.WebsocketConn.WriteClose(code, message)
}

func (c *closeCodeConn) endedBy() (int, string) {
	if c.conn == nil {
		return 0, ""
	}
	return c.conn.ended()
}
