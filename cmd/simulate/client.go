package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// client speaks GraphQL over HTTP to one server.
type client struct {
	url  string
	http *http.Client
}

func newClient(url string, conns int) *client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns
	return &client{url: url, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// apiError is a GraphQL error with its extensions.code.
type apiError struct {
	Code       string
	Message    string
	RetryAfter time.Duration
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// errorCode is err's extensions.code, or "" for transport and decoding failures.
func errorCode(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}

// maxAttempts bounds retries of one operation: transport errors and
// RATE_LIMITED answers are retried, everything else is final.
const maxAttempts = 5

// call runs one operation, retrying what a well-behaved client retries.
// Mutations that must not run twice carry an idempotency key.
func (c *client) call(ctx context.Context, token, query string, vars map[string]any, out any) error {
	var err error
	for attempt := range maxAttempts {
		if err = c.post(ctx, token, query, vars, out); err == nil || ctx.Err() != nil {
			return err
		}
		wait := time.Duration(attempt+1) * 200 * time.Millisecond
		var ae *apiError
		switch {
		case errors.As(err, &ae) && ae.Code == "RATE_LIMITED":
			wait = max(wait, ae.RetryAfter)
		case errors.As(err, &ae):
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

func (c *client) post(ctx context.Context, token, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Data   json.RawMessage
		Errors []struct {
			Message    string
			Extensions struct {
				Code       string
				RetryAfter string
			}
		}
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, raw)
	}
	if len(env.Errors) > 0 {
		e := env.Errors[0]
		seconds, _ := strconv.Atoi(e.Extensions.RetryAfter)
		return &apiError{Code: e.Extensions.Code, Message: e.Message, RetryAfter: time.Duration(seconds) * time.Second}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(env.Data, out)
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
