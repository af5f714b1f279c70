package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/smartfinance/riskgraph/cmd/internal/devserver"
)

// fanoutResult is how fast committed alerts reached every subscriber.
type fanoutResult struct {
	subscribers   int
	alerts        int
	expected      int
	delivered     int
	p50, p99, max time.Duration
}

const alertSubscription = `subscription { alertRaised(minLevel: MEDIUM) { id level title createdAt } }`

// arrivals records when each subscriber received each alert.
type arrivals struct {
	mu       sync.Mutex
	byAlert  map[string][]time.Time
	failures []string
}

func (a *arrivals) add(alertID string, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.byAlert[alertID] = append(a.byAlert[alertID], at)
}

func (a *arrivals) fail(reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failures = append(a.failures, reason)
}

func (a *arrivals) count(alertID string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.byAlert[alertID])
}

// runFanout opens p.subscribers graphql-transport-ws subscriptions as the
// ANALYST, then submits p.alerts alert-raising transactions one at a time and
// times each delivery from the moment the submit's HTTP response arrived —
// after its commit, so this slightly under-counts; a delivery that beats the
// response counts as zero.
func runFanout(ctx context.Context, srv *devserver.Server, acc *accounts, pop *population, p plan) (*fanoutResult, error) {
	res := &fanoutResult{subscribers: p.subscribers, alerts: p.alerts}
	err := bounded(ctx, 2*time.Minute, "fan-out", func(ctx context.Context) error {
		subCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		got := &arrivals{byAlert: map[string][]time.Time{}}
		conns, err := subscribeAll(subCtx, srv, acc.analystToken, p.subscribers, got)
		defer func() {
			for _, c := range conns {
				c.CloseNow() //nolint:errcheck // the run is over either way
			}
		}()
		if err != nil {
			return err
		}
		client := &http.Client{Timeout: 10 * time.Second}
		// Subscriptions register asynchronously: the first alert, unmeasured,
		// proves every subscriber is listening.
		next := len(pop.users) - 1
		warm, _, err := submitAlerting(ctx, client, srv, acc, pop, next)
		if err != nil {
			return err
		}
		if err := waitFor(ctx, 30*time.Second, func() bool { return got.count(warm) >= p.subscribers }); err != nil {
			return fmt.Errorf("%d of %d subscribers received the warm-up alert (failures: %v)", got.count(warm), p.subscribers, got.failures)
		}
		committed := map[string]time.Time{}
		const pace = 50 * time.Millisecond
		for i := range p.alerts {
			start := time.Now()
			id, at, err := submitAlerting(ctx, client, srv, acc, pop, next-1-i)
			if err != nil {
				return err
			}
			committed[id] = at
			time.Sleep(pace - time.Since(start))
		}
		waitFor(ctx, 15*time.Second, func() bool { //nolint:errcheck // missing deliveries are reported, not fatal
			for id := range committed {
				if got.count(id) < p.subscribers {
					return false
				}
			}
			return true
		})
		var lat []time.Duration
		got.mu.Lock()
		for id, at := range committed {
			for _, t := range got.byAlert[id] {
				lat = append(lat, max(0, t.Sub(at)))
			}
		}
		got.mu.Unlock()
		slices.Sort(lat)
		res.expected, res.delivered = p.alerts*p.subscribers, len(lat)
		res.p50, res.p99 = quantile(lat, 0.50), quantile(lat, 0.99)
		if len(lat) > 0 {
			res.max = lat[len(lat)-1]
		}
		log.Printf("fan-out: %d of %d delivered, p50 %s p99 %s max %s", res.delivered, res.expected, ms(res.p50), ms(res.p99), ms(res.max))
		return srv.Alive()
	})
	return res, err
}

// subscribeAll connects n subscribers, a few at a time.
func subscribeAll(ctx context.Context, srv *devserver.Server, token string, n int, got *arrivals) ([]*websocket.Conn, error) {
	conns := make([]*websocket.Conn, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			conns[i], errs[i] = subscribe(ctx, srv, token, got)
		})
	}
	wg.Wait()
	var ok []*websocket.Conn
	var firstErr error
	for i, c := range conns {
		if c != nil {
			ok = append(ok, c)
		}
		if errs[i] != nil && firstErr == nil {
			firstErr = errs[i]
		}
	}
	if firstErr != nil {
		return ok, fmt.Errorf("subscribe: %d of %d failed, first: %w", n-len(ok), n, firstErr)
	}
	return ok, nil
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// subscribe speaks graphql-transport-ws: init with the token, await the ack,
// subscribe, then read in the background until ctx ends.
func subscribe(ctx context.Context, srv *devserver.Server, token string, got *arrivals) (*websocket.Conn, error) {
	conn, _, err := websocket.Dial(ctx, "ws://"+srv.Addr+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, err
	}
	send := func(m wsMessage) error {
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		return conn.Write(ctx, websocket.MessageText, b)
	}
	initPayload, _ := json.Marshal(map[string]string{"Authorization": "Bearer " + token})
	if err := send(wsMessage{Type: "connection_init", Payload: initPayload}); err != nil {
		conn.CloseNow() //nolint:errcheck
		return nil, err
	}
	for {
		_, raw, err := conn.Read(ctx)
		if err != nil {
			conn.CloseNow() //nolint:errcheck
			return nil, fmt.Errorf("awaiting connection_ack: %w", err)
		}
		var m wsMessage
		if json.Unmarshal(raw, &m) == nil && m.Type == "connection_ack" {
			break
		}
	}
	query, _ := json.Marshal(map[string]string{"query": alertSubscription})
	if err := send(wsMessage{ID: "1", Type: "subscribe", Payload: query}); err != nil {
		conn.CloseNow() //nolint:errcheck
		return nil, err
	}
	go func() {
		for {
			_, raw, err := conn.Read(ctx)
			at := time.Now()
			if err != nil {
				if ctx.Err() == nil {
					got.fail(err.Error())
				}
				return
			}
			var m wsMessage
			if err := json.Unmarshal(raw, &m); err != nil {
				got.fail("undecodable message")
				continue
			}
			switch m.Type {
			case "next":
				var p struct {
					Data struct{ AlertRaised struct{ ID string } }
				}
				if json.Unmarshal(m.Payload, &p) == nil && p.Data.AlertRaised.ID != "" {
					got.add(p.Data.AlertRaised.ID, at)
				}
			case "ping":
				send(wsMessage{Type: "pong"}) //nolint:errcheck // a failed pong shows up as a read error
			case "error", "complete":
				got.fail(m.Type + ": " + string(m.Payload))
				return
			}
		}
	}()
	return conn, nil
}

// submitAlerting submits, as the admin, a large payment for user index ui,
// which raises an alert, and returns the alert's ID and when the response arrived.
func submitAlerting(ctx context.Context, client *http.Client, srv *devserver.Server, acc *accounts, pop *population, ui int) (string, time.Time, error) {
	in := submitInput{UserID: fmt.Sprint(pop.users[ui].id), Amount: "25000.00", Currency: "CNY", MerchantID: "m-fanout",
		MerchantCategory: "electronics", Channel: "WEB", IPAddress: "10.9.9.9", IdempotencyKey: fmt.Sprintf("fanout-%d-%d", ui, time.Now().UnixNano())}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.GraphQLURL(), bytes.NewReader(submitBody(in, true)))
	if err != nil {
		return "", time.Time{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+acc.adminToken)
	resp, err := client.Do(req)
	if err != nil {
		return "", time.Time{}, err
	}
	raw, err := io.ReadAll(resp.Body)
	at := time.Now()
	resp.Body.Close()
	if err != nil {
		return "", time.Time{}, err
	}
	var body struct {
		Data struct {
			SubmitTransaction struct {
				Alert *struct{ ID string }
			}
		}
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.Data.SubmitTransaction.Alert == nil {
		return "", time.Time{}, fmt.Errorf("submission raised no alert: %s", raw)
	}
	return body.Data.SubmitTransaction.Alert.ID, at, nil
}

// waitFor polls cond until it holds or d passes.
func waitFor(ctx context.Context, d time.Duration, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return context.DeadlineExceeded
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}
