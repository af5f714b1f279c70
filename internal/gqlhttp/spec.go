// Package gqlhttp makes the GraphQL endpoint answer HTTP as the
// GraphQL-over-HTTP specification says and lets browser applications on the
// allowed origins call it (CORS).
package gqlhttp

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"

	"github.com/99designs/gqlgen/graphql"

	"github.com/smartfinance/riskgraph/internal/apperr"
)

// Spec wraps one of gqlgen's HTTP transports (POST, GET). gqlgen sets an
// error status only on a request error, one found before execution: a
// document that does not parse or validate, variables that don't coerce, a
// mutation over GET. Such an answer is rewritten as the specification says:
// with application/json, 200 (gqlgen answers 422), since the body is a
// well-formed GraphQL response; with application/graphql-response+json,
// gqlgen's 400; a mutation over GET, 405 with Allow: POST (gqlgen's 406);
// never with a "data" entry, as nothing was executed; and always with a code.
func Spec(t graphql.Transport) graphql.Transport { return spec{t} }

type spec struct{ graphql.Transport }

func (s spec) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	rw := &requestErrorWriter{ResponseWriter: w}
	s.Transport.Do(rw, r, exec)
	rw.finish()
}

// requestErrorWriter holds an answer with an error status until finish.
type requestErrorWriter struct {
	http.ResponseWriter
	status int // the error status gqlgen chose; 0 while passing through
	body   bytes.Buffer
}

func (w *requestErrorWriter) WriteHeader(code int) {
	if code < http.StatusBadRequest {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.status = code
}

func (w *requestErrorWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		return w.ResponseWriter.Write(p)
	}
	return w.body.Write(p)
}

func (w *requestErrorWriter) finish() {
	if w.status == 0 {
		return
	}
	status := w.status
	mediaType, _, _ := mime.ParseMediaType(w.Header().Get("Content-Type"))
	switch {
	case status == http.StatusUnprocessableEntity && mediaType == "application/json":
		status = http.StatusOK
	case status == http.StatusNotAcceptable:
		status = http.StatusMethodNotAllowed
		w.Header().Set("Allow", http.MethodPost)
	}
	w.ResponseWriter.WriteHeader(status)
	w.ResponseWriter.Write(requestError(w.body.Bytes())) //nolint:errcheck // the client is gone
}

// requestError rewrites the body gqlgen wrote for a request error: without
// the "data" entry it writes (as null) into every response, and with
// BAD_USER_INPUT on the errors its transports word themselves (such as
// "GET requests only allow query operations"), which carry no code.
func requestError(body []byte) []byte {
	var members map[string]json.RawMessage
	if json.Unmarshal(body, &members) != nil {
		return body
	}
	delete(members, "data")
	var errs []map[string]any
	if json.Unmarshal(members["errors"], &errs) == nil {
		for _, e := range errs {
			ext, _ := e["extensions"].(map[string]any)
			if ext == nil {
				ext = map[string]any{}
				e["extensions"] = ext
			}
			if _, ok := ext["code"]; !ok {
				ext["code"] = string(apperr.BadInput)
			}
		}
		members["errors"], _ = json.Marshal(errs)
	}
	out, err := json.Marshal(members)
	if err != nil {
		return body
	}
	return out
}
