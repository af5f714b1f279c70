package devserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Client posts GraphQL requests to one endpoint.
type Client struct {
	URL  string       // e.g. Server.GraphQLURL()
	HTTP *http.Client // nil: http.DefaultClient
}

// Request is a GraphQL-over-HTTP request body.
type Request struct {
	Query      string         `json:"query,omitempty"`
	Variables  any            `json:"variables,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"` // e.g. a persisted query's hash
}

// Response is what the server answered.
type Response struct {
	Status int
	Body   []byte // as received; never nil
	// Data and Errors are set when Body is a GraphQL response.
	Data   json.RawMessage
	Errors []Error
}

// Error is a GraphQL error as the server words it: a code in its
// extensions and, on RATE_LIMITED, retryAfter in seconds (a string).
type Error struct {
	Message    string
	Extensions struct {
		Code       string
		RetryAfter string
	}
}

func (e *Error) Error() string { return e.Extensions.Code + ": " + e.Message }

// RetryAfter is how long the server asks a client to wait; 0 when it doesn't say.
func (e *Error) RetryAfter() time.Duration {
	seconds, _ := strconv.Atoi(e.Extensions.RetryAfter)
	return time.Duration(seconds) * time.Second
}

// Err is the response's first GraphQL error, or an error quoting the body
// when that is not a GraphQL response (neither errors nor data); else nil.
func (r *Response) Err() error {
	switch {
	case len(r.Errors) > 0:
		return &r.Errors[0]
	case len(r.Data) == 0 || string(r.Data) == "null":
		return fmt.Errorf("HTTP %d: %.200s", r.Status, r.Body)
	}
	return nil
}

// Post sends one request body with token as its bearer ("" for none). Its
// error is the transport's: whatever the server answered is in the Response.
func (c *Client) Post(ctx context.Context, token string, body []byte) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	r := &Response{Status: resp.StatusCode}
	if r.Body, err = io.ReadAll(resp.Body); err != nil {
		return nil, err
	}
	var env struct {
		Data   json.RawMessage
		Errors []Error
	}
	if json.Unmarshal(r.Body, &env) == nil {
		r.Data, r.Errors = env.Data, env.Errors
	}
	return r, nil
}

// Do runs one operation as token and decodes its data into out (which may be
// nil). A GraphQL error comes back as an *Error.
func (c *Client) Do(ctx context.Context, token, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(Request{Query: query, Variables: vars})
	if err != nil {
		return err
	}
	resp, err := c.Post(ctx, token, body)
	if err != nil {
		return err
	}
	if err := resp.Err(); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(resp.Data, out)
}
