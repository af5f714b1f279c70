// Package scalar implements the API's custom GraphQL scalars: integer IDs
// serialized as strings, exact Decimal money, and JSON documents.
package scalar

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/shopspring/decimal"

	"github.com/smartfinance/riskgraph/internal/apperr"
)

// MarshalID writes an int64 ID as a JSON string, as GraphQL's ID requires.
func MarshalID(id int64) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		io.WriteString(w, `"`+strconv.FormatInt(id, 10)+`"`) //nolint:errcheck
	})
}

// UnmarshalID accepts a decimal string or integer.
func UnmarshalID(v any) (int64, error) {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case json.Number:
		s = v.String()
	case int:
		return positiveID(int64(v))
	case int64:
		return positiveID(v)
	default:
		return 0, badInputf("ID must be a string, got %T", v)
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, badInputf("ID %q is not a valid identifier", truncate(s))
	}
	return positiveID(id)
}

func positiveID(id int64) (int64, error) {
	if id <= 0 {
		return 0, badInput("ID must be positive")
	}
	return id, nil
}

// MarshalDecimal writes money as a string with two fraction digits ("12000.00").
func MarshalDecimal(d decimal.Decimal) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		io.WriteString(w, `"`+d.StringFixed(2)+`"`) //nolint:errcheck
	})
}

// UnmarshalDecimal accepts a string or a number and keeps it exact.
func UnmarshalDecimal(v any) (decimal.Decimal, error) {
	var s string
	switch v := v.(type) {
	case string:
		s = strings.TrimSpace(v)
	case json.Number:
		s = v.String()
	case int:
		return decimal.NewFromInt(int64(v)), nil
	case int64:
		return decimal.NewFromInt(v), nil
	case float64:
		// A float literal in the query document; its shortest form is what the client wrote.
		s = strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return decimal.Decimal{}, badInputf("Decimal must be a string or number, got %T", v)
	}
	if len(s) > 64 {
		return decimal.Decimal{}, badInput("Decimal is too long")
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, badInputf("%q is not a decimal number", truncate(s))
	}
	return d, nil
}

// MarshalJSON writes a stored JSON document as a GraphQL JSON value.
func MarshalJSON(raw json.RawMessage) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		if len(raw) == 0 {
			io.WriteString(w, "null") //nolint:errcheck
			return
		}
		w.Write(raw) //nolint:errcheck
	})
}

// UnmarshalJSON accepts any GraphQL input value as a JSON document.
func UnmarshalJSON(v any) (json.RawMessage, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, badInputf("JSON value cannot be encoded: %v", err)
	}
	return raw, nil
}

func truncate(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

// Scalar errors are the client's: they surface as BAD_USER_INPUT.
func badInput(msg string) error { return apperr.New(apperr.BadInput, msg) }

func badInputf(format string, args ...any) error { return badInput(fmt.Sprintf(format, args...)) }

// MarshalTime writes an RFC 3339 timestamp.
func MarshalTime(t time.Time) graphql.Marshaler { return graphql.MarshalTime(t) }

// UnmarshalTime reads an RFC 3339 timestamp, refusing anything else as the client's error.
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, badInput("Time must be an RFC 3339 string")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, badInputf("%q is not an RFC 3339 time such as 2026-11-22T08:30:00Z", truncate(s))
	}
	return t, nil
}
