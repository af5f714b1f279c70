package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/smartfinance/riskgraph/internal/auth"
)

// Close codes beyond gqlgen's "1000 terminated", so clients know whether to reconnect.
const (
	closeGoingAway    = 1001 // server shutting down: reconnect to another instance
	closeTokenExpired = 4401 // graphql-transport-ws "Unauthorized": refresh the token, then reconnect
	closeInitTimeout  = 4408 // graphql-transport-ws "Connection initialisation timeout"
)

// connection is one websocket's bookkeeping, shared by the transport and the operations on it.
type connection struct {
	subscriptions int
	expires       time.Time
}

type connectionKey struct{}

func withConnection(ctx context.Context) context.Context {
	return context.WithValue(ctx, connectionKey{}, &connection{})
}

func connectionOf(ctx context.Context) *connection {
	c, _ := ctx.Value(connectionKey{}).(*connection)
	return c
}

// admitSubscription enforces the per-connection and per-user subscription caps;
// the release func gives the places back when the subscription ends.
func (a *app) admitSubscription(ctx context.Context) (func(), error) {
	c := connectionOf(ctx)
	p, _ := auth.FromContext(ctx)
	a.subsMu.Lock()
	defer a.subsMu.Unlock()
	if c != nil && c.subscriptions >= a.limits.WSMaxSubscriptions {
		return nil, fmt.Errorf("at most %d subscriptions per connection", a.limits.WSMaxSubscriptions)
	}
	if p.UserID != 0 && a.userSubs[p.UserID] >= a.limits.WSMaxUserSubs {
		return nil, fmt.Errorf("at most %d subscriptions per user", a.limits.WSMaxUserSubs)
	}
	if c != nil {
		c.subscriptions++
	}
	if p.UserID != 0 {
		a.userSubs[p.UserID]++
	}
	return func() {
		a.subsMu.Lock()
		defer a.subsMu.Unlock()
		if c != nil {
			c.subscriptions--
		}
		if p.UserID != 0 {
			if a.userSubs[p.UserID]--; a.userSubs[p.UserID] <= 0 {
				delete(a.userSubs, p.UserID)
			}
		}
	}, nil
}

// closeCodes makes gqlgen's closes say why: 1001 when the server shuts down,
// 4401 when the access token expired, 4408 for a missing connection_init.
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

func (c *closeCodeConn) WriteClose(code int, message string) error {
	if code == transport.WebsocketCloseProtocolError && message == "connection initialisation timeout" && c.Subprotocol() == "graphql-transport-ws" {
		code = closeInitTimeout
	}
	if code == transport.WebsocketCloseNormalClosure {
		switch {
		case c.shutdown.Err() != nil:
			code, message = closeGoingAway, "server shutting down"
		case c.conn != nil && !c.conn.expires.IsZero() && !time.Now().Before(c.conn.expires):
			code, message = closeTokenExpired, "access token expired"
		}
	}
	return c.WebsocketConn.WriteClose(code, message)
}
