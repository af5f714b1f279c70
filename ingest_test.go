package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/ingest"
	"github.com/smartfinance/riskgraph/internal/pgtest"
)

// testNATSURL is the machine's NATS server with JetStream (.ci/run starts one when it is down).
const testNATSURL = "nats://127.0.0.1:4222"

// ingestConfig gives a test its own stream and subjects, so tests running at
// once on one NATS server never share messages; the stream is deleted after.
func ingestConfig(t testing.TB, js jetstream.JetStream) ingest.Config {
	t.Helper()
	id := strings.ToLower(rand.Text()[:12])
	cfg := ingest.Config{Stream: "RGTEST_INGEST_" + strings.ToUpper(id), Subject: "rgtest." + id + ".transactions",
		DeadSubject: "rgtest." + id + ".dead", User: "gateway", Concurrency: 16, RetryDelay: 200 * time.Millisecond}
	t.Cleanup(func() {
		if err := js.DeleteStream(context.Background(), cfg.Stream); err != nil {
			t.Errorf("delete stream %s: %v", cfg.Stream, err)
		}
	})
	return cfg
}

func connectJetStream(t testing.TB) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(testNATSURL)
	if err != nil {
		t.Fatalf("connect to NATS at %s: %v", testNATSURL, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func withIngest(ic ingest.Config) func(*config) {
	return func(c *config) { c.NATSURL, c.Ingest = testNATSURL, ic }
}

func waitReady(t testing.TB, e *testEnv) {
	t.Helper()
	select {
	case <-e.app.ingest.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("the ingest consumer did not set up its stream within 30s")
	}
}

// publish sends one message with an id and returns whether JetStream stored it (false: a duplicate it dropped).
func publish(t *testing.T, js jetstream.JetStream, subject, id string, body []byte) bool {
	t.Helper()
	msg := nats.NewMsg(subject)
	msg.Data = body
	if id != "" {
		msg.Header.Set(jetstream.MsgIDHeader, id)
	}
	ack, err := js.PublishMsg(context.Background(), msg)
	if err != nil {
		t.Fatalf("publish %s: %v", id, err)
	}
	return !ack.Duplicate
}

// drained waits until the durable consumer has settled every message in the stream.
func drained(t testing.TB, js jetstream.JetStream, ic ingest.Config, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		cons, err := js.Consumer(context.Background(), ic.Stream, ingest.Durable)
		if err == nil {
			info, err := cons.Info(context.Background())
			if err == nil && info.NumPending == 0 && info.NumAckPending == 0 && info.NumRedelivered == 0 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the consumer had not settled every message after %s", within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestIngestExactlyOnceAcrossInstances: two instances share the durable
// consumer; 10,000 messages become 10,000 transactions, each committed once,
// although some are published twice within JetStream's duplicate window
// (dropped by JetStream), the consumer is lost mid-way (the stream is
// redelivered from its start) and some are republished after the window
// (answered from the idempotency key).
func TestIngestExactlyOnceAcrossInstances(t *testing.T) {
	js := connectJetStream(t)
	ic := ingestConfig(t, js)
	// A short duplicate window, so republishing after it reaches the consumer
	// and the database's idempotency key has to catch it.
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: ic.Stream,
		Subjects: []string{ic.Subject, ic.DeadSubject}, Duplicates: time.Second}); err != nil {
		t.Fatal(err)
	}
	db, dbURL := pgtest.New(t)
	a := newEnvOnWith(t, db, dbURL, withIngest(ic))
	b := newEnvOnWith(t, db, dbURL, withIngest(ic))
	a.user(t, "gateway", domain.RoleService)
	const customers, messages = 50, 10_000
	ids := make([]int64, customers)
	for i := range ids {
		u := newTestUser(fmt.Sprintf("customer%d", i))
		if _, err := a.app.accounts.EnsureUser(context.Background(), u, false); err != nil {
			t.Fatal(err)
		}
		ids[i] = int64(a.count(t, "SELECT id FROM users WHERE username = ?", u.Username))
	}
	waitReady(t, a)
	waitReady(t, b)

	body := func(i int) []byte {
		b, _ := json.Marshal(map[string]any{"userId": fmt.Sprint(ids[i%customers]), "amount": fmt.Sprintf("%d.%02d", 1+i%500, i%100),
			"merchantId": fmt.Sprintf("m-%d", i%37), "deviceId": fmt.Sprintf("fp-%d", i%customers), "channel": "APP"})
		return b
	}
	acked := func() uint64 { return a.app.ingest.Stats().Acked + b.app.ingest.Stats().Acked }
	started := time.Now()
	type sent struct {
		id        string
		duplicate bool // expected: a second publish within the window
		ack       jetstream.PubAckFuture
	}
	var all []sent
	send := func(i int, duplicate bool) {
		msg := nats.NewMsg(ic.Subject)
		msg.Data = body(i)
		msg.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("tx-%d", i))
		f, err := js.PublishMsgAsync(msg)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, sent{msg.Header.Get(jetstream.MsgIDHeader), duplicate, f})
	}
	for i := range messages {
		send(i, false)
		if i%50 == 0 {
			send(i, true)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		t.Fatal("publishing did not complete within a minute")
	}
	for _, m := range all {
		select {
		case ack := <-m.ack.Ok():
			if ack.Duplicate != m.duplicate {
				t.Fatalf("%s: JetStream's duplicate flag %v; want %v", m.id, ack.Duplicate, m.duplicate)
			}
		case err := <-m.ack.Err():
			t.Fatalf("%s: %v", m.id, err)
		}
	}
	t.Logf("published %d messages in %s", messages, time.Since(started).Round(time.Millisecond))

	// Redelivery: the consumer is lost mid-way; the instances make it anew
	// and the stream comes again from its start, so the first thousands of
	// messages are delivered twice. Nothing commits twice.
	const before = 2000
	deadline := time.Now().Add(5 * time.Minute)
	for acked() < before {
		if time.Now().After(deadline) {
			t.Fatalf("acknowledged %d of the first %d after 5m", acked(), before)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := js.DeleteConsumer(context.Background(), ic.Stream, ingest.Durable); err != nil {
		t.Fatal(err)
	}
	drained(t, js, ic, 5*time.Minute)
	t.Logf("ingested in %s (%.0f messages/s, redeliveries included)", time.Since(started).Round(time.Millisecond),
		float64(acked())/time.Since(started).Seconds())

	// Republished after the duplicate window: JetStream stores them again,
	// and the idempotency key answers them.
	time.Sleep(time.Second)
	for i := 0; i < messages; i += 100 {
		if !publish(t, js, ic.Subject, fmt.Sprintf("tx-%d", i), body(i)) {
			t.Fatalf("tx-%d republished after the duplicate window was dropped by JetStream; the test needs it delivered", i)
		}
	}
	drained(t, js, ic, time.Minute)

	if n := a.count(t, "SELECT count(*) FROM transactions"); n != messages {
		t.Fatalf("transactions: got %d, want %d", n, messages)
	}
	if n := a.count(t, "SELECT count(DISTINCT key) FROM idempotency_keys WHERE key LIKE 'tx-%'"); n != messages {
		t.Fatalf("idempotency keys: got %d, want %d", n, messages)
	}
	if n := a.count(t, "SELECT count(*) FROM detections"); n != messages {
		t.Fatalf("detections: got %d, want %d", n, messages)
	}
	sa, sb := a.app.ingest.Stats(), b.app.ingest.Stats()
	if sa.Acked == 0 || sb.Acked == 0 {
		t.Fatalf("acknowledged per instance: %d and %d; want both instances to share the stream", sa.Acked, sb.Acked)
	}
	if got, least := acked(), uint64(messages+before+messages/100); got < least {
		t.Fatalf("acknowledged: got %d, want at least %d (every message, the redelivered ones, the republished ones)", got, least)
	}
	if sa.DeadLettered+sb.DeadLettered != 0 {
		t.Fatalf("dead letters: %+v, %+v", sa, sb)
	}
	t.Logf("instances acknowledged %d and %d", a.app.ingest.Stats().Acked, b.app.ingest.Stats().Acked)
}

// TestIngestDeadLetters: what can never succeed goes to the dead-letter
// subject with its error code and message, the original payload and
// headers; the stream moves on, and the valid message commits. The ingest
// user is created only after the messages are published: until then they wait.
func TestIngestDeadLetters(t *testing.T) {
	js := connectJetStream(t)
	ic := ingestConfig(t, js)
	db, dbURL := pgtest.New(t)
	e := newEnvOnWith(t, db, dbURL, withIngest(ic))
	alice := e.user(t, "alice", domain.RoleUser)
	bob := e.user(t, "bob", domain.RoleUser)
	admin := e.user(t, "root", domain.RoleAdmin)
	e.must(t, admin.AccessToken, `mutation($id: ID!) { updateUserStatus(id: $id, status: FROZEN) { id } }`, map[string]any{"id": bob.User.ID}, nil)
	var src struct{ CreateDataSource struct{ ID string } }
	e.must(t, admin.AccessToken, `mutation { createDataSource(input: {name: "card-feed", kind: API}) { id } }`, nil, &src)
	e.must(t, admin.AccessToken, `mutation($id: ID!) { updateDataSource(id: $id, input: {status: PAUSED}) { status } }`,
		map[string]any{"id": src.CreateDataSource.ID}, nil)
	waitReady(t, e)
	dead, err := js.Conn().SubscribeSync(ic.DeadSubject)
	if err != nil {
		t.Fatal(err)
	}

	a, b := alice.User.ID, bob.User.ID
	cases := []struct {
		id, body, code, message string
	}{
		{"bad-json", `{"userId": "` + a + `", "amount": `, "BAD_USER_INPUT", "not a SubmitTransactionInput JSON object"},
		{"unknown-field", `{"userId": "` + a + `", "amount": 1, "colour": "red"}`, "BAD_USER_INPUT", `unknown field "colour"`},
		{"wrong-type", `{"userId": "` + a + `", "amount": 1, "merchantId": 5}`, "BAD_USER_INPUT", "merchantId: has the wrong type"},
		{"bad-amount", `{"userId": "` + a + `", "amount": "-5"}`, "BAD_USER_INPUT", "amount: must be greater than 0"},
		{"no-amount", `{"userId": "` + a + `"}`, "BAD_USER_INPUT", "amount: is required"},
		{"unknown-user", `{"userId": "999999", "amount": "5"}`, "NOT_FOUND", "not found"},
		{"frozen-user", `{"userId": "` + b + `", "amount": "5"}`, "FORBIDDEN", "user account is frozen"},
		{"paused-source", `{"userId": "` + a + `", "amount": "5", "sourceId": "` + src.CreateDataSource.ID + `"}`, "BAD_USER_INPUT", "sourceId: this data source is paused"},
	}
	for _, c := range cases {
		msg := nats.NewMsg(ic.Subject)
		msg.Data = []byte(c.body)
		msg.Header.Set(jetstream.MsgIDHeader, c.id)
		msg.Header.Set("X-Batch", "nightly-7")
		if _, err := js.PublishMsg(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
	}
	good := `{"userId": "` + a + `", "amount": "25.50", "location": {"latitude": 31.23, "longitude": 121.47, "country": "CN"}, "occurredAt": "` +
		e.clock.Now().UTC().Add(-time.Minute).Format(time.RFC3339) + `"}`
	publish(t, js, ic.Subject, "good-1", []byte(good))
	e.user(t, "gateway", domain.RoleService)

	got := map[string]*nats.Msg{}
	for range cases {
		m, err := dead.NextMsg(30 * time.Second)
		if err != nil {
			t.Fatalf("dead letters: got %d of %d: %v", len(got), len(cases), err)
		}
		got[m.Header.Get(ingest.HeaderOriginMsgID)] = m
	}
	for _, c := range cases {
		m := got[c.id]
		switch {
		case m == nil:
			t.Errorf("%s: no dead letter", c.id)
		case m.Header.Get(ingest.HeaderErrorCode) != c.code || !strings.Contains(m.Header.Get(ingest.HeaderErrorMessage), c.message):
			t.Errorf("%s: error %s %q; want %s containing %q", c.id, m.Header.Get(ingest.HeaderErrorCode), m.Header.Get(ingest.HeaderErrorMessage), c.code, c.message)
		case string(m.Data) != c.body:
			t.Errorf("%s: payload %q; want the original %q", c.id, m.Data, c.body)
		case m.Header.Get("X-Batch") != "nightly-7" || m.Header.Get(ingest.HeaderOriginSubject) != ic.Subject || m.Header.Get(ingest.HeaderOriginSequence) == "":
			t.Errorf("%s: headers %v; want the original's kept and its subject and sequence named", c.id, m.Header)
		}
	}
	drained(t, js, ic, time.Minute)
	if n := e.count(t, "SELECT count(*) FROM transactions"); n != 1 {
		t.Fatalf("transactions: got %d, want only the valid message's", n)
	}
	var tx struct {
		Amount  string
		Country string
		Key     string
	}
	if err := e.db.NewRaw(`SELECT t.amount::text AS amount, t.country, k.key FROM transactions t JOIN idempotency_keys k ON k.transaction_id = t.id`).
		Scan(context.Background(), &tx); err != nil {
		t.Fatal(err)
	}
	if tx.Amount != "25.50" || tx.Country != "CN" || tx.Key != "good-1" {
		t.Fatalf("committed %+v; want 25.50 in CN keyed good-1", tx)
	}
	if s := e.app.ingest.Stats(); s.Acked != 1 || s.DeadLettered != uint64(len(cases)) {
		t.Fatalf("stats %+v; want 1 acknowledged and %d dead-lettered", s, len(cases))
	}
}

// BenchmarkIngestVsGraphQL: the same submissions, 16 at a time, through
// submitTransaction over HTTP and through the JetStream consumer (published
// up front, timed until settled). Reports submissions per second.
func BenchmarkIngestVsGraphQL(b *testing.B) {
	const customers = 50
	setup := func(b *testing.B, edit func(*config)) (*testEnv, session, []string) {
		db, dbURL := pgtest.New(b)
		e := newEnvOnWith(b, db, dbURL, edit)
		gw := e.user(b, "gateway", domain.RoleService)
		users := make([]string, customers)
		for i := range users {
			u := newTestUser(fmt.Sprintf("customer%d", i))
			if _, err := e.app.accounts.EnsureUser(context.Background(), u, false); err != nil {
				b.Fatal(err)
			}
			var id int64
			if err := e.db.NewRaw("SELECT id FROM users WHERE username = ?", u.Username).Scan(context.Background(), &id); err != nil {
				b.Fatal(err)
			}
			users[i] = fmt.Sprint(id)
		}
		return e, gw, users
	}
	input := func(users []string, i int) map[string]any {
		return map[string]any{"userId": users[i%customers], "amount": fmt.Sprintf("%d.50", 1+i%400), "merchantId": fmt.Sprintf("m-%d", i%37),
			"deviceId": fmt.Sprintf("fp-%d", i%customers), "idempotencyKey": fmt.Sprintf("k-%d", i)}
	}
	b.Run("graphql", func(b *testing.B) {
		e, gw, users := setup(b, nil)
		var next atomic.Int64
		b.SetParallelism(16 / max(1, runtime.GOMAXPROCS(0)))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if res := e.post(b, gw.AccessToken, submitMutation, map[string]any{"in": input(users, int(next.Add(1)))}); res.code() != "" {
					b.Error(res.Errors)
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "submissions/s")
	})
	b.Run("jetstream", func(b *testing.B) {
		js := connectJetStream(b)
		ic := ingestConfig(b, js)
		e, _, users := setup(b, withIngest(ic))
		waitReady(b, e)
		b.ResetTimer()
		for i := range b.N {
			body, _ := json.Marshal(input(users, i))
			msg := nats.NewMsg(ic.Subject)
			msg.Data = body
			if _, err := js.PublishMsgAsync(msg); err != nil {
				b.Fatal(err)
			}
		}
		<-js.PublishAsyncComplete()
		drained(b, js, ic, 10*time.Minute)
		b.StopTimer()
		if s := e.app.ingest.Stats(); s.Acked != uint64(b.N) {
			b.Fatalf("stats %+v; want %d acknowledged", s, b.N)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "submissions/s")
	})
}
