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
	// upgradeAuth is the upgrade request's Authorization header; it is used
	// only by websocketInit, so it is bound exactly like a connection_init token.
	upgradeAuth string
	cancel      context.CancelFunc

	subscriptions int // guarded by app.subsMu

	mu        sync.Mutex // guards the rest
	userID    int64
	sessionID uuid.UUID
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

// bind files c under its user and session, so changes to them end it.
func (ws *websockets) bind(c *connection, userID int64, sessionID uuid.UUID) {
	c.mu.Lock()
	c.userID, c.sessionID = userID, sessionID
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
// session, or every one of the user when the role, status or password changed.
// Even a change that leaves the session usable (a promotion, a password
// change made on this very session) ends them: the subscriptions were
// authorized under the old credentials, and reconnecting re-authorizes.
func (ws *websockets) sessionChanged(ch pubsub.SessionChange) {
	ws.mu.Lock()
	var affected []*connection
	for c := range ws.byUser[ch.UserID] {
		if ch.SessionID == uuid.Nil || c.session() == ch.SessionID {
			affected = append(affected, c)
		}
	}
	ws.mu.Unlock()
	reason := "session ended"
	if ch.SessionID == uuid.Nil {
		reason = "account changed (role, status or password)"
	}
	for _, c := range affected {
		c.end(closeSessionEnded, reason)
	}
}

func (c *connection) session() uuid.UUID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessionID
}

// resync checks every bound connection against the database, for when
// session notifications may have been lost (the listener reconnected): a
// connection whose session ended, whose user is no longer active or whose
// role differs from the one it was authorized with is ended. A password
// change shows here only through the other sessions it revoked.
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
	ids := make([]uuid.UUID, len(conns))
	for i, c := range conns {
		ids[i] = c.session()
	}
	states, err := store.SessionStates(ctx, a.db, ids, a.now())
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
	c := &connection{addr: addressKey(auth.ClientIP(r.Context())), upgradeAuth: r.Header.Get("Authorization")}
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

// websocketInit is the one way a websocket is authenticated: the token in the
// connection_init payload ({"Authorization": "Bearer <token>"}), else the one
// in the upgrade request's Authorization header. The connection is bound to
// the token's session before the database check, so a change committed
// after that check still reaches it, and it ends when the token expires.
func (a *app) websocketInit(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	c := connectionOf(ctx)
	if c == nil {
		return ctx, nil, errNoConnection
	}
	header := payload.Authorization()
	if header == "" {
		header = payload.GetString("authorization")
	}
	if header == "" {
		header = c.upgradeAuth
	}
	if header == "" {
		return ctx, nil, nil // anonymous: only anonymous fields will answer
	}
	refuse := func(code int, msg string) (context.Context, *transport.InitPayload, error) {
		ctx = transport.AppendCloseReason(transport.WithWebsocketCloseCode(ctx, code), msg)
		return ctx, nil, errors.New(msg)
	}
	token, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		token = ""
	}
	token = strings.TrimSpace(token)
	claims, err := a.tokens.Verify(token)
	if err != nil {
		return refuse(closeTokenExpired, "invalid or expired access token")
	}
	a.ws.bind(c, claims.UserID, claims.SessionID)
	p, err := a.accounts.Authenticate(ctx, token)
	var appErr *apperr.Error
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
	expiry := time.AfterFunc(p.ExpiresAt.Sub(a.now()), func() { c.end(closeTokenExpired, "access token expired") })
	context.AfterFunc(ctx, func() { expiry.Stop() })
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
