package gqlguard_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/smartfinance/riskgraph/graph"
	"github.com/smartfinance/riskgraph/internal/gqlguard"
)

var schema = graph.NewExecutableSchema(graph.Config{}).Schema()

// naive expands every spread, as execution does, giving up past budget.
func naive(doc *ast.QueryDocument, set ast.SelectionSet, budget *int) (selections, aliases int) {
	for _, sel := range set {
		if *budget--; *budget < 0 {
			return 0, 0
		}
		switch sel := sel.(type) {
		case *ast.Field:
			selections++
			if strings.HasPrefix(sel.Name, "__") {
				continue
			}
			if sel.Alias != "" && sel.Alias != sel.Name {
				aliases++
			}
			s, a := naive(doc, sel.SelectionSet, budget)
			selections, aliases = selections+s, aliases+a
		case *ast.InlineFragment:
			s, a := naive(doc, sel.SelectionSet, budget)
			selections, aliases = selections+s, aliases+a
		case *ast.FragmentSpread:
			s, a := naive(doc, doc.Fragments.ForName(sel.Name).SelectionSet, budget)
			selections, aliases = selections+s, aliases+a
		}
	}
	return selections, aliases
}

// document builds a fragment structure from fuzz bytes: each byte adds an
// item to the current fragment — a spread of a later fragment, an aliased
// or plain field, a nested selection — or starts the next fragment.
func document(program []byte) string {
	const fragments = 12
	bodies := make([][]string, fragments)
	current := 0
	for i, b := range program {
		if current >= fragments-1 {
			break
		}
		switch b % 6 {
		case 0:
			current++
		case 1, 2:
			bodies[current] = append(bodies[current], fmt.Sprintf("...F%d", current+1+int(b/6)%(fragments-1-current)))
		case 3:
			bodies[current] = append(bodies[current], fmt.Sprintf("a%d: __typename", i))
		case 4:
			bodies[current] = append(bodies[current], fmt.Sprintf("x%d: me { id }", i))
		case 5:
			bodies[current] = append(bodies[current], "me { devices { id } }")
		}
	}
	var b strings.Builder
	b.WriteString("query { ...F0 }")
	for i, body := range bodies {
		if i > 0 && !strings.Contains(b.String(), fmt.Sprintf("...F%d ", i)) && !strings.HasSuffix(b.String(), fmt.Sprintf("...F%d", i)) {
			continue // validation refuses unused fragments; keep the document valid
		}
		fmt.Fprintf(&b, " fragment F%d on Query { __typename %s }", i, strings.Join(body, " "))
	}
	return b.String()
}

// FuzzDocumentCost: checking a document — parsing, validating and measuring
// its expanded shape — costs time linear in its size, and the measured shape
// is what naive expansion finds whenever that is affordable.
func FuzzDocumentCost(f *testing.F) {
	f.Add([]byte{1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 3})
	f.Add([]byte{1, 2, 7, 8, 0, 13, 14, 3, 3, 0, 4, 5, 0, 1, 1, 1, 1})
	f.Add([]byte{4, 5, 3, 0, 1, 0, 3})
	f.Fuzz(func(t *testing.T, program []byte) {
		query := document(program)
		start := time.Now()
		doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, 2000)
		if err != nil {
			return
		}
		if errs := validator.ValidateWithRules(schema, doc, nil); len(errs) > 0 {
			return
		}
		shape := gqlguard.Measure(doc, doc.Operations[0], map[string]bool{"Query.me": true})
		if took := time.Since(start); took > 2*time.Second { // generous, for a loaded machine: the spread attacks it guards cost seconds
			t.Fatalf("checking a %d-byte document took %v", len(query), took)
		}
		if limit := 2*len(query) + 10; shape.Steps > limit {
			t.Fatalf("measuring took %d steps for a %d-byte document", shape.Steps, len(query))
		}
		budget := 100_000
		selections, aliases := naive(doc, doc.Operations[0].SelectionSet, &budget)
		if budget >= 0 && (selections != shape.Selections || aliases != shape.Aliases) {
			t.Fatalf("measured %d selections and %d aliases; expansion finds %d and %d\n%s", shape.Selections, shape.Aliases, selections, aliases, query)
		}
	})
}

func TestMeasure(t *testing.T) {
	tests := []struct {
		query                             string
		depth, selections, aliases, guard int
		introspects                       bool
	}{
		{"{ me { id } }", 2, 2, 0, 1, false},
		{"{ a: me { id } b: me { devices { id } } }", 3, 5, 2, 2, false},
		{"{ ...A ...A } fragment A on Query { x: me { ...B ...B } } fragment B on User { id }", 2, 6, 2, 2, false},
		{"{ __schema { types { name } } me { id } }", 2, 3, 0, 1, true},
		{"{ ... on Query { me { ... on User { id } } } }", 2, 2, 0, 1, false},
		{"mutation { a: login(input: {username: \"u\", password: \"p\"}) { accessToken } ...L } fragment L on Mutation { login(input: {username: \"u\", password: \"p\"}) { accessToken } }", 2, 4, 1, 2, false},
	}
	for _, tt := range tests {
		doc, errs := gqlparser.LoadQueryWithRules(schema, tt.query, nil)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		s := gqlguard.Measure(doc, doc.Operations[0], map[string]bool{"Query.me": true, "Mutation.login": true})
		if s.Depth != tt.depth || s.Selections != tt.selections || s.Aliases != tt.aliases || s.Guarded != tt.guard || s.Introspects != tt.introspects {
			t.Errorf("%s: got %+v, want depth %d, selections %d, aliases %d, guarded %d, introspects %v",
				tt.query, s, tt.depth, tt.selections, tt.aliases, tt.guard, tt.introspects)
		}
	}
}
