package engine

import (
	"cmp"
	"reflect"
	"slices"
	"strings"
	"unsafe"

	"github.com/expr-lang/expr/ast"
)

// Most conditions are comparisons of features with constants joined by
// && and ||. expr's VM reads every field through reflection and compares
// through type switches, which made scoring 50 rules cost ~7 µs; the same
// conditions compiled to typed Go closures over *Features cost a fraction of
// that. native compiles that subset from expr's checked and optimized AST,
// keeping expr's semantics (int op float compares as float, / is always
// float division, "in" a constant list is set membership). Anything else
// (builtins other than len, predicates, %, **, matches, ?:, ??, variables)
// runs on the VM; tests check both give the same answers.

type (
	boolFn    func(*Features) bool
	intFn     func(*Features) int
	floatFn   func(*Features) float64
	stringFn  func(*Features) string
	stringsFn func(*Features) []string
)

// nativeFields maps each feature name to its accessor, built from the
// struct so a feature is declared once. An accessor reads the field at its
// offset in Features: one load, as a hand-written closure would do.
var nativeFields = func() map[string]any {
	fields := map[string]any{}
	walkFeatures(func(name string, field reflect.StructField, offset uintptr) {
		at := func(f *Features) unsafe.Pointer { return unsafe.Add(unsafe.Pointer(f), offset) }
		switch field.Type {
		case reflect.TypeFor[bool]():
			fields[name] = boolFn(func(f *Features) bool { return *(*bool)(at(f)) })
		case reflect.TypeFor[int]():
			fields[name] = intFn(func(f *Features) int { return *(*int)(at(f)) })
		case reflect.TypeFor[float64]():
			fields[name] = floatFn(func(f *Features) float64 { return *(*float64)(at(f)) })
		case reflect.TypeFor[string]():
			fields[name] = stringFn(func(f *Features) string { return *(*string)(at(f)) })
		case reflect.TypeFor[[]string]():
			fields[name] = stringsFn(func(f *Features) []string { return *(*[]string)(at(f)) })
		default:
			panic("engine: feature " + name + " has type " + field.Type.String() + ", which rules cannot read natively")
		}
	})
	return fields
}()

// compileNative returns the condition as a closure, or nil when it uses
// anything outside the supported subset.
func compileNative(n ast.Node) boolFn {
	fn, _ := nativeNode(n).(boolFn)
	return fn
}

// nativeNode returns one of the *Fn types, or nil when unsupported.
func nativeNode(n ast.Node) any {
	switch n := n.(type) {
	case *ast.BoolNode:
		return constant(n.Value)
	case *ast.IntegerNode:
		// The checker may type an integer literal as float (as a function
		// argument); the VM then pushes a float, and so must we.
		switch t := n.Type(); {
		case t == nil || t.Kind() == reflect.Int:
			return constant(n.Value)
		case t.Kind() == reflect.Float64:
			return constant(float64(n.Value))
		}
	case *ast.FloatNode:
		return constant(n.Value)
	case *ast.StringNode:
		return constant(n.Value)
	case *ast.ConstantNode:
		return constant(n.Value)
	case *ast.IdentifierNode:
		return nativeFields[n.Value]
	case *ast.MemberNode:
		obj, ok1 := n.Node.(*ast.IdentifierNode)
		prop, ok2 := n.Property.(*ast.StringNode)
		if !ok1 || !ok2 || n.Optional || n.Method {
			return nil
		}
		return nativeFields[obj.Value+"."+prop.Value]
	case *ast.UnaryNode:
		return nativeUnary(n.Operator, nativeNode(n.Node))
	case *ast.BinaryNode:
		if set := nativeSet(n); set != nil {
			return set
		}
		return nativeBinary(n.Operator, nativeNode(n.Left), nativeNode(n.Right))
	case *ast.CallNode:
		return nativeInList(n)
	case *ast.BuiltinNode:
		if n.Name == "len" && len(n.Arguments) == 1 {
			if l, ok := nativeNode(n.Arguments[0]).(stringsFn); ok {
				return intFn(func(f *Features) int { return len(l(f)) })
			}
		}
	}
	return nil
}

// nativeInList compiles inList("name", value): the list is found by name at
// each evaluation, in the lists the features carry, so a list change needs
// no recompilation.
func nativeInList(n *ast.CallNode) any {
	callee, ok := n.Callee.(*ast.IdentifierNode)
	if !ok || callee.Value != "inList" || len(n.Arguments) != 2 {
		return nil
	}
	name, ok1 := n.Arguments[0].(*ast.StringNode)
	value, ok2 := nativeNode(n.Arguments[1]).(stringFn)
	if !ok1 || !ok2 {
		return nil
	}
	list := name.Value
	return boolFn(func(f *Features) bool { return f.inList(list, value(f)) })
}

func constant(v any) any {
	switch v := v.(type) {
	case bool:
		return boolFn(func(*Features) bool { return v })
	case int:
		return intFn(func(*Features) int { return v })
	case float64:
		return floatFn(func(*Features) float64 { return v })
	case string:
		return stringFn(func(*Features) string { return v })
	}
	return nil
}

func nativeUnary(op string, x any) any {
	switch x := x.(type) {
	case boolFn:
		if op == "!" || op == "not" {
			return boolFn(func(f *Features) bool { return !x(f) })
		}
	case intFn:
		switch op {
		case "-":
			return intFn(func(f *Features) int { return -x(f) })
		case "+":
			return x
		}
	case floatFn:
		switch op {
		case "-":
			return floatFn(func(f *Features) float64 { return -x(f) })
		case "+":
			return x
		}
	}
	return nil
}

// nativeSet handles "x in [constants]", which expr's optimizer turns into
// membership of a constant set.
func nativeSet(n *ast.BinaryNode) any {
	c, ok := n.Right.(*ast.ConstantNode)
	if n.Operator != "in" || !ok {
		return nil
	}
	switch set := c.Value.(type) {
	case map[string]struct{}:
		if x, ok := nativeNode(n.Left).(stringFn); ok {
			return boolFn(func(f *Features) bool { _, in := set[x(f)]; return in })
		}
	case map[int]struct{}:
		if x, ok := nativeNode(n.Left).(intFn); ok {
			return boolFn(func(f *Features) bool { _, in := set[x(f)]; return in })
		}
	}
	return nil
}

func nativeBinary(op string, l, r any) any {
	if l == nil || r == nil {
		return nil
	}
	switch op {
	case "&&", "and", "||", "or":
		lb, ok1 := l.(boolFn)
		rb, ok2 := r.(boolFn)
		if !ok1 || !ok2 {
			return nil
		}
		if op == "&&" || op == "and" {
			return boolFn(func(f *Features) bool { return lb(f) && rb(f) })
		}
		return boolFn(func(f *Features) bool { return lb(f) || rb(f) })
	case "in":
		x, ok1 := l.(stringFn)
		list, ok2 := r.(stringsFn)
		if !ok1 || !ok2 {
			return nil
		}
		return boolFn(func(f *Features) bool { return slices.Contains(list(f), x(f)) })
	}
	switch l := l.(type) {
	case boolFn:
		if r, ok := r.(boolFn); ok {
			return equality(op, l, r)
		}
	case stringFn:
		if r, ok := r.(stringFn); ok {
			return stringOp(op, l, r)
		}
	case intFn:
		if r, ok := r.(intFn); ok {
			return intOp(op, l, r)
		}
	}
	lf, ok1 := asFloat(l)
	rf, ok2 := asFloat(r)
	if !ok1 || !ok2 {
		return nil
	}
	return floatOp(op, lf, rf)
}

// asFloat widens an int operand as expr does when the other side is float.
func asFloat(x any) (floatFn, bool) {
	switch x := x.(type) {
	case floatFn:
		return x, true
	case intFn:
		return func(f *Features) float64 { return float64(x(f)) }, true
	}
	return nil, false
}

func intOp(op string, l, r intFn) any {
	switch op {
	case "+":
		return intFn(func(f *Features) int { return l(f) + r(f) })
	case "-":
		return intFn(func(f *Features) int { return l(f) - r(f) })
	case "*":
		return intFn(func(f *Features) int { return l(f) * r(f) })
	case "/":
		return floatFn(func(f *Features) float64 { return float64(l(f)) / float64(r(f)) })
	}
	return ordered(op, l, r)
}

func floatOp(op string, l, r floatFn) any {
	switch op {
	case "+":
		return floatFn(func(f *Features) float64 { return l(f) + r(f) })
	case "-":
		return floatFn(func(f *Features) float64 { return l(f) - r(f) })
	case "*":
		return floatFn(func(f *Features) float64 { return l(f) * r(f) })
	case "/":
		return floatFn(func(f *Features) float64 { return l(f) / r(f) })
	}
	return ordered(op, l, r)
}

func stringOp(op string, l, r stringFn) any {
	switch op {
	case "+":
		return stringFn(func(f *Features) string { return l(f) + r(f) })
	case "contains":
		return boolFn(func(f *Features) bool { return strings.Contains(l(f), r(f)) })
	case "startsWith":
		return boolFn(func(f *Features) bool { return strings.HasPrefix(l(f), r(f)) })
	case "endsWith":
		return boolFn(func(f *Features) bool { return strings.HasSuffix(l(f), r(f)) })
	}
	return ordered(op, l, r)
}

func equality[T comparable](op string, l, r func(*Features) T) any {
	switch op {
	case "==":
		return boolFn(func(f *Features) bool { return l(f) == r(f) })
	case "!=":
		return boolFn(func(f *Features) bool { return l(f) != r(f) })
	}
	return nil
}

func ordered[T cmp.Ordered](op string, l, r func(*Features) T) any {
	switch op {
	case "<":
		return boolFn(func(f *Features) bool { return l(f) < r(f) })
	case "<=":
		return boolFn(func(f *Features) bool { return l(f) <= r(f) })
	case ">":
		return boolFn(func(f *Features) bool { return l(f) > r(f) })
	case ">=":
		return boolFn(func(f *Features) bool { return l(f) >= r(f) })
	}
	return equality(op, l, r)
}
