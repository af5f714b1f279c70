package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/smartfinance/riskgraph/internal/outbox"
)

// maxResponseBytes is how much of a receiver's answer is read (and kept in
// the delivery log when it is an error): enough for a message, not a flood.
const maxResponseBytes = 4 << 10

// Sender posts deliveries to webhook endpoints.
type Sender struct {
	client *http.Client
}

// NewSender returns a sender whose attempts end after timeout; it never
// follows redirects (a 3xx is a failed attempt: an endpoint's URL is what
// the admin configured, not wherever it points to).
func NewSender(timeout time.Duration) *Sender {
	return &Sender{client: &http.Client{
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Send posts one delivery's message, signed with t.Secrets. A 2xx answer
// is delivered; anything else, or no answer within the timeout, is an error.
func (s *Sender) Send(ctx context.Context, d *outbox.Delivery, t outbox.Target) outbox.Result {
	body, err := d.Body()
	if err != nil {
		return outbox.Result{Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(body))
	if err != nil {
		return outbox.Result{Err: err}
	}
	// The wall clock, not the service's: receivers compare it with theirs.
	h := Sign(t.Secrets, d.EventID, time.Now(), body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "riskgraph-webhooks/1")
	req.Header.Set("webhook-id", h.ID)
	req.Header.Set("webhook-timestamp", h.Timestamp)
	req.Header.Set("webhook-signature", h.Signature)
	resp, err := s.client.Do(req)
	if err != nil {
		var uerr interface{ Unwrap() error }
		if errors.As(err, &uerr) {
			err = uerr.Unwrap() // drop net/url's "Post <url>:" prefix: the URL may carry a token
		}
		return outbox.Result{Err: fmt.Errorf("post: %w", err)}
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return outbox.Result{ResponseStatus: resp.StatusCode}
	}
	return outbox.Result{ResponseStatus: resp.StatusCode, Err: fmt.Errorf("HTTP %d: %s", resp.StatusCode, answer)}
}
