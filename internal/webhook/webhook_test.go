package webhook_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/smartfinance/riskgraph/internal/outbox"
	"github.com/smartfinance/riskgraph/internal/webhook"
)

func TestSignVerifiesWithTheReferenceLibrary(t *testing.T) {
	a, b := webhook.NewSecret(), webhook.NewSecret()
	body := []byte(`{"id":"x","type":"decision.made"}`)
	h := webhook.Sign([]string{a, b}, "msg_1", time.Now(), body)
	header := http.Header{}
	header.Set("webhook-id", h.ID)
	header.Set("webhook-timestamp", h.Timestamp)
	header.Set("webhook-signature", h.Signature)
	for _, secret := range []string{a, b} {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(body, header); err != nil {
			t.Errorf("verify with one of two secrets: %v", err)
		}
		if err := wh.Verify(append(body, ' '), header); err == nil {
			t.Error("a changed body verified")
		}
	}
	other, _ := standardwebhooks.NewWebhook(webhook.NewSecret())
	if other.Verify(body, header) == nil {
		t.Error("a foreign secret verified")
	}
}

func TestValidSecretAndURL(t *testing.T) {
	for _, tt := range []struct {
		secret string
		ok     bool
	}{
		{webhook.NewSecret(), true},
		{"whsec_" + strings.Repeat("QUJD", 8), true},  // 24 bytes
		{"whsec_" + strings.Repeat("QUJD", 7), false}, // 21 bytes
		{"whsec_not base64!", false},
		{strings.Repeat("QUJD", 8), true}, // the prefix is optional, as in the reference library
	} {
		if err := webhook.ValidSecret(tt.secret); (err == nil) != tt.ok {
			t.Errorf("ValidSecret(%q): got %v, want ok=%v", tt.secret, err, tt.ok)
		}
	}
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"https://hooks.example.com/riskgraph?token=1", true},
		{"http://127.0.0.1:8080/h", true},
		{"ftp://example.com/", false},
		{"https:///nohost", false},
		{"mailto:a@example.com", false},
		{"/relative", false},
	} {
		if err := webhook.ValidURL(tt.url); (err == nil) != tt.ok {
			t.Errorf("ValidURL(%q): got %v, want ok=%v", tt.url, err, tt.ok)
		}
	}
}

func TestSenderNeitherFollowsRedirectsNorReadsFloods(t *testing.T) {
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		switch r.URL.Path {
		case "/moved":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		case "/flood":
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(strings.Repeat("x", 1<<20))) //nolint:errcheck
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	defer srv.Close()
	d := &outbox.Delivery{EventID: "e1", EventType: "decision.made", AggregateType: "transaction", AggregateID: 1,
		SchemaVersion: 1, Payload: json.RawMessage(`{}`)}
	s := webhook.NewSender(5 * time.Second)
	secret := []string{webhook.NewSecret()}

	res := s.Send(context.Background(), d, outbox.Target{URL: srv.URL + "/moved", Secrets: secret})
	if res.Err == nil || res.ResponseStatus != http.StatusFound || hits != 1 {
		t.Fatalf("redirect: got %+v after %d requests, want a failed attempt with 302 and no second request", res, hits)
	}
	res = s.Send(context.Background(), d, outbox.Target{URL: srv.URL + "/flood", Secrets: secret})
	if res.Err == nil || len(res.Err.Error()) > 5<<10 {
		t.Fatalf("flood: got an error of %d bytes, want it bounded", len(res.Err.Error()))
	}
	if res = s.Send(context.Background(), d, outbox.Target{URL: srv.URL + "/ok", Secrets: secret}); res.Err != nil || res.ResponseStatus != 200 {
		t.Fatalf("ok: got %+v", res)
	}
}
