package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// jsonOperators maps seed-004 comparison operators to expr operators.
var jsonOperators = map[string]string{
	"$eq": "==", "$ne": "!=",
	"$gt": ">", "$gte": ">=",
	"$lt": "<", "$lte": "<=",
}

// jsonUserFeatures maps seed-004 user feature names to ours, and whether the
// feature is a count (whole numbers only).
var jsonUserFeatures = map[string]struct {
	name  string
	count bool
}{
	"tx_count_1h":    {"user.txCount1h", true},
	"tx_count_24h":   {"user.txCount24h", true},
	"tx_count_7d":    {"user.txCount7d", true},
	"tx_amount_1h":   {"user.amount1h", false},
	"tx_amount_24h":  {"user.amount24h", false},
	"avg_amount_24h": {"user.avgAmount24h", false},
}

// ConvertJSONCondition converts a seed-004 JSON condition document into an
// expr expression. Top-level keys are AND-ed:
//
//	{"amount": {"$gt": 10000, "$lte": 50000}}  amount > 10000 && amount <= 50000
//	{"time": {"hour": [0, 1, 2]}}              hour in [0, 1, 2]
//	{"device": {"new_device": true}}           device.new
//	{"user_features": {"tx_count_24h": 5}}     user.txCount24h >= 5
//
// Operators are $eq $ne $gt $gte $lt $lte. A user feature takes a number
// (at least, as in the seed) or an operator object. Unlike the seed, which
// ignores "new_device": false, false means a known device (!device.new), and
// hours are those of the transaction's time, not of the clock. Keys are
// emitted sorted, so equal documents give equal expressions.
func ConvertJSONCondition(doc string) (string, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber() // keep numbers exact until they are checked
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("invalid JSON condition: %w", err)
	}
	if strings.TrimSpace(doc[dec.InputOffset():]) != "" {
		return "", errors.New("invalid JSON condition: unexpected data after the document")
	}
	top, err := object("JSON condition", v)
	if err != nil {
		return "", err
	}
	var parts []string
	for _, key := range slices.Sorted(maps.Keys(top)) {
		var p []string
		switch key {
		case "amount":
			p, err = comparisons("amount", "amount", top[key], false)
		case "time":
			p, err = timeCondition(top[key])
		case "device":
			p, err = deviceCondition(top[key])
		case "user_features":
			p, err = userCondition(top[key])
		default:
			err = fmt.Errorf("unknown condition key %q (supported: amount, device, time, user_features)", key)
		}
		if err != nil {
			return "", err
		}
		parts = append(parts, p...)
	}
	return strings.Join(parts, " && "), nil
}

// object checks v is a non-empty JSON object: an empty one would match
// every transaction, which is never what a rule author means.
func object(what string, v any) (map[string]any, error) {
	m, ok := v.(map[string]any)
	switch {
	case !ok:
		return nil, fmt.Errorf("%s must be a JSON object, got %s", what, jsonType(v))
	case len(m) == 0:
		return nil, fmt.Errorf("%s is empty", what)
	}
	return m, nil
}

// comparisons converts an operator object such as {"$gt": 1, "$lt": 5}.
func comparisons(key, name string, v any, count bool) ([]string, error) {
	ops, err := object(key, v)
	if err != nil {
		return nil, err
	}
	var parts []string
	for _, op := range slices.Sorted(maps.Keys(ops)) {
		sym, ok := jsonOperators[op]
		if !ok {
			return nil, fmt.Errorf("%s: unknown operator %q (supported: $eq, $gt, $gte, $lt, $lte, $ne)", key, op)
		}
		n, err := number(key+"."+op, ops[op], count)
		if err != nil {
			return nil, err
		}
		parts = append(parts, name+" "+sym+" "+n)
	}
	return parts, nil
}

func timeCondition(v any) ([]string, error) {
	m, err := object("time", v)
	if err != nil {
		return nil, err
	}
	for key := range m {
		if key != "hour" {
			return nil, fmt.Errorf("time: unknown key %q (supported: hour)", key)
		}
	}
	list, ok := m["hour"].([]any)
	if !ok || len(list) == 0 {
		return nil, fmt.Errorf("time.hour must be a non-empty array of hours 0-23, got %s", jsonType(m["hour"]))
	}
	hours := make([]int, 0, len(list))
	for _, h := range list {
		n, ok := h.(json.Number)
		i, err := n.Int64()
		if !ok || err != nil || i < 0 || i > 23 {
			return nil, fmt.Errorf("time.hour: %s is not an hour 0-23", jsonText(h))
		}
		hours = append(hours, int(i))
	}
	slices.Sort(hours)
	hours = slices.Compact(hours)
	var b strings.Builder
	b.WriteString("hour in [")
	for i, h := range hours {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(h))
	}
	b.WriteString("]")
	return []string{b.String()}, nil
}

func deviceCondition(v any) ([]string, error) {
	m, err := object("device", v)
	if err != nil {
		return nil, err
	}
	for key := range m {
		if key != "new_device" {
			return nil, fmt.Errorf("device: unknown key %q (supported: new_device)", key)
		}
	}
	isNew, ok := m["new_device"].(bool)
	switch {
	case !ok:
		return nil, fmt.Errorf("device.new_device must be true or false, got %s", jsonType(m["new_device"]))
	case isNew:
		return []string{"device.new"}, nil
	}
	return []string{"!device.new"}, nil
}

func userCondition(v any) ([]string, error) {
	m, err := object("user_features", v)
	if err != nil {
		return nil, err
	}
	var parts []string
	for _, key := range slices.Sorted(maps.Keys(m)) {
		feat, ok := jsonUserFeatures[key]
		if !ok {
			return nil, fmt.Errorf("user_features: unknown feature %q (supported: %s)",
				key, strings.Join(slices.Sorted(maps.Keys(jsonUserFeatures)), ", "))
		}
		path := "user_features." + key
		var p []string
		if _, isObj := m[key].(map[string]any); isObj {
			p, err = comparisons(path, feat.name, m[key], feat.count)
		} else {
			var n string
			n, err = number(path, m[key], feat.count)
			p = []string{feat.name + " >= " + n} // seed semantics: a bare number is a minimum
		}
		if err != nil {
			return nil, err
		}
		parts = append(parts, p...)
	}
	return parts, nil
}

// number checks v is a finite JSON number (whole when count) and formats it
// as an expr literal.
func number(path string, v any, count bool) (string, error) {
	n, ok := v.(json.Number)
	if !ok {
		return "", fmt.Errorf("%s must be a number, got %s", path, jsonType(v))
	}
	if i, err := n.Int64(); err == nil {
		return strconv.FormatInt(i, 10), nil
	}
	f, err := n.Float64()
	switch {
	case err != nil || math.IsInf(f, 0):
		return "", fmt.Errorf("%s: %s is out of range", path, n)
	case count && f != math.Trunc(f):
		return "", fmt.Errorf("%s: %s is not a whole number", path, n)
	}
	// 'g' may use an exponent; expr reads 1e+21 as a float, and a whole
	// count too large for int64 must not become an int literal that overflows.
	return strconv.FormatFloat(f, 'g', -1, 64), nil
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	}
	return "an object"
}

// jsonText renders a decoded JSON value for an error message.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return jsonType(v)
	}
	return string(b)
}
