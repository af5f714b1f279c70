package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/smartfinance/riskgraph/cmd/internal/devserver"
)

// client speaks GraphQL over HTTP to one server.
type client struct {
	api devserver.Client
}

func newClient(url string, conns int) *client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns
	return &client{api: devserver.Client{URL: url, HTTP: &http.Client{Transport: tr, Timeout: 30 * time.Second}}}
}

// errorCode is err's extensions.code, or "" for transport and decoding failures.
func errorCode(err error) string {
	var ge *devserver.Error
	if errors.As(err, &ge) {
		return ge.Extensions.Code
	}
	return ""
}

// maxAttempts bounds retries of one operation: transport errors and
// RATE_LIMITED and UNAVAILABLE (a busy server's timeout) answers are retried,
// everything else is final.
const maxAttempts = 5

// call runs one operation, retrying what a well-behaved client retries.
// Mutations that must not run twice carry an idempotency key.
func (c *client) call(ctx context.Context, token, query string, vars map[string]any, out any) error {
	var err error
	for attempt := range maxAttempts {
		if err = c.api.Do(ctx, token, query, vars, out); err == nil || ctx.Err() != nil {
			return err
		}
		wait := time.Duration(attempt+1) * 200 * time.Millisecond
		var ge *devserver.Error
		switch {
		case errors.As(err, &ge) && ge.Extensions.Code == "RATE_LIMITED":
			wait = max(wait, ge.RetryAfter())
		case errors.As(err, &ge) && ge.Extensions.Code == "UNAVAILABLE":
			wait *= 5
		case errors.As(err, &ge):
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	return err
}

const loginMutation = `mutation($in: LoginInput!) { login(input: $in) { accessToken } }`

// login returns an access token.
func (c *client) login(ctx context.Context, in map[string]any) (string, error) {
	var out struct{ Login struct{ AccessToken string } }
	if err := c.call(ctx, "", loginMutation, map[string]any{"in": in}, &out); err != nil {
		return "", fmt.Errorf("login %v: %w", in["username"], err)
	}
	return out.Login.AccessToken, nil
}

// session is an account's access token, renewed by logging in again when it
// expires (access tokens live 15 minutes; a long replay outlives one).
type session struct {
	c                  *client
	username, password string
	mu                 sync.Mutex
	token              string
}

func (s *session) current() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

// renew logs in again unless another caller already replaced stale.
func (s *session) renew(ctx context.Context, stale string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != stale {
		return nil
	}
	token, err := s.c.login(ctx, map[string]any{"username": s.username, "password": s.password})
	if err == nil {
		s.token = token
	}
	return err
}

// call runs an operation as the session's account, logging in again once if
// the token was refused.
func (s *session) call(ctx context.Context, query string, vars map[string]any, out any) error {
	token := s.current()
	err := s.c.call(ctx, token, query, vars, out)
	if errorCode(err) != "UNAUTHENTICATED" {
		return err
	}
	if err := s.renew(ctx, token); err != nil {
		return err
	}
	return s.c.call(ctx, s.current(), query, vars, out)
}
