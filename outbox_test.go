package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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
