package devserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestClientDo(t *testing.T) {
	tests := []struct {
		name, body    string
		status        int
		want, wantErr string        // want is out.Value after Do
		code          string        // extensions.code of a GraphQL error
		retry         time.Duration // its RetryAfter
	}{
		{name: "data", status: 200, body: `{"data":{"value":"x"}}`, want: "x"},
		{name: "GraphQL error", status: 200, body: `{"errors":[{"message":"no such user","extensions":{"code":"NOT_FOUND"}}],"data":null}`,
			wantErr: "NOT_FOUND: no such user", code: "NOT_FOUND"},
		{name: "rate limited", status: 200, body: `{"errors":[{"message":"slow down","extensions":{"code":"RATE_LIMITED","retryAfter":"7"}}]}`,
			wantErr: "RATE_LIMITED: slow down", code: "RATE_LIMITED", retry: 7 * time.Second},
		{name: "not GraphQL", status: 502, body: `<html>bad gateway</html>`, wantErr: "HTTP 502: <html>bad gateway</html>"},
		{name: "no data", status: 200, body: `{"data":null}`, wantErr: `HTTP 200: {"data":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotAuth, gotBody string
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotAuth = r.Header.Get("Authorization")
				b, _ := io.ReadAll(r.Body)
				gotBody = string(b)
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			defer ts.Close()

			var out struct{ Value string }
			err := (&Client{URL: ts.URL}).Do(context.Background(), "tok", "{ value }", map[string]any{"n": 1}, &out)
			if got, want := gotAuth, "Bearer tok"; got != want {
				t.Errorf("Authorization: got %q; want %q", got, want)
			}
			if got, want := gotBody, `{"query":"{ value }","variables":{"n":1}}`; got != want {
				t.Errorf("request body: got %s; want %s", got, want)
			}
			if got := fmt.Sprint(err); (err != nil || tt.wantErr != "") && got != tt.wantErr {
				t.Fatalf("error: got %q; want %q", got, tt.wantErr)
			}
			if got := out.Value; got != tt.want {
				t.Errorf("data: got %q; want %q", got, tt.want)
			}
			var ge *Error
			if got := errors.As(err, &ge); got != (tt.code != "") {
				t.Fatalf("errors.As(*Error): got %v; want %v", got, tt.code != "")
			}
			if ge != nil {
				if got := ge.Extensions.Code; got != tt.code {
					t.Errorf("code: got %q; want %q", got, tt.code)
				}
				if got := ge.RetryAfter(); got != tt.retry {
					t.Errorf("RetryAfter: got %s; want %s", got, tt.retry)
				}
			}
		})
	}
}

func TestClientPostTransportError(t *testing.T) {
	addr, err := FreeAddr() // nobody listens there
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&Client{URL: "http://" + addr + "/graphql"}).Post(context.Background(), "", []byte(`{}`))
	if err == nil || resp != nil {
		t.Errorf("Post to a closed port: got %v, %v; want no response and an error", resp, err)
	}
}
