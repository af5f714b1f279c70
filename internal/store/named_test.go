package store

import (
	"slices"
	"strings"
	"testing"
)

func TestNumberedParameters(t *testing.T) {
	st := numbered(`SELECT @b::int, @a, @b || @y FROM t WHERE c = @c_d`)
	if want := `SELECT $1::int, $2, $1 || $3 FROM t WHERE c = $4`; st.sql != want {
		t.Fatalf("sql: got %s, want %s", st.sql, want)
	}
	if !slices.Equal(st.names, []string{"b", "a", "y", "c_d"}) {
		t.Fatalf("names: got %v", st.names)
	}
	args, err := st.args([]namedValue{{"a", 1}, {"c_d", 2}, {"b", 3}, {"y", 4}})
	if err != nil || !slices.Equal(args, []any{3, 1, 4, 2}) {
		t.Fatalf("args: got %v, %v", args, err)
	}
	for _, bad := range [][]namedValue{
		{{"a", 1}, {"b", 3}, {"y", 4}},                       // c_d missing
		{{"a", 1}, {"c_d", 2}, {"b", 3}, {"y", 4}, {"z", 5}}, // unknown
		{{"a", 1}, {"c_d", 2}, {"b", 3}, {"y", 4}, {"a", 5}}, // twice
	} {
		if _, err := st.args(bad); err == nil {
			t.Errorf("args(%v): got no error", bad)
		}
	}
}

// TestRecordStatementsName: the hot writes use names only where parameters go.
func TestRecordStatementsName(t *testing.T) {
	for _, st := range []namedStatement{record, recordEvent} {
		if strings.Contains(st.sql, "@") || strings.Contains(st.sql, "'$") {
			t.Errorf("a name was left, or one was taken from a literal:\n%s", st.sql)
		}
	}
	if got := len(recordEvent.names) - len(record.names); got != 9 {
		t.Errorf("the event statement adds %d parameters, want the 9 of its event, alert and timeline", got)
	}
	if !slices.Equal(recordEvent.names[:len(record.names)], record.names) {
		t.Errorf("the event statement numbers the shared parameters differently")
	}
}
