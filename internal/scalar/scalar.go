// Package scalar implements the API's custom GraphQL scalars: integer IDs
// serialized as strings, exact Decimal money, and JSON documents.
package scalar

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
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

// Money bounds. Every Decimal input is held to them before any arithmetic:
// a value such as "1e999999999" parses cheaply but makes every later
// rescaling build a billion-digit integer.
const (
	// MaxIntegerDigits is the most digits before the decimal point (below 10^18).
	MaxIntegerDigits = 18
	// MaxFractionDigits is the money scale; trailing zeros beyond it are allowed ("1.500").
	MaxFractionDigits = 2
	// maxDecimalLen bounds the text of one Decimal input.
	maxDecimalLen = 64
)

// decimalSyntax is a plain or exponent decimal; the bounds below are checked on its parts.
var decimalSyntax = regexp.MustCompile(`^[+-]?([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$`)

// maxExponentDigits keeps the exponent's arithmetic in int range; any
// nonzero value with a larger exponent is out of range anyway.
const maxExponentDigits = 3

// UnmarshalDecimal accepts a string or a number within the money bounds and keeps it exact.
func UnmarshalDecimal(v any) (decimal.Decimal, error) {
	var s string
	switch v := v.(type) {
	case string:
		s = strings.TrimSpace(v)
	case json.Number:
		s = v.String()
	case int:
		s = strconv.Itoa(v)
	case int64:
		s = strconv.FormatInt(v, 10)
	case float64:
		// A float literal in the query document; its shortest form is what the client wrote.
		s = strconv.FormatFloat(v, 'g', -1, 64)
	default:
		return decimal.Decimal{}, badInputf("Decimal must be a string or number, got %T", v)
	}
	return ParseDecimal(s)
}

// ParseDecimal reads a decimal number, refusing anything outside the money
// bounds from its text alone, before a decimal value exists.
func ParseDecimal(s string) (decimal.Decimal, error) {
	if len(s) > maxDecimalLen {
		return decimal.Decimal{}, badInputf("Decimal is longer than %d characters", maxDecimalLen)
	}
	m := decimalSyntax.FindStringSubmatch(s)
	if m == nil || m[1]+m[2] == "" {
		return decimal.Decimal{}, badInputf("%q is not a decimal number", truncate(s))
	}
	outOfRange := badInputf("%q is out of range: at most %d integer and %d fraction digits",
		truncate(s), MaxIntegerDigits, MaxFractionDigits)
	exp := 0
	if digits := strings.TrimLeft(strings.TrimLeft(m[3], "+-"), "0"); len(digits) > maxExponentDigits {
		return decimal.Decimal{}, outOfRange
	} else if m[3] != "" {
		exp, _ = strconv.Atoi(m[3]) // a sign and at most three digits: cannot fail
	}
	digits := m[1] + m[2]
	point := len(m[1]) + exp // where the decimal point falls in digits
	first := len(digits) - len(strings.TrimLeft(digits, "0"))
	last := len(strings.TrimRight(digits, "0"))
	if first < len(digits) && (point-first > MaxIntegerDigits || last-point > MaxFractionDigits) {
		return decimal.Decimal{}, outOfRange
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
