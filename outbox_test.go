package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/santhosh-tekuri/jsonschema/v6"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/outbox"
	"github.com/smartfinance/riskgraph/internal/pgtest"
)

// fastOutbox makes retries and polling quick enough for tests.
func fastOutbox(cfg *config) {
	cfg.Outbox.PollInterval = 50 * time.Millisecond
	cfg.Outbox.RetryBase = 10 * time.Millisecond
	cfg.Outbox.RetryMax = 40 * time.Millisecond
}

// hook is one request a receiver got.
type hook struct {
	Header http.Header
	Body   []byte
	Env    struct {
		ID            string
		Type          string
		Timestamp     time.Time
		SchemaVersion int
		Aggregate     struct{ Type, ID string }
		Data          map[string]any
	}
}

// receiver is a real HTTP webhook receiver; answer decides each status (200 when nil).
type receiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []hook
	// answer is called under mu with the request and how many came before it.
	answer func(h hook, n int) int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		h := hook{Header: req.Header.Clone(), Body: body}
		if err := json.Unmarshal(body, &h.Env); err != nil {
			t.Errorf("receiver: undecodable body %q: %v", body, err)
		}
		r.mu.Lock()
		status := http.StatusOK
		if r.answer != nil {
			status = r.answer(h, len(r.got))
		}
		r.got = append(r.got, h)
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) hooks() []hook {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// waitFor polls cond until it holds; the deadline bounds a hang, it is not a timing assertion.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const upsertEndpointMutation = `mutation($in: WebhookEndpointInput!) { upsertWebhookEndpoint(input: $in) {
	endpoint { id url eventTypes enabled secret previousSecretUntil } secret } }`

type endpointOut struct {
	ID, URL, Secret     string
	EventTypes          []string
	Enabled             bool
	PreviousSecretUntil *time.Time
}

// addEndpoint registers url for types (all when none) and returns its id and generated secret.
func (e *testEnv) addEndpoint(t *testing.T, adminToken, url string, types ...string) (id, secret string) {
	t.Helper()
	var out struct {
		UpsertWebhookEndpoint struct {
			Endpoint endpointOut
			Secret   *string
		}
	}
	e.must(t, adminToken, upsertEndpointMutation, map[string]any{"in": map[string]any{"url": url, "eventTypes": types}}, &out)
	u := out.UpsertWebhookEndpoint
	if u.Secret == nil || !strings.HasPrefix(*u.Secret, "whsec_") || u.Endpoint.Secret != "***" {
		t.Fatalf("new endpoint: got secret %v, shown %q; want a generated whsec_ secret once and *** on the endpoint", u.Secret, u.Endpoint.Secret)
	}
	return u.Endpoint.ID, *u.Secret
}

// eventSchemas compiles docs/events/<type>.json for every event type.
func eventSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	out := map[string]*jsonschema.Schema{}
	for _, typ := range outbox.EventTypes {
		path, _ := filepath.Abs(filepath.Join("docs", "events", typ+".json"))
		f, err := os.Open(path)
		if err != nil {
			t.Fatalf("schema of %s: %v", typ, err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("schema of %s: %v", typ, err)
		}
		if err := c.AddResource(path, doc); err != nil {
			t.Fatal(err)
		}
		if out[typ], err = c.Compile(path); err != nil {
			t.Fatalf("compile the schema of %s: %v", typ, err)
		}
	}
	return out
}

// checkHook verifies a request's signature with the Standard Webhooks
// reference library and its body against the event type's JSON Schema.
func checkHook(t *testing.T, h hook, secret string, schemas map[string]*jsonschema.Schema) {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(h.Body, h.Header); err != nil {
		t.Errorf("%s %s: signature: %v", h.Env.Type, h.Env.ID, err)
	}
	if got := h.Header.Get("webhook-id"); got != h.Env.ID {
		t.Errorf("webhook-id %q, body id %q: want the same", got, h.Env.ID)
	}
	s := schemas[h.Env.Type]
	if s == nil {
		t.Errorf("unknown event type %q", h.Env.Type)
		return
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(h.Body)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(doc); err != nil {
		t.Errorf("%s does not match docs/events/%s.json: %v\n%s", h.Env.Type, h.Env.Type, err, h.Body)
	}
}

func TestOutboxWebhooksDeliverEveryEventTypeSigned(t *testing.T) {
	db, url := pgtest.New(t)
	e := newEnvOnWith(t, db, url, fastOutbox)
	e.clock.AdvanceToHour(12)
	admin := e.user(t, "admin", domain.RoleAdmin)
	ana := e.user(t, "ana", domain.RoleAnalyst)
	alice := e.user(t, "alice", domain.RoleUser)

	// No sink yet: the triggers write nothing.
	e.submit(t, alice.AccessToken, map[string]any{"amount": "12000", "merchantId": "m-1"})
	if n := e.count(t, "SELECT count(*) FROM outbox_events"); n != 0 {
		t.Fatalf("outbox events without any sink: got %d, want 0", n)
	}

	r := newReceiver(t)
	_, secret := e.addEndpoint(t, admin.AccessToken, r.srv.URL+"/hooks")
	schemas := eventSchemas(t)

	// decision.made, risk_event.opened, alert.raised
	big := e.submit(t, alice.AccessToken, map[string]any{"amount": "12000", "merchantId": "m-1"})
	// risk_event.updated (twice), label.created (the verdict labels the transaction)
	e.must(t, ana.AccessToken, `mutation($id: ID!) { handleRiskEvent(id: $id, input: {action: START}) { status } }`, map[string]any{"id": big.RiskEvent.ID}, nil)
	e.must(t, ana.AccessToken, `mutation($id: ID!) { handleRiskEvent(id: $id, input: {action: MARK_FALSE_POSITIVE}) { status } }`, map[string]any{"id": big.RiskEvent.ID}, nil)
	// rule.changed, then transaction.reviewed on a held payment
	holdRule(t, e)
	h := held(t, e, alice.AccessToken)
	e.must(t, ana.AccessToken, reviewMutation, map[string]any{"id": h.Transaction.ID, "in": map[string]any{"decision": "APPROVE"}}, nil)
	// list.changed: created, then entries added
	var list struct{ UpsertList struct{ ID string } }
	e.must(t, ana.AccessToken, `mutation { upsertList(input: {name: "bad-ips", kind: IP, mode: BLOCK}) { id } }`, nil, &list)
	e.must(t, ana.AccessToken, `mutation($id: ID!) { addListEntries(listId: $id, entries: [{value: "203.0.113.7"}, {value: "203.0.113.8"}]) { id } }`,
		map[string]any{"id": list.UpsertList.ID}, nil)

	want := e.count(t, "SELECT count(*) FROM outbox_events")
	waitFor(t, "every event delivered", func() bool { return len(r.hooks()) >= want })
	got := r.hooks()
	if len(got) != want {
		t.Fatalf("deliveries: got %d, want %d (one per event)", len(got), want)
	}
	seen := map[string]int{}
	lastAt := map[string]string{} // aggregate → last event id, to check order against the outbox
	for _, h := range got {
		checkHook(t, h, secret, schemas)
		seen[h.Env.Type]++
		lastAt[h.Env.Aggregate.Type+":"+h.Env.Aggregate.ID] = h.Env.ID
	}
	for _, typ := range outbox.EventTypes {
		if seen[typ] == 0 {
			t.Errorf("no %s delivered (got %v)", typ, seen)
		}
	}
	// Per aggregate, arrival order is the outbox's order.
	var rows []struct {
		ID            string `bun:"id"`
		AggregateType string `bun:"aggregate_type"`
		AggregateID   string `bun:"aggregate_id"`
	}
	if err := db.NewRaw("SELECT id::text, aggregate_type, aggregate_id::text FROM outbox_events ORDER BY seq").Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	want2 := map[string][]string{}
	for _, row := range rows {
		k := row.AggregateType + ":" + row.AggregateID
		want2[k] = append(want2[k], row.ID)
	}
	got2 := map[string][]string{}
	for _, h := range got {
		k := h.Env.Aggregate.Type + ":" + h.Env.Aggregate.ID
		got2[k] = append(got2[k], h.Env.ID)
	}
	for k, ids := range want2 {
		if !slices.Equal(got2[k], ids) {
			t.Errorf("aggregate %s: arrival order %v, want %v", k, got2[k], ids)
		}
	}
	// A risk event's story starts with its opening, even though the event and
	// its alert are inserted by one statement.
	firstOf := map[string]string{}
	for _, h := range got {
		k := h.Env.Aggregate.Type + ":" + h.Env.Aggregate.ID
		if _, ok := firstOf[k]; !ok {
			firstOf[k] = h.Env.Type
		}
	}
	for k, typ := range firstOf {
		if strings.HasPrefix(k, "risk_event:") && typ != "risk_event.opened" {
			t.Errorf("aggregate %s starts with %s, want risk_event.opened", k, typ)
		}
	}

	// The decision's payload carries the transaction and its matched rules.
	for _, h := range got {
		if h.Env.Type == "decision.made" && h.Env.Data["transactionId"] == big.Transaction.ID {
			d := h.Env.Data
			rules, _ := d["matchedRules"].([]any)
			if d["amount"] != "12000.00" || d["userId"] != alice.User.ID || d["riskLevel"] != big.Detection.RiskLevel || len(rules) == 0 {
				t.Errorf("decision.made payload: got %v", d)
			}
		}
	}
}

const deliveriesQuery = `query($f: WebhookDeliveryFilter, $first: Int, $after: String) { webhookDeliveries(filter: $f, first: $first, after: $after) {
	totalCount pageInfo { hasNextPage endCursor }
	edges { node { id sink endpointId eventId eventType aggregateType aggregateId status attempts responseStatus lastError deliveredAt replayOf payload } } } }`

type deliveryOut struct {
	ID, Sink, EventID, EventType, AggregateType, AggregateID, Status string
	EndpointID, LastError, ReplayOf                                  *string
	Attempts                                                         int
	ResponseStatus                                                   *int
	DeliveredAt                                                      *time.Time
	Payload                                                          map[string]any
}

func (e *testEnv) deliveries(t *testing.T, token string, filter map[string]any) []deliveryOut {
	t.Helper()
	// totalCount and the rows are two statements: a delivery the dispatcher
	// settles between them is counted by one and not the other, so a
	// mismatch is read again (the filter's rows stop moving once settled).
	for attempt := 0; ; attempt++ {
		var out struct {
			WebhookDeliveries struct {
				TotalCount int
				Edges      []struct{ Node deliveryOut }
			}
		}
		e.must(t, token, deliveriesQuery, map[string]any{"f": filter, "first": 100}, &out)
		var ds []deliveryOut
		for _, ed := range out.WebhookDeliveries.Edges {
			ds = append(ds, ed.Node)
		}
		if out.WebhookDeliveries.TotalCount == len(ds) {
			return ds
		}
		if attempt == 20 {
			t.Fatalf("totalCount %d, rows %d", out.WebhookDeliveries.TotalCount, len(ds))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOutboxRetriesInOrderPerAggregate(t *testing.T) {
	db, url := pgtest.New(t)
	e := newEnvOnWith(t, db, url, fastOutbox)
	e.clock.AdvanceToHour(12)
	admin := e.user(t, "admin", domain.RoleAdmin)
	ana := e.user(t, "ana", domain.RoleAnalyst)
	alice := e.user(t, "alice", domain.RoleUser)

	// The receiver refuses the first three attempts at the risk event's opening.
	r := newReceiver(t)
	refused := 0
	r.answer = func(h hook, _ int) int {
		if h.Env.Type == "risk_event.opened" && refused < 3 {
			refused++
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}
	endpointID, secret := e.addEndpoint(t, admin.AccessToken, r.srv.URL, "risk_event.opened", "alert.raised", "risk_event.updated")
	big := e.submit(t, alice.AccessToken, map[string]any{"amount": "12000", "merchantId": "m-1"})
	e.must(t, ana.AccessToken, `mutation($id: ID!) { handleRiskEvent(id: $id, input: {action: START}) { status } }`, map[string]any{"id": big.RiskEvent.ID}, nil)

	// opened ×4 (three refused), then the alert and the update, once each, after it.
	waitFor(t, "the risk event's three events", func() bool { return len(r.hooks()) >= 6 })
	got := r.hooks()
	var types []string
	for _, h := range got {
		checkHook(t, h, secret, eventSchemas(t))
		types = append(types, h.Env.Type)
	}
	want := []string{"risk_event.opened", "risk_event.opened", "risk_event.opened", "risk_event.opened", "alert.raised", "risk_event.updated"}
	if !slices.Equal(types, want) {
		t.Fatalf("arrivals: got %v, want %v", types, want)
	}
	for _, h := range got[1:4] {
		if h.Env.ID != got[0].Env.ID || h.Header.Get("webhook-id") != got[0].Header.Get("webhook-id") || string(h.Body) != string(got[0].Body) {
			t.Fatalf("a retry must resend the same message (id and body)")
		}
	}
	ds := e.deliveries(t, admin.AccessToken, map[string]any{"endpointId": endpointID, "eventType": "risk_event.opened"})
	if len(ds) != 1 || ds[0].Status != "DELIVERED" || ds[0].Attempts != 4 || ds[0].ResponseStatus == nil || *ds[0].ResponseStatus != 200 ||
		ds[0].Sink != "WEBHOOK" || ds[0].EventID != got[0].Env.ID || ds[0].AggregateID != big.RiskEvent.ID {
		t.Fatalf("delivery log: got %+v, want one DELIVERED after 4 attempts", ds)
	}
	// Filtered by the endpoint's types: no decision.made was sent.
	if n := e.count(t, "SELECT count(*) FROM outbox_deliveries WHERE event_type = 'decision.made'"); n != 0 {
		t.Fatalf("decision.made deliveries to an endpoint that filters it out: %d", n)
	}
}

func TestOutboxDeadLetterAndReplay(t *testing.T) {
	db, url := pgtest.New(t)
	e := newEnvOnWith(t, db, url, func(cfg *config) {
		fastOutbox(cfg)
		cfg.Outbox.MaxAttempts = 3
	})
	admin := e.user(t, "admin", domain.RoleAdmin)
	alice := e.user(t, "alice", domain.RoleUser)

	r := newReceiver(t)
	var down sync.Mutex
	failing := true
	r.answer = func(hook, int) int {
		down.Lock()
		defer down.Unlock()
		if failing {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	}
	endpointID, _ := e.addEndpoint(t, admin.AccessToken, r.srv.URL, "decision.made")
	from := time.Now().Add(-time.Minute)
	for range 2 {
		e.submit(t, alice.AccessToken, map[string]any{"amount": "20", "merchantId": "m-1"})
	}
	to := time.Now().Add(time.Minute)
	waitFor(t, "both deliveries dead-lettered", func() bool {
		return e.count(t, "SELECT count(*) FROM outbox_deliveries WHERE status = 'DEAD'") == 2
	})
	dead := e.deliveries(t, admin.AccessToken, map[string]any{"status": "DEAD", "endpointId": endpointID})
	if len(dead) != 2 || dead[0].Attempts != 3 || dead[0].LastError == nil || !strings.Contains(*dead[0].LastError, "HTTP 500") {
		t.Fatalf("dead letters: got %+v, want 2 after 3 attempts with the last error", dead)
	}
	if n := len(r.hooks()); n != 6 {
		t.Fatalf("attempts received: got %d, want 3 per delivery", n)
	}
	if ds := e.deliveries(t, admin.AccessToken, map[string]any{"status": "DELIVERED"}); len(ds) != 0 {
		t.Fatalf("DELIVERED filter: got %d rows, want 0", len(ds))
	}

	down.Lock()
	failing = false
	down.Unlock()
	// Replay one: a new delivery with the same event id; an open one can't be replayed.
	var one struct{ ReplayWebhookDelivery deliveryOut }
	e.must(t, admin.AccessToken, `mutation($id: ID!) { replayWebhookDelivery(id: $id) { id status replayOf eventId } }`, map[string]any{"id": dead[0].ID}, &one)
	if rp := one.ReplayWebhookDelivery; rp.ReplayOf == nil || *rp.ReplayOf != dead[0].ID || rp.EventID != dead[0].EventID {
		t.Fatalf("replay: got %+v", rp)
	}
	waitFor(t, "the replay delivered", func() bool {
		return e.count(t, "SELECT count(*) FROM outbox_deliveries WHERE status = 'DELIVERED'") == 1
	})
	last := r.hooks()[len(r.hooks())-1]
	if last.Header.Get("webhook-id") != dead[0].EventID {
		t.Fatalf("replayed webhook-id %q, want the event's id %q", last.Header.Get("webhook-id"), dead[0].EventID)
	}
	e.mustFail(t, admin.AccessToken, `mutation($id: ID!) { replayWebhookDelivery(id: $id) { id } }`, map[string]any{"id": "999999"}, "NOT_FOUND")

	// Replay a time range: both first deliveries (finished), not the replay itself.
	var rng struct{ ReplayWebhookDeliveries int }
	e.must(t, admin.AccessToken, `mutation($e: ID!, $from: Time!, $to: Time!) { replayWebhookDeliveries(endpointId: $e, from: $from, to: $to) }`,
		map[string]any{"e": endpointID, "from": from, "to": to}, &rng)
	if rng.ReplayWebhookDeliveries != 2 {
		t.Fatalf("range replay: got %d, want 2", rng.ReplayWebhookDeliveries)
	}
	waitFor(t, "the range replay delivered", func() bool {
		return e.count(t, "SELECT count(*) FROM outbox_deliveries WHERE status = 'DELIVERED'") == 3
	})
	e.mustFail(t, admin.AccessToken, `mutation($e: ID!, $from: Time!, $to: Time!) { replayWebhookDeliveries(endpointId: $e, from: $from, to: $to) }`,
		map[string]any{"e": endpointID, "from": to, "to": from}, "BAD_USER_INPUT")
}

func TestOutboxTwoInstancesNeverDeliverOneRowAtOnce(t *testing.T) {
	db, url := pgtest.New(t)
	a := newEnvOnWith(t, db, url, fastOutbox)
	b := newEnvOnWith(t, db, url, fastOutbox)
	a.clock.AdvanceToHour(12)
	b.clock.AdvanceToHour(12)
	admin := a.user(t, "admin", domain.RoleAdmin)

	// The receiver is slow, so attempts would overlap if two dispatchers took one row.
	r := newReceiver(t)
	var mu sync.Mutex
	inFlight, overlaps := map[string]bool{}, 0
	r.srv.Config.Handler = func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			id := req.Header.Get("webhook-id")
			mu.Lock()
			if inFlight[id] {
				overlaps++
			}
			inFlight[id] = true
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			next.ServeHTTP(w, req)
			mu.Lock()
			delete(inFlight, id)
			mu.Unlock()
		})
	}(r.srv.Config.Handler)
	a.addEndpoint(t, admin.AccessToken, r.srv.URL, "decision.made")

	const users, each = 8, 5
	var wg sync.WaitGroup
	for i := range users {
		env := a
		if i%2 == 1 {
			env = b
		}
		u := env.user(t, fmt.Sprintf("user-%d", i), domain.RoleUser)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				env.submit(t, u.AccessToken, map[string]any{"amount": "15", "merchantId": "m-1"})
			}
		}()
	}
	wg.Wait()
	waitFor(t, "every decision delivered", func() bool { return len(r.hooks()) >= users*each })
	counts := map[string]int{}
	for _, h := range r.hooks() {
		counts[h.Header.Get("webhook-id")]++
	}
	mu.Lock()
	defer mu.Unlock()
	if len(counts) != users*each || overlaps != 0 {
		t.Fatalf("got %d distinct events (want %d) and %d overlapping attempts (want 0)", len(counts), users*each, overlaps)
	}
	for id, n := range counts {
		if n != 1 {
			t.Fatalf("event %s delivered %d times, want once", id, n)
		}
	}
	// The receiver answers before the dispatcher commits: wait for the records.
	waitFor(t, "every delivery recorded", func() bool {
		return a.count(t, "SELECT count(*) FROM outbox_deliveries WHERE status = 'DELIVERED' AND attempts = 1") == users*each
	})
}

func TestOutboxEndpointSecretsAreWriteOnly(t *testing.T) {
	db, url := pgtest.New(t)
	e := newEnvOnWith(t, db, url, func(cfg *config) {
		fastOutbox(cfg)
		cfg.Outbox.SecretOverlap = time.Hour
	})
	admin := e.user(t, "admin", domain.RoleAdmin)
	ana := e.user(t, "ana", domain.RoleAnalyst)
	alice := e.user(t, "alice", domain.RoleUser)

	// Admins only; bad input is BAD_USER_INPUT.
	e.mustFail(t, ana.AccessToken, upsertEndpointMutation, map[string]any{"in": map[string]any{"url": "https://example.com/h"}}, "FORBIDDEN")
	e.mustFail(t, ana.AccessToken, `{ webhookEndpoints { id } }`, nil, "FORBIDDEN")
	for _, in := range []map[string]any{
		{"url": "ftp://example.com/h"}, {"url": "/relative"}, {"url": "https://"}, {"url": " https://example.com"},
		{"url": "https://example.com/h", "eventTypes": []string{"decision.made", "nope"}},
		{"url": "https://example.com/h", "secret": "whsec_short"}, {"url": "https://example.com/h", "secret": "not-a-secret"},
	} {
		e.mustFail(t, admin.AccessToken, upsertEndpointMutation, map[string]any{"in": in}, "BAD_USER_INPUT")
	}
	e.mustFail(t, admin.AccessToken, upsertEndpointMutation, map[string]any{"in": map[string]any{"id": "999999", "url": "https://example.com/h"}}, "NOT_FOUND")

	r := newReceiver(t)
	id, first := e.addEndpoint(t, admin.AccessToken, r.srv.URL, "decision.made")
	var list struct{ WebhookEndpoints []endpointOut }
	e.must(t, admin.AccessToken, `{ webhookEndpoints { id url secret eventTypes enabled } }`, nil, &list)
	if len(list.WebhookEndpoints) != 1 || list.WebhookEndpoints[0].Secret != "***" || list.WebhookEndpoints[0].URL != r.srv.URL {
		t.Fatalf("endpoints: got %+v, want the secret masked", list.WebhookEndpoints)
	}
	// Never in the audit log.
	if n := e.count(t, "SELECT count(*) FROM audit_logs WHERE action LIKE 'webhook.%' AND details::text LIKE ?", "%"+first[6:16]+"%"); n != 0 {
		t.Fatalf("the secret is in the audit log")
	}

	// Rotation to a secret of the admin's own: not returned, and both sign during the overlap.
	second := "whsec_" + strings.Repeat("QUJD", 8) // 24 bytes
	var up struct {
		UpsertWebhookEndpoint struct {
			Endpoint endpointOut
			Secret   *string
		}
	}
	e.must(t, admin.AccessToken, upsertEndpointMutation, map[string]any{"in": map[string]any{"id": id, "url": r.srv.URL, "eventTypes": []string{"decision.made"}, "secret": second}}, &up)
	if u := up.UpsertWebhookEndpoint; u.Secret != nil || u.Endpoint.Secret != "***" || u.Endpoint.PreviousSecretUntil == nil {
		t.Fatalf("rotation: got %+v, want nothing returned and an overlap", u)
	}
	e.submit(t, alice.AccessToken, map[string]any{"amount": "20"})
	waitFor(t, "a delivery during the overlap", func() bool { return len(r.hooks()) == 1 })
	h := r.hooks()[0]
	if sigs := strings.Fields(h.Header.Get("webhook-signature")); len(sigs) != 2 {
		t.Fatalf("signatures during the overlap: got %d, want 2", len(sigs))
	}
	checkHook(t, h, first, eventSchemas(t))
	checkHook(t, h, second, eventSchemas(t))

	// After the overlap only the new secret signs; "***" keeps it.
	e.clock.Advance(2 * time.Hour)
	admin, alice = e.login(t, "admin", "correct horse battery"), e.login(t, "alice", "correct horse battery")
	e.must(t, admin.AccessToken, upsertEndpointMutation, map[string]any{"in": map[string]any{"id": id, "url": r.srv.URL, "eventTypes": []string{"decision.made"}, "secret": "***"}}, nil)
	e.submit(t, alice.AccessToken, map[string]any{"amount": "21"})
	waitFor(t, "a delivery after the overlap", func() bool { return len(r.hooks()) == 2 })
	h = r.hooks()[1]
	wh, _ := standardwebhooks.NewWebhook(first)
	if sigs := strings.Fields(h.Header.Get("webhook-signature")); len(sigs) != 1 || wh.Verify(h.Body, h.Header) == nil {
		t.Fatalf("after the overlap: got %d signatures, or the old secret still verifies", len(sigs))
	}
	checkHook(t, h, second, eventSchemas(t))

	// Disabling the only endpoint makes the triggers write nothing again.
	before := e.count(t, "SELECT count(*) FROM outbox_events")
	e.must(t, admin.AccessToken, upsertEndpointMutation, map[string]any{"in": map[string]any{"id": id, "url": r.srv.URL, "enabled": false}}, nil)
	e.submit(t, alice.AccessToken, map[string]any{"amount": "22"})
	if n := e.count(t, "SELECT count(*) FROM outbox_events"); n != before {
		t.Fatalf("events with every endpoint disabled: got %d new, want 0", n-before)
	}
	var del struct{ DeleteWebhookEndpoint bool }
	e.must(t, admin.AccessToken, `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, map[string]any{"id": id}, &del)
	e.mustFail(t, admin.AccessToken, `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, map[string]any{"id": id}, "NOT_FOUND")
}

func TestOutboxDecisionsReviewRejectOnly(t *testing.T) {
	db, url := pgtest.New(t)
	e := newEnvOnWith(t, db, url, func(cfg *config) {
		fastOutbox(cfg)
		cfg.Outbox.Decisions = outbox.DecisionsReviewReject
	})
	e.clock.AdvanceToHour(12)
	admin := e.user(t, "admin", domain.RoleAdmin)
	alice := e.user(t, "alice", domain.RoleUser)
	r := newReceiver(t)
	e.addEndpoint(t, admin.AccessToken, r.srv.URL, "decision.made")
	holdRule(t, e)
	e.submit(t, alice.AccessToken, map[string]any{"amount": "20"})
	h := held(t, e, alice.AccessToken)
	waitFor(t, "the REVIEW decision", func() bool { return len(r.hooks()) >= 1 })
	var decisions []string
	for _, d := range e.deliveries(t, admin.AccessToken, nil) {
		decisions = append(decisions, d.Payload["decision"].(string)+":"+d.Payload["transactionId"].(string))
	}
	if !slices.Equal(decisions, []string{"REVIEW:" + h.Transaction.ID}) {
		t.Fatalf("decision.made events: got %v, want only the REVIEW one", decisions)
	}
}

func TestOutboxPublishesToJetStreamOnce(t *testing.T) {
	unique := strconv.FormatInt(time.Now().UnixNano(), 36)
	natsCfg := func(cfg *config) {
		fastOutbox(cfg)
		cfg.Outbox.NATS.URL = "nats://127.0.0.1:4222"
		cfg.Outbox.NATS.Stream = "RGTEST_EVENTS_" + strings.ToUpper(unique)
		cfg.Outbox.NATS.Prefix = "rgtest" + unique
	}
	var probe config
	natsCfg(&probe)
	nc, err := nats.Connect(probe.Outbox.NATS.URL)
	if err != nil {
		t.Fatalf("NATS at %s: %v (start it as the machine notes say)", probe.Outbox.NATS.URL, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := js.DeleteStream(context.Background(), probe.Outbox.NATS.Stream); err != nil {
			t.Errorf("delete the test stream: %v", err)
		}
		nc.Close()
	})

	db, url := pgtest.New(t)
	e := newEnvOnWith(t, db, url, natsCfg)
	e.clock.AdvanceToHour(12)
	admin := e.user(t, "admin", domain.RoleAdmin)
	alice := e.user(t, "alice", domain.RoleUser)
	e.submit(t, alice.AccessToken, map[string]any{"amount": "12000", "merchantId": "m-1"}) // decision, event, alert
	e.submit(t, alice.AccessToken, map[string]any{"amount": "20", "merchantId": "m-1"})

	want := e.count(t, "SELECT count(*) FROM outbox_events")
	if want < 4 {
		t.Fatalf("outbox events with only the NATS sink: got %d, want at least 4", want)
	}
	waitFor(t, "every event published", func() bool {
		return e.count(t, "SELECT count(*) FROM outbox_deliveries WHERE endpoint_id IS NULL AND status = 'DELIVERED'") == want
	})
	// A replay publishes the same Nats-Msg-Id again: JetStream drops it.
	ds := e.deliveries(t, admin.AccessToken, map[string]any{"sink": "NATS"})
	e.must(t, admin.AccessToken, `mutation($id: ID!) { replayWebhookDelivery(id: $id) { id } }`, map[string]any{"id": ds[0].ID}, nil)
	waitFor(t, "the replay published", func() bool {
		return e.count(t, "SELECT count(*) FROM outbox_deliveries WHERE endpoint_id IS NULL AND status = 'DELIVERED'") == want+1
	})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := js.Stream(ctx, probe.Outbox.NATS.Stream)
	if err != nil {
		t.Fatal(err)
	}
	if subj := stream.CachedInfo().Config.Subjects; !slices.Contains(subj, probe.Outbox.NATS.Prefix+".decision.made") || len(subj) != len(outbox.EventTypes) {
		t.Fatalf("stream subjects: got %v, want one per event type", subj)
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(want+5, jetstream.FetchMaxWait(2*time.Second)) // fewer are there: it waits the 2 s out
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	schemas := eventSchemas(t)
	for msg := range batch.Messages() {
		var h hook
		h.Body = msg.Data()
		if err := json.Unmarshal(h.Body, &h.Env); err != nil {
			t.Fatal(err)
		}
		id := msg.Headers().Get(jetstream.MsgIDHeader)
		if id != h.Env.ID || seen[id] || msg.Subject() != probe.Outbox.NATS.Prefix+"."+h.Env.Type {
			t.Fatalf("message %s on %s: Nats-Msg-Id %q, seen before %v", h.Env.ID, msg.Subject(), id, seen[id])
		}
		seen[id] = true
		doc, _ := jsonschema.UnmarshalJSON(strings.NewReader(string(h.Body)))
		if err := schemas[h.Env.Type].Validate(doc); err != nil {
			t.Errorf("%s: %v", h.Env.Type, err)
		}
	}
	if len(seen) != want {
		t.Fatalf("messages in the stream: got %d, want %d (each event once)", len(seen), want)
	}
}

// gqlAt posts one GraphQL request to a server at base (another process).
func gqlAt(t *testing.T, base, token, query string, vars map[string]any, out any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s/graphql: %v", base, err)
	}
	defer resp.Body.Close()
	var res gqlResponse
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || len(res.Errors) > 0 {
		t.Fatalf("%s: errors %+v (%v)", query, res.Errors, err)
	}
	if out != nil {
		if err := json.Unmarshal(res.Data, out); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOutboxSurvivesSIGKILLMidDelivery(t *testing.T) {
	db, url := pgtest.New(t)

	// The receiver holds the first request open (the dispatcher is mid-delivery
	// when it dies) and de-duplicates by webhook-id, as a receiver should.
	firstArrived := make(chan string, 1)
	var mu sync.Mutex
	accepted := map[string]int{} // webhook-id → requests answered 200 (a receiver processes the first only)
	requests := map[string]int{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		id := req.Header.Get("webhook-id")
		io.Copy(io.Discard, req.Body) //nolint:errcheck
		mu.Lock()
		requests[id]++
		first := len(requests) == 1 && requests[id] == 1
		mu.Unlock()
		if first {
			firstArrived <- id
			<-req.Context().Done() // until the sender's connection dies with it
			return
		}
		mu.Lock()
		accepted[id]++
		mu.Unlock()
	}))
	defer recv.Close()

	// The server as its own process: this test binary acting as riskgraph.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	var logs lockedBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.Env = append(os.Environ(), asCommandEnv+"=1", "DATABASE_URL="+url, "ADDR="+addr, "JWT_SECRET="+string(testJWTSecret),
		"ADMIN_USERNAME=admin", "ADMIN_PASSWORD=a long admin passphrase", "OUTBOX_POLL_INTERVAL=50ms", "LOG_LEVEL=warn")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill() //nolint:errcheck
			cmd.Wait()         //nolint:errcheck
		}
	}()
	base := "http://" + addr
	waitFor(t, "the server process ready", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	var login struct{ Login session }
	gqlAt(t, base, "", loginMutation, map[string]any{"in": map[string]any{"username": "admin", "password": "a long admin passphrase"}}, &login)
	admin := login.Login.AccessToken
	gqlAt(t, base, admin, upsertEndpointMutation, map[string]any{"in": map[string]any{"url": recv.URL, "eventTypes": []string{"decision.made"}}}, nil)
	gqlAt(t, base, admin, `mutation { createUser(input: {username: "alice", password: "a long alice passphrase", email: "a@example.com", role: USER}) { id } }`, nil, nil)
	gqlAt(t, base, "", loginMutation, map[string]any{"in": map[string]any{"username": "alice", "password": "a long alice passphrase"}}, &login)
	for i := range 5 {
		gqlAt(t, base, login.Login.AccessToken, submitMutation, map[string]any{"in": map[string]any{"amount": fmt.Sprint(20 + i), "merchantId": "m-1"}}, nil)
	}

	var inFlight string
	select {
	case inFlight = <-firstArrived:
	case <-time.After(30 * time.Second):
		t.Fatalf("no delivery reached the receiver; server log:\n%s", logs.String())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait() //nolint:errcheck
	killed = true

	// Another instance takes over: nothing is lost, the interrupted one comes again.
	e := newEnvOnWith(t, db, url, fastOutbox)
	waitFor(t, "every delivery finished", func() bool {
		return e.count(t, "SELECT count(*) FROM outbox_deliveries WHERE status <> 'DELIVERED'") == 0
	})
	var ids []string
	if err := db.NewRaw("SELECT id::text FROM outbox_events ORDER BY seq").Scan(context.Background(), &ids); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ids) != 5 || len(accepted) != 5 {
		t.Fatalf("events %d, accepted by the receiver %d: want 5 and 5", len(ids), len(accepted))
	}
	// At least once: another request answered before the kill may come again
	// (its outcome was not committed); de-duplicated by webhook-id, each counts once.
	for _, id := range ids {
		if accepted[id] == 0 {
			t.Errorf("event %s never accepted", id)
		}
	}
	if requests[inFlight] != 2 {
		t.Fatalf("the delivery interrupted by SIGKILL: %d requests, want 2 (the receiver de-duplicates by webhook-id)", requests[inFlight])
	}
}
