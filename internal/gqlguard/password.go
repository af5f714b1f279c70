package gqlguard

import (
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// FindPasswordFields returns the "Type.field" coordinates of every field that
// checks or sets a password: any field with an argument whose name, or whose
// input type's field at any depth, contains "password" (login,
// changePassword, register, createUser, and any added later). Each costs an
// argon2id hash (19 MiB, tens of milliseconds) and may be a guess.
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
