//go:build linux

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// delivery is one alert a subscriber received.
type delivery struct {
	id string
	at time.Time
}

// subscriber is one graphql-transport-ws connection with one alertRaised
// subscription, read in the background until the server or close ends it.
type subscriber struct {
	conn   *websocket.Conn
	cancel context.CancelFunc
	done   chan struct{}

	mu        sync.Mutex
	received  []delivery
	completed time.Time // when the server sent "complete" for the subscription
	errs      []string  // "error" messages
	// Set when the connection ended: the close frame's code (-1 for none) and reason.
	closeCode   websocket.StatusCode
	closeReason string
	closedAt    time.Time
	readErr     error
}

// subscribe connects to addr as the bearer of token and subscribes to alerts
// at or above minLevel.
func subscribe(ctx context.Context, addr, token, minLevel string) (*subscriber, error) {
	setup, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(setup, "ws://"+addr+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, fmt.Errorf("websocket dial %s: %w", addr, err)
	}
	init, _ := json.Marshal(map[string]string{"Authorization": "Bearer " + token})
	if err := wsjson.Write(setup, conn, wsMessage{Type: "connection_init", Payload: init}); err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("connection_init: %w", err)
	}
	for {
		var msg wsMessage
		if err := wsjson.Read(setup, conn, &msg); err != nil {
			conn.CloseNow()
			return nil, fmt.Errorf("waiting for connection_ack: %w", err)
		}
		if msg.Type == "connection_ack" {
			break
		}
		if msg.Type != "ping" && msg.Type != "pong" {
			conn.CloseNow()
			return nil, fmt.Errorf("after connection_init: got %s %s, want connection_ack", msg.Type, msg.Payload)
		}
	}
	query := fmt.Sprintf(`subscription { alertRaised(minLevel: %s) { id } }`, minLevel)
	payload, _ := json.Marshal(map[string]string{"query": query})
	if err := wsjson.Write(setup, conn, wsMessage{ID: "1", Type: "subscribe", Payload: payload}); err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	// The reader outlives setup; close (or the scenario ending) stops it.
	readCtx, stop := context.WithCancel(ctx)
	s := &subscriber{conn: conn, cancel: stop, done: make(chan struct{})}
	go s.read(readCtx)
	return s, nil
}

func (s *subscriber) read(ctx context.Context) {
	defer close(s.done)
	for {
		var msg wsMessage
		err := wsjson.Read(ctx, s.conn, &msg)
		if err != nil {
			s.mu.Lock()
			s.readErr, s.closeCode, s.closedAt = err, websocket.CloseStatus(err), time.Now()
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				s.closeReason = ce.Reason
			}
			s.mu.Unlock()
			return
		}
		switch msg.Type {
		case "next":
			var p struct {
				Data struct {
					AlertRaised struct{ ID string }
				}
			}
			// A payload without an alert (e.g. errors) is kept as an error.
			if json.Unmarshal(msg.Payload, &p) != nil || p.Data.AlertRaised.ID == "" {
				s.record(func() { s.errs = append(s.errs, string(msg.Payload)) })
				continue
			}
			d := delivery{id: p.Data.AlertRaised.ID, at: time.Now()}
			s.record(func() { s.received = append(s.received, d) })
		case "error":
			s.record(func() { s.errs = append(s.errs, string(msg.Payload)) })
		case "complete":
			s.record(func() { s.completed = time.Now() })
		case "ping":
			// The server may drop a connection that leaves its pings unanswered.
			wsjson.Write(ctx, s.conn, wsMessage{Type: "pong"}) //nolint:errcheck // a failed write ends the next read
		}
	}
}

func (s *subscriber) record(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}

// close ends the connection from our side and waits for the reader.
func (s *subscriber) close() {
	s.cancel()
	s.conn.CloseNow()
	<-s.done
}

// waitEnded waits up to d for the connection to end.
func (s *subscriber) waitEnded(d time.Duration) {
	select {
	case <-s.done:
	case <-time.After(d):
	}
}

// live reports whether the subscription still runs and describes how it
// ended otherwise: the server may complete it (a subscriber that falls behind
// is dropped), send errors, or close the connection.
func (s *subscriber) live() (bool, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case !s.completed.IsZero():
		return false, "the server completed it"
	case len(s.errs) > 0:
		return false, fmt.Sprintf("the server sent errors%s", examples(s.errs))
	case !s.closedAt.IsZero():
		return false, fmt.Sprintf("the connection ended: %v", s.readErr)
	}
	return true, "live"
}

// completedAt is when the server completed the subscription, zero if it did not.
func (s *subscriber) completedAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.completed
}

// deliveries returns a copy of the alerts received so far.
func (s *subscriber) deliveries() []delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]delivery(nil), s.received...)
}

// waitFor waits up to d (or until ctx ends) until every id has been
// received and returns the ones still missing.
func (s *subscriber) waitFor(ctx context.Context, ids []string, d time.Duration) []string {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		got := map[string]bool{}
		for _, dl := range s.deliveries() {
			got[dl.id] = true
		}
		var missing []string
		for _, id := range ids {
			if !got[id] {
				missing = append(missing, id)
			}
		}
		// A subscription that ended gets nothing more: no need to wait.
		if live, _ := s.live(); len(missing) == 0 || !live || !sleep(ctx, 50*time.Millisecond) {
			return missing
		}
	}
}
