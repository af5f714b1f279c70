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
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/smartfinance/riskgraph/internal/apperr"
)

// Body holds every request to the endpoint to maxBytes before anything parses
// it: a GET's query string, and any other method's body whatever its content
// type. A JSON body must be one object (batched arrays are refused) and is
// never echoed back in an error; its media type is compared as RFC 9110 says
// (case-insensitively, parameters allowed) and passed on in canonical form.
// A request that is not a well-formed GraphQL-over-HTTP request (no query,
// parameters of the wrong type) is answered 400 here, whatever it accepts.
func Body(maxBytes int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
			if int64(len(r.URL.RawQuery)) > maxBytes {
				reject(w, http.StatusRequestURITooLong, fmt.Sprintf("query string exceeds %d bytes: send the operation in a POST body", maxBytes))
				return
			}
			// A websocket upgrade carries its operations in messages, not in its URL.
			if r.Method == http.MethodGet && r.Header.Get("Upgrade") == "" {
				if msg := checkParams(r.URL.RawQuery); msg != "" {
					reject(w, http.StatusBadRequest, msg)
					return
				}
			}
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
		mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mediaType != "application/json" {
			reject(w, http.StatusUnsupportedMediaType, "send the operation as Content-Type: application/json")
			return
		}
		if charset, ok := params["charset"]; ok && !strings.EqualFold(charset, "utf-8") {
			reject(w, http.StatusUnsupportedMediaType, "request bodies must be UTF-8")
			return
		}
		if msg := checkShape(body); msg != "" {
			reject(w, http.StatusBadRequest, msg)
			return
		}
		r.Header.Set("Content-Type", "application/json")
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
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
	return missingQuery(fields["query"], fields["extensions"])
}

// checkParams is checkShape for a GET's query string, whose variables and
// extensions are JSON texts.
func checkParams(rawQuery string) string {
	params, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "query string could not be decoded"
	}
	fields := map[string]json.RawMessage{}
	for _, name := range []string{"query", "variables", "extensions"} {
		v := params.Get(name)
		if v == "" {
			continue
		}
		if name == "query" {
			fields[name], _ = json.Marshal(v)
			continue
		}
		var object map[string]json.RawMessage
		if json.Unmarshal([]byte(v), &object) != nil {
			return fmt.Sprintf("%q must be a JSON object", name)
		}
		fields[name] = json.RawMessage(v)
	}
	return missingQuery(fields["query"], fields["extensions"])
}

// missingQuery refuses a request without a query unless it names a persisted one.
func missingQuery(query, extensions json.RawMessage) string {
	if len(query) > 0 && string(query) != "null" {
		return ""
	}
	var ext struct{ PersistedQuery json.RawMessage }
	if json.Unmarshal(extensions, &ext) == nil && len(ext.PersistedQuery) > 0 && string(ext.PersistedQuery) != "null" {
		return ""
	}
	return "request has no query"
}

func reject(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{ //nolint:errcheck
		"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": apperr.BadInput}}},
	})
}

// Limits bounds an operation's shape and its complexity.
type Limits struct {
	// MaxDepth is the deepest field nesting allowed; introspection fields are not counted.
	MaxDepth int
	// MaxAliases is how many aliased fields one operation may contain, fragments expanded.
	MaxAliases int
	// MaxSelections is how many fields the operation selects with every fragment
	// spread expanded: what execution and the complexity count will walk.
	MaxSelections int
	// MaxComplexity bounds gqlgen's complexity count (the schema's complexity
	// functions); 0 disables it.
	MaxComplexity int
	// Introspection allows __schema and __type (__typename is always allowed).
	Introspection bool
	// CacheEntries bounds the verdicts kept per operation text (0: none kept).
	CacheEntries int
	// passwordFields are found in the schema by Validate: an operation may
	// select one of them once in total, aliases and fragments included, so a
	// request is never a batch of guesses or of hashes.
	passwordFields map[string]bool
	schema         graphql.ExecutableSchema
	verdicts       *lru.Cache[operationKey, verdict]
}

// operationKey names one operation of one document text: the same text
// always parses and validates to the same document (gqlgen's query cache
// relies on that too), so its measures can be reused.
type operationKey struct{ query, operation string }

// verdict is what Limits computed for an operation that did not depend on
// the request's variables.
type verdict struct {
	shape Shape
	// complexity is valid when complexityKnown: the operation declares no Int
	// variable (page sizes are the only arguments the complexity functions read).
	complexity      int
	complexityKnown bool
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &Limits{}

// ExtensionName names the extension for gqlgen.
func (*Limits) ExtensionName() string { return "OperationLimits" }

// Validate finds the schema's password fields and sets up the verdict cache.
func (l *Limits) Validate(es graphql.ExecutableSchema) error {
	l.passwordFields = FindPasswordFields(es.Schema())
	l.schema = es
	if l.CacheEntries > 0 {
		var err error
		if l.verdicts, err = lru.New[operationKey, verdict](l.CacheEntries); err != nil {
			return err
		}
	}
	return nil
}

// MutateOperationContext rejects the operation before execution (and before
// the complexity count, which walks every expanded spread) when it is too
// deep, too aliased or too large once its fragments are expanded, then when
// its complexity is over the limit. Both measures are computed once per
// operation text and reused while it stays in the cache; a complexity that
// depends on the variables is counted for every request.
func (l *Limits) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil {
		return nil
	}
	key := operationKey{query: rc.RawQuery, operation: rc.OperationName}
	v, cached := verdict{}, false
	if l.verdicts != nil {
		v, cached = l.verdicts.Get(key)
	}
	if !cached {
		v = verdict{shape: Measure(rc.Doc, rc.Operation, l.passwordFields), complexityKnown: !declaresInt(rc.Operation)}
	}
	if err := l.checkShape(v.shape); err != nil {
		return err
	}
	if l.MaxComplexity > 0 {
		c := v.complexity
		if !v.complexityKnown || !cached {
			c = complexity.Calculate(ctx, l.schema, rc.Operation, rc.Variables)
		}
		v.complexity = c
		if c > l.MaxComplexity {
			err := gqlerror.Errorf("operation has complexity %d, which exceeds the limit of %d", c, l.MaxComplexity)
			errcode.Set(err, "COMPLEXITY_LIMIT_EXCEEDED")
			return err
		}
	}
	if !cached && l.verdicts != nil {
		l.verdicts.Add(key, v)
	}
	return nil
}

// checkShape refuses a shape over a limit.
func (l *Limits) checkShape(s Shape) *gqlerror.Error {
	switch {
	case s.Guarded > 1:
		return limitError(fmt.Sprintf("an operation may check or set at most one password; send %s in separate requests",
			strings.Join(fieldNames(l.passwordFields), ", ")))
	case l.MaxSelections > 0 && s.Selections > l.MaxSelections:
		return limitError(fmt.Sprintf("operation selects more than %d fields once its fragments are expanded", l.MaxSelections))
	case l.MaxDepth > 0 && s.Depth > l.MaxDepth:
		return limitError(fmt.Sprintf("operation is nested %d levels deep; the limit is %d", s.Depth, l.MaxDepth))
	case l.MaxAliases > 0 && s.Aliases > l.MaxAliases:
		return limitError(fmt.Sprintf("operation uses %d aliases; the limit is %d", s.Aliases, l.MaxAliases))
	case !l.Introspection && s.Introspects:
		return limitError("introspection is disabled on this server")
	}
	return nil
}

// declaresInt reports whether op has a variable of type Int (or a list of
// them): page sizes, which the complexity functions multiply by.
func declaresInt(op *ast.OperationDefinition) bool {
	for _, def := range op.VariableDefinitions {
		t := def.Type
		for t.Elem != nil {
			t = t.Elem
		}
		if t.NamedType == "Int" {
			return true
		}
	}
	return false
}

func limitError(msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": string(apperr.BadInput)}}
}

// Shape is what an operation selects with every fragment spread expanded.
type Shape struct {
	// Depth is the deepest field nesting, introspection fields not counted.
	Depth int
	// Selections counts expanded fields and Aliases the aliased ones; both
	// saturate at saturation, so a spread bomb cannot overflow them.
	Selections, Aliases int
	// Guarded counts the expanded selections of the guarded fields.
	Guarded int
	// Introspects is set when __schema or __type is selected.
	Introspects bool
	// Steps is the work Measure did: one per selection in the document and one
	// per fragment definition, however often each is spread.
	Steps int
}

// saturation caps expanded counts: far above any limit, far below overflow.
const saturation = 1 << 40

// Measure computes an operation's expanded shape in time linear in the
// document: each fragment is measured once and its shape reused at every
// spread (re-walking spreads doubles the work per level of nesting). Guarded
// holds "Type.field" coordinates; the document must have been validated,
// which resolves them.
func Measure(doc *ast.QueryDocument, op *ast.OperationDefinition, guarded map[string]bool) Shape {
	m := measurer{fragments: doc.Fragments, done: map[string]*Shape{}, guarded: guarded}
	return m.set(op.SelectionSet)
}

type measurer struct {
	fragments ast.FragmentDefinitionList
	done      map[string]*Shape // nil entry: being measured (a cycle, which validation refuses)
	guarded   map[string]bool
	steps     int
}

func (m *measurer) set(set ast.SelectionSet) Shape {
	var s Shape
	for _, sel := range set {
		m.steps++
		var child Shape
		switch sel := sel.(type) {
		case *ast.Field:
			if strings.HasPrefix(sel.Name, "__") {
				// Introspection is governed by its own setting, not by depth.
				s.Introspects = s.Introspects || sel.Name == "__schema" || sel.Name == "__type"
				s.add(Shape{Selections: 1})
				continue
			}
			child = m.set(sel.SelectionSet)
			child.Depth++
			child.Selections++
			if sel.Alias != "" && sel.Alias != sel.Name {
				child.Aliases++
			}
			if sel.ObjectDefinition != nil && m.guarded[sel.ObjectDefinition.Name+"."+sel.Name] {
				child.Guarded++
			}
		case *ast.InlineFragment:
			child = m.set(sel.SelectionSet)
		case *ast.FragmentSpread:
			child = m.fragment(sel.Name)
		}
		s.add(child)
	}
	s.Steps = m.steps
	return s
}

func (m *measurer) fragment(name string) Shape {
	if s, ok := m.done[name]; ok {
		if s == nil {
			return Shape{}
		}
		return *s
	}
	def := m.fragments.ForName(name)
	if def == nil {
		return Shape{}
	}
	m.done[name] = nil
	m.steps++
	s := m.set(def.SelectionSet)
	m.done[name] = &s
	return s
}

// add merges a sibling's shape into s.
func (s *Shape) add(o Shape) {
	s.Depth = max(s.Depth, o.Depth)
	s.Selections = saturatingAdd(s.Selections, o.Selections)
	s.Aliases = saturatingAdd(s.Aliases, o.Aliases)
	s.Guarded = saturatingAdd(s.Guarded, o.Guarded)
	s.Introspects = s.Introspects || o.Introspects
}

func saturatingAdd(a, b int) int { return min(a+b, saturation) }

// fieldNames lists the field names of "Type.field" coordinates, sorted.
func fieldNames(coordinates map[string]bool) []string {
	names := make([]string, 0, len(coordinates))
	for c := range coordinates {
		names = append(names, c[strings.IndexByte(c, '.')+1:])
	}
	slices.Sort(names)
	return names
}
