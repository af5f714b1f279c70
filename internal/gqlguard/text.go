package gqlguard

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/smartfinance/riskgraph/internal/apperr"
)

// Text refuses an operation any of whose string inputs — in its variables
// or written in the document, at any depth, JSON keys included — holds a NUL
// (PostgreSQL cannot store one), invalid UTF-8, or more than MaxBytes bytes.
// It runs before any resolver, so no write ever starts with such a value.
type Text struct {
	MaxBytes int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = Text{}

// ExtensionName names the extension for gqlgen.
func (Text) ExtensionName() string { return "TextInputs" }

// Validate accepts any schema.
func (Text) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext checks every string the operation brings in.
func (t Text) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil {
		return nil
	}
	for name, v := range rc.Variables {
		if path, msg := t.checkJSON(v, ""); msg != "" {
			return textError(name, path, "variable $"+name, msg)
		}
	}
	for _, def := range rc.Operation.VariableDefinitions {
		if path, msg := t.checkValue(def.DefaultValue, ""); msg != "" {
			return textError(def.Variable, path, "the default of $"+def.Variable, msg)
		}
	}
	check := func(set ast.SelectionSet) *gqlerror.Error {
		var found *gqlerror.Error
		walkArguments(set, func(field string, arg *ast.Argument) bool {
			if path, msg := t.checkValue(arg.Value, ""); msg != "" {
				found = textError(arg.Name, path, fmt.Sprintf("argument %q of %s", arg.Name, field), msg)
				return false
			}
			return true
		})
		return found
	}
	// Fragments are checked once each, not once per spread.
	if err := check(rc.Operation.SelectionSet); err != nil {
		return err
	}
	for _, frag := range rc.Doc.Fragments {
		if err := check(frag.SelectionSet); err != nil {
			return err
		}
	}
	return nil
}

// textError names the offending input the way resolvers do: the path inside
// the argument or variable ("location.city"), or its own name when it is the value.
func textError(name, path, where, msg string) *gqlerror.Error {
	field := strings.TrimPrefix(path, ".")
	if field == "" {
		field = name
	}
	return &gqlerror.Error{
		Message:    fmt.Sprintf("%s: %s: %s", where, field, msg),
		Extensions: map[string]any{"code": string(apperr.BadInput), "field": field},
	}
}

// checkString explains what is wrong with s, "" when nothing is.
func (t Text) checkString(s string) string {
	switch {
	case t.MaxBytes > 0 && len(s) > t.MaxBytes:
		return fmt.Sprintf("a text of %d bytes is longer than the limit of %d", len(s), t.MaxBytes)
	case !utf8.ValidString(s):
		return "text is not valid UTF-8"
	case strings.IndexByte(s, 0) >= 0:
		return "text contains a NUL character"
	}
	return ""
}

// checkJSON checks a decoded variable value, returning where the fault is and what it is.
func (t Text) checkJSON(v any, path string) (string, string) {
	switch v := v.(type) {
	case string:
		return path, t.checkString(v)
	case []any:
		for i, item := range v {
			if at, msg := t.checkJSON(item, fmt.Sprintf("%s[%d]", path, i)); msg != "" {
				return at, msg
			}
		}
	case map[string]any:
		for key, item := range v {
			if msg := t.checkString(key); msg != "" {
				return path, "a key: " + msg
			}
			if at, msg := t.checkJSON(item, path+"."+key); msg != "" {
				return at, msg
			}
		}
	}
	return "", ""
}

// checkValue checks a value written in the document, returning where the fault is and what it is.
func (t Text) checkValue(v *ast.Value, path string) (string, string) {
	if v == nil {
		return "", ""
	}
	switch v.Kind {
	case ast.StringValue, ast.BlockValue:
		return path, t.checkString(v.Raw)
	case ast.ListValue:
		for i, child := range v.Children {
			if at, msg := t.checkValue(child.Value, fmt.Sprintf("%s[%d]", path, i)); msg != "" {
				return at, msg
			}
		}
	case ast.ObjectValue:
		for _, child := range v.Children {
			if at, msg := t.checkValue(child.Value, path+"."+child.Name); msg != "" {
				return at, msg
			}
		}
	}
	return "", ""
}

// walkArguments calls fn for each argument of each field and directive in set
// (fragment spreads are not followed), stopping when fn returns false.
func walkArguments(set ast.SelectionSet, fn func(field string, arg *ast.Argument) bool) bool {
	directives := func(ds ast.DirectiveList) bool {
		for _, d := range ds {
			for _, arg := range d.Arguments {
				if !fn("@"+d.Name, arg) {
					return false
				}
			}
		}
		return true
	}
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			for _, arg := range sel.Arguments {
				if !fn(sel.Name, arg) {
					return false
				}
			}
			if !directives(sel.Directives) || !walkArguments(sel.SelectionSet, fn) {
				return false
			}
		case *ast.InlineFragment:
			if !directives(sel.Directives) || !walkArguments(sel.SelectionSet, fn) {
				return false
			}
		case *ast.FragmentSpread:
			if !directives(sel.Directives) {
				return false
			}
		}
	}
	return true
}
