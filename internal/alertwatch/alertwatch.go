// Package alertwatch is the client side of `riskgraph alerts`: it subscribes
// to alertRaised over graphql-transport-ws and writes each alert as one JSON
// line, so payment and operations people can tail alerts from a terminal and
// pipe them on.
package alertwatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/coder/websocket"
)

// Query is what each alert line holds.
const Query = `subscription($minLevel: RiskLevel) { alertRaised(minLevel: $minLevel) {
	id level status title message createdAt event { id } user { id username } transaction { id amount currency }
} }`

// Options say where to listen and what for.
type Options struct {
	// URL is the GraphQL endpoint, http(s):// or ws(s)://.
	URL string
	// Token is an ANALYST's or ADMIN's access token.
	Token string
	// MinLevel is LOW, MEDIUM or HIGH.
	MinLevel string
	// Count stops after this many alerts; 0 listens until ctx ends.
	Count int
}

type message struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Watch subscribes and writes one JSON line per alert to out until ctx ends
// (a nil error: Ctrl-C is how one stops tailing) or Count alerts arrived.
// A refused token or subscription comes back as an error with the server's reason.
func Watch(ctx context.Context, opts Options, out io.Writer) error {
	endpoint, err := websocketURL(opts.URL)
	if err != nil {
		return err
	}
	conn, _, err := websocket.Dial(ctx, endpoint, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("connect to %s: %w", endpoint, err)
	}
	defer conn.CloseNow() //nolint:errcheck // closing is best effort once done
	send := func(m message) error {
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		return conn.Write(ctx, websocket.MessageText, b)
	}
	init, _ := json.Marshal(map[string]string{"Authorization": "Bearer " + opts.Token})
	if err := send(message{Type: "connection_init", Payload: init}); err != nil {
		return readError(ctx, err)
	}
	sub, _ := json.Marshal(map[string]any{"query": Query, "variables": map[string]string{"minLevel": opts.MinLevel}})
	seen := 0
	for {
		_, raw, err := conn.Read(ctx)
		if err != nil {
			return readError(ctx, err)
		}
		var m message
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("undecodable message from the server: %.200q", raw)
		}
		switch m.Type {
		case "connection_ack":
			if err := send(message{ID: "1", Type: "subscribe", Payload: sub}); err != nil {
				return readError(ctx, err)
			}
		case "ping":
			if err := send(message{Type: "pong"}); err != nil {
				return readError(ctx, err)
			}
		case "next":
			var p struct {
				Data   struct{ AlertRaised json.RawMessage }
				Errors []struct{ Message string }
			}
			if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) > 0 || p.Data.AlertRaised == nil {
				return fmt.Errorf("subscription refused: %s", errorText(m.Payload))
			}
			if _, err := fmt.Fprintf(out, "%s\n", p.Data.AlertRaised); err != nil {
				return err
			}
			if seen++; opts.Count > 0 && seen >= opts.Count {
				send(message{ID: "1", Type: "complete"})          //nolint:errcheck // leaving anyway
				conn.Close(websocket.StatusNormalClosure, "done") //nolint:errcheck
				return nil
			}
		case "error":
			return fmt.Errorf("subscription refused: %s", errorText(m.Payload))
		case "complete":
			return errors.New("the server ended the subscription")
		}
	}
}

// readError turns a failed read or write into the reason a person can act on.
func readError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return fmt.Errorf("the server closed the connection: %d %s", ce.Code, ce.Reason)
	}
	return err
}

// errorText is the messages of a GraphQL error payload, or the payload itself.
func errorText(payload json.RawMessage) string {
	var errs []struct{ Message string }
	if json.Unmarshal(payload, &errs) != nil {
		var res struct{ Errors []struct{ Message string } }
		if json.Unmarshal(payload, &res) == nil {
			errs = res.Errors
		}
	}
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Message)
	}
	if len(msgs) == 0 {
		return string(payload)
	}
	return strings.Join(msgs, "; ")
}

// websocketURL maps the GraphQL endpoint's http(s) URL to ws(s).
func websocketURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("-url %q: want the GraphQL endpoint, such as http://localhost:8080/graphql", raw)
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	case "ws", "wss":
	default:
		return "", fmt.Errorf("-url %q: want an http, https, ws or wss URL", raw)
	}
	return u.String(), nil
}
