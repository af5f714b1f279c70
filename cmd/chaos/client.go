//go:build linux

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/smartfinance/riskgraph/cmd/internal/devserver"
)

const (
	// requestTimeout bounds every request; one taking over hangLimit counts as a hang.
	requestTimeout = 12 * time.Second
	hangLimit      = 10 * time.Second
)

// epoch anchors the request timestamps kept in atomics, so they stay monotonic.
var epoch = time.Now()

// gqlClient posts GraphQL requests to one server over its own keep-alive
// pool, as a payment system's HTTP client would.
type gqlClient struct {
	name string
	api  devserver.Client
}

func newClient(name, url string) *gqlClient {
	return &gqlClient{name: name, api: devserver.Client{URL: url, HTTP: &http.Client{
		Timeout: requestTimeout,
		// No proxy: everything stays on loopback. Eight clients share one pool.
		Transport: &http.Transport{MaxIdleConnsPerHost: 64},
	}}}
}

// reply is what one request got, with its timings.
type reply struct {
	start, wrote, end time.Time // wrote is zero when the request was never fully sent
	status            int
	data              json.RawMessage
	errors            []devserver.Error
	body              []byte // kept when the body is not a GraphQL response
	err               error  // transport error
}

func (r reply) elapsed() time.Duration { return r.end.Sub(r.start) }

// outcome classifies a reply.
type outcome string

const (
	outOK      outcome = "ok"
	outGQL     outcome = "GraphQL error"
	outBad     outcome = "not a GraphQL response" // e.g. a bare HTTP 500
	outRefused outcome = "connection refused"
	outTimeout outcome = "client timeout"
	outDropped outcome = "connection dropped" // reset or EOF mid-request
)

func (r reply) outcome() outcome {
	var netErr net.Error
	switch {
	case r.err == nil && len(r.errors) > 0:
		return outGQL
	case r.err == nil && r.body == nil:
		return outOK
	case r.err == nil:
		return outBad
	case errors.Is(r.err, syscall.ECONNREFUSED):
		return outRefused
	case errors.As(r.err, &netErr) && netErr.Timeout():
		return outTimeout
	default:
		return outDropped
	}
}

// code is the first error's extensions.code ("no code" if it has none).
func (r reply) code() string {
	if len(r.errors) == 0 {
		return ""
	}
	if c := r.errors[0].Extensions.Code; c != "" {
		return c
	}
	return "no code"
}

// describe is a one-line account of a failed reply for reports.
func (r reply) describe() string {
	switch o := r.outcome(); o {
	case outGQL:
		return fmt.Sprintf("HTTP %d %s: %s", r.status, r.code(), r.errors[0].Message)
	case outBad:
		return fmt.Sprintf("HTTP %d body %.120q", r.status, r.body)
	case outOK:
		return "ok"
	default:
		return fmt.Sprintf("%s: %v", o, r.err)
	}
}

// post sends one request. The transport never retries it: a POST without an
// Idempotency-Key header is not replayable, so every failure is seen here.
func (c *gqlClient) post(ctx context.Context, token, query string, vars any) reply {
	var wrote atomic.Int64 // nanoseconds since epoch; set from the transport's goroutine
	trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
		if info.Err == nil {
			wrote.Store(int64(time.Since(epoch)))
		}
	}}
	body, err := json.Marshal(devserver.Request{Query: query, Variables: vars})
	if err != nil {
		panic(err) // our own variables always marshal
	}
	r := reply{start: time.Now()}
	resp, err := c.api.Post(httptrace.WithClientTrace(ctx, trace), token, body)
	r.end, r.err = time.Now(), err
	if err == nil {
		r.status, r.data, r.errors = resp.Status, resp.Data, resp.Errors
		if len(resp.Errors) == 0 && resp.Err() != nil {
			r.body = resp.Body // never nil: not a GraphQL response
		}
	}
	if ns := wrote.Load(); ns != 0 {
		r.wrote = epoch.Add(time.Duration(ns))
	}
	return r
}

// must runs a request that has to succeed and decodes its data into out.
func (c *gqlClient) must(ctx context.Context, token, query string, vars, out any) error {
	r := c.post(ctx, token, query, vars)
	if r.outcome() != outOK {
		return fmt.Errorf("%s: %s", c.name, r.describe())
	}
	return json.Unmarshal(r.data, out)
}
