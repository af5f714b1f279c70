package gqlguard

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// PasswordFields allows at most one field per operation that checks or sets a
// password (login, changePassword, register, createUser, and any field added
// later). Each costs an argon2id hash (19 MiB, tens of milliseconds), and
// aliases would otherwise turn one request into many password guesses. The
// fields are found in the schema, not listed: any field with an argument
// whose name, or whose input type's field at any depth, contains "password".
type PasswordFields struct {
	// fields holds "Type.field" coordinates; set by Validate.
	fields map[string]bool
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &PasswordFields{}

// ExtensionName names the extension for gqlgen.
func (*PasswordFields) ExtensionName() string { return "PasswordFields" }

// Validate finds the password fields of the schema.
func (p *PasswordFields) Validate(es graphql.ExecutableSchema) error {
	p.fields = FindPasswordFields(es.Schema())
	return nil
}

// FindPasswordFields returns the "Type.field" coordinates of every field that takes a password.
func FindPasswordFields(schema *ast.Schema) map[string]bool {
	found := map[string]bool{}
	for _, def := range schema.Types {
		if def.Kind != ast.Object && def.Kind != ast.Interface {
			continue
		}
		for _, f := range def.Fields {
			for _, arg := range f.Arguments {
				if namesPassword(arg.Name) || carriesPassword(schema, arg.Type, map[string]bool{}) {
					found[def.Name+"."+f.Name] = true
				}
			}
		}
	}
	return found
}

func namesPassword(name string) bool { return strings.Contains(strings.ToLower(name), "password") }

func carriesPassword(schema *ast.Schema, t *ast.Type, seen map[string]bool) bool {
	for t.Elem != nil {
		t = t.Elem
	}
	def := schema.Types[t.NamedType]
	if def == nil || def.Kind != ast.InputObject || seen[def.Name] {
		return false
	}
	seen[def.Name] = true
	for _, f := range def.Fields {
		if namesPassword(f.Name) || carriesPassword(schema, f.Type, seen) {
			return true
		}
	}
	return false
}

// MutateOperationContext rejects, before any resolver runs, an operation with
// two or more password fields, counting aliases, fragment spreads and inline fragments.
func (p *PasswordFields) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil || len(p.fields) == 0 {
		return nil
	}
	c := passwordCounter{fields: p.fields, doc: rc.Doc, fragments: map[string]int{}}
	if n := c.count(rc.Operation.SelectionSet); n > 1 {
		names := make([]string, 0, len(p.fields))
		for f := range p.fields {
			names = append(names, f[strings.IndexByte(f, '.')+1:])
		}
		sort.Strings(names)
		return limitError(fmt.Sprintf("an operation may check or set at most one password; send %s in separate requests",
			strings.Join(names, ", ")))
	}
	return nil
}

// passwordCounter counts password fields; each fragment is counted once and
// its count reused, so the cost is linear in the document. Counts saturate at
// 2, all the check needs, so they cannot overflow.
type passwordCounter struct {
	fields    map[string]bool
	doc       *ast.QueryDocument
	fragments map[string]int
}

func (c *passwordCounter) count(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.ObjectDefinition != nil && c.fields[s.ObjectDefinition.Name+"."+s.Name] {
				n++
			}
			n += c.count(s.SelectionSet)
		case *ast.InlineFragment:
			n += c.count(s.SelectionSet)
		case *ast.FragmentSpread:
			n += c.fragment(s.Name)
		}
		if n > 1 {
			return 2
		}
	}
	return n
}

func (c *passwordCounter) fragment(name string) int {
	if n, ok := c.fragments[name]; ok {
		return n
	}
	c.fragments[name] = 0 // a cycle (refused by validation anyway) counts nothing
	def := c.doc.Fragments.ForName(name)
	n := 0
	if def != nil {
		n = c.count(def.SelectionSet)
	}
	c.fragments[name] = n
	return n
}
