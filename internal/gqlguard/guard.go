// Package gqlguard rejects abusive GraphQL requests before any resolver runs:
// oversized, batched or malformed bodies, and operations nested too deep or
// with too many aliases (OWASP GraphQL cheat sheet; graphql-armor's defaults).
package gqlguard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/smartfinance/riskgraph/internal/apperr"
)

// Body checks a POST body before gqlgen decodes it: at most maxBytes, one JSON
// object (batched arrays are refused), and never echoed back in an error.
func Body(maxBytes int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			reject(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes", maxBytes))
			return
		case err != nil:
			reject(w, http.StatusBadRequest, "request body could not be read")
			return
		}
		if msg := checkShape(body); msg != "" {
			reject(w, http.StatusBadRequest, msg)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// requestFields are the members of a GraphQL-over-HTTP request and the JSON kinds they may hold.
var requestFields = map[string]string{"query": `"n`, "operationName": `"n`, "variables": "{n", "extensions": "{n"}

// checkShape explains what is wrong with a request body, "" when nothing is:
// gqlgen's own decoder would answer malformed ones with the body echoed back.
func checkShape(body []byte) string {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		return "batched requests are not supported: send one operation per request"
	}
	var fields map[string]json.RawMessage
	if len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(trimmed, &fields) != nil {
		return "request body must be a JSON object with a query"
	}
	for name, kinds := range requestFields {
		if v, ok := fields[name]; ok && len(v) > 0 && !strings.ContainsRune(kinds, rune(v[0])) {
			return fmt.Sprintf("%q has the wrong type", name)
		}
	}
	return ""
}

func reject(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{ //nolint:errcheck
		"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": apperr.BadInput}}},
	})
}

// Limits bounds an operation's shape.
type Limits struct {
	// MaxDepth is the deepest field nesting allowed; introspection fields are not counted.
	MaxDepth int
	// MaxAliases is how many aliased fields one operation may contain.
	MaxAliases int
	// Introspection allows __schema and __type (__typename is always allowed).
	Introspection bool
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = Limits{}

// ExtensionName names the extension for gqlgen.
func (Limits) ExtensionName() string { return "OperationLimits" }

// Validate accepts any schema.
func (Limits) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext rejects the operation before execution when it is too deep or too aliased.
func (l Limits) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil {
		return nil
	}
	w := walker{fragments: rc.Doc.Fragments, visiting: map[string]bool{}}
	depth := w.depth(rc.Operation.SelectionSet, 0)
	switch {
	case l.MaxDepth > 0 && depth > l.MaxDepth:
		return limitError(fmt.Sprintf("operation is nested %d levels deep; the limit is %d", depth, l.MaxDepth))
	case l.MaxAliases > 0 && w.aliases > l.MaxAliases:
		return limitError(fmt.Sprintf("operation uses %d aliases; the limit is %d", w.aliases, l.MaxAliases))
	case !l.Introspection && w.introspects:
		return limitError("introspection is disabled on this server")
	}
	return nil
}

func limitError(msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": string(apperr.BadInput)}}
}

// walker measures depth and counts aliases, following fragment spreads once per path.
type walker struct {
	fragments   ast.FragmentDefinitionList
	visiting    map[string]bool
	aliases     int
	introspects bool
}

func (w *walker) depth(set ast.SelectionSet, level int) int {
	deepest := level
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if strings.HasPrefix(s.Name, "__") {
				// Introspection is governed by its own setting, not by depth.
				w.introspects = w.introspects || s.Name == "__schema" || s.Name == "__type"
				continue
			}
			if s.Alias != "" && s.Alias != s.Name {
				w.aliases++
			}
			deepest = max(deepest, w.depth(s.SelectionSet, level+1))
		case *ast.InlineFragment:
			deepest = max(deepest, w.depth(s.SelectionSet, level))
		case *ast.FragmentSpread:
			def := w.fragments.ForName(s.Name)
			if def == nil || w.visiting[s.Name] {
				continue
			}
			w.visiting[s.Name] = true
			deepest = max(deepest, w.depth(def.SelectionSet, level))
			w.visiting[s.Name] = false
		}
	}
	return deepest
}
