package store

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
)

// namedStatement is SQL whose parameters were written @name, numbered $1… in
// the order the names first appear.
type namedStatement struct {
	sql   string
	names []string
	index map[string]int
}

var parameterName = regexp.MustCompile(`@([a-z_]+)`)

// numbered turns each @name in src into its $n. It rewrites every @name, so
// the SQL given must have no @ in literals or operators (the hot writes have
// none; TestRecordStatementsName checks what is left).
func numbered(src string) namedStatement {
	st := namedStatement{index: map[string]int{}}
	st.sql = parameterName.ReplaceAllStringFunc(src, func(m string) string {
		name := m[1:]
		i, ok := st.index[name]
		if !ok {
			i = len(st.names)
			st.index[name] = i
			st.names = append(st.names, name)
		}
		return "$" + strconv.Itoa(i+1)
	})
	return st
}

// namedValue is one parameter's value.
type namedValue struct {
	name  string
	value any
}

// args orders values as the statement numbers them; a name missing, unknown
// or given twice is an error, so the call and the SQL cannot drift apart.
func (st namedStatement) args(values []namedValue) ([]any, error) {
	args := make([]any, len(st.names))
	seen := make([]bool, len(st.names))
	for _, v := range values {
		i, ok := st.index[v.name]
		if !ok || seen[i] {
			return nil, fmt.Errorf("store: parameter @%s is unknown or given twice", v.name)
		}
		args[i], seen[i] = v.value, true
	}
	if i := slices.Index(seen, false); i >= 0 {
		return nil, fmt.Errorf("store: parameter @%s has no value", st.names[i])
	}
	return args, nil
}
