package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/smartfinance/riskgraph/internal/domain"
)

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// subscribe opens a graphql-transport-ws subscription with a real websocket client.
func (e *testEnv) subscribe(t *testing.T, token, query string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/graphql"
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	init, _ := json.Marshal(map[string]string{"Authorization": "Bearer " + token})
	if err := wsjson.Write(ctx, conn, wsMessage{Type: "connection_init", Payload: init}); err != nil {
		t.Fatal(err)
	}
	if msg := readWS(t, conn); msg.Type != "connection_ack" {
		t.Fatalf("after connection_init: got %+v, want connection_ack", msg)
	}
	payload, _ := json.Marshal(map[string]string{"query": query})
	if err := wsjson.Write(ctx, conn, wsMessage{ID: "1", Type: "subscribe", Payload: payload}); err != nil {
		t.Fatal(err)
	}
	return conn
}

func readWS(t *testing.T, conn *websocket.Conn) wsMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		var msg wsMessage
		if err := wsjson.Read(ctx, conn, &msg); err != nil {
			t.Fatalf("read websocket: %v", err)
		}
		if msg.Type != "ping" && msg.Type != "pong" && msg.Type != "ka" {
			return msg
		}
	}
}

// waitSubscribers waits until the instance has n live subscriptions, so a
// mutation can't race ahead of the subscription registering.
func (e *testEnv) waitSubscribers(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.app.hub.Subscribers() < n {
		if time.Now().After(deadline) {
			t.Fatalf("subscribers: got %d, want %d", e.app.hub.Subscribers(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAlertReachesSubscriberOnAnotherInstance(t *testing.T) {
	a := newEnv(t)
	b := newEnvOn(t, a.db, a.url) // a second instance sharing the database
	analyst := a.user(t, "ana", domain.RoleAnalyst)
	admin := b.user(t, "root", domain.RoleAdmin) // submits and reads the alert it raised
	victim := b.user(t, "vic", domain.RoleUser)

	conn := a.subscribe(t, analyst.AccessToken, `subscription { alertRaised(minLevel: HIGH) { id level title transaction { amount } user { username } } }`)
	a.waitSubscribers(t, 1)

	// A MEDIUM alert is below the subscriber's threshold; the HIGH one reaches it.
	b.submit(t, admin.AccessToken, map[string]any{"userId": victim.User.ID, "amount": 12000})
	for range 4 {
		b.submit(t, admin.AccessToken, map[string]any{"userId": victim.User.ID, "amount": 1})
	}
	high := b.submit(t, admin.AccessToken, map[string]any{"userId": victim.User.ID, "amount": 20000})
	if high.Alert == nil || high.Alert.Level != "HIGH" {
		t.Fatalf("submission: got alert %+v, want HIGH", high.Alert)
	}

	msg := readWS(t, conn)
	if msg.Type != "next" || msg.ID != "1" {
		t.Fatalf("got %+v, want next for subscription 1", msg)
	}
	var got struct {
		Data struct {
			AlertRaised struct {
				ID, Level, Title string
				Transaction      struct{ Amount string }
				User             struct{ Username string }
			}
		}
	}
	if err := json.Unmarshal(msg.Payload, &got); err != nil {
		t.Fatal(err)
	}
	alert := got.Data.AlertRaised
	if alert.ID != high.Alert.ID || alert.Level != "HIGH" || alert.Transaction.Amount != "20000.00" || alert.User.Username != "vic" {
		t.Fatalf("received alert: got %+v, want alert %s (HIGH, 20000.00, vic)", alert, high.Alert.ID)
	}
}

func TestSubscriptionNeedsAnalyst(t *testing.T) {
	e := newEnv(t)
	alice := e.user(t, "alice", domain.RoleUser)
	conn := e.subscribe(t, alice.AccessToken, `subscription { alertRaised { id } }`)
	msg := readWS(t, conn)
	if msg.Type != "error" && msg.Type != "next" {
		t.Fatalf("got %+v, want an error", msg)
	}
	if !strings.Contains(string(msg.Payload), "FORBIDDEN") {
		t.Fatalf("payload: got %s, want FORBIDDEN", msg.Payload)
	}
}
