// Package page implements Relay-style keyset pagination arguments and opaque cursors.
package page

import (
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"

	"github.com/smartfinance/riskgraph/internal/apperr"
)

// Limits of a page size.
const (
	DefaultSize = 20
	MaxSize     = 100
)

// Request is a validated page request: Size rows after the row whose key is After (0 = from the start).
// Under an order other than the default, the row's sort key is AfterKey
// (empty when the order is by ID alone) and Order names the order.
type Request struct {
	Size     int
	After    int64
	Order    string
	AfterKey string
}

// Parse validates first/after as clients send them.
func Parse(first *int, after *string) (Request, error) {
	r := Request{Size: DefaultSize}
	if first != nil {
		if *first < 1 || *first > MaxSize {
			return r, apperr.Invalid("first", "must be between 1 and "+strconv.Itoa(MaxSize))
		}
		r.Size = *first
	}
	if after != nil && *after != "" {
		key, err := DecodeCursor(*after)
		if err != nil {
			return r, err
		}
		r.After = key
	}
	return r, nil
}

// ParseOrdered is Parse for a listing sorted by order, a tag such as
// "SCORE:DESC" ("" for the default order, whose cursors are Cursor's). A
// cursor from another order is refused: its position means nothing here.
func ParseOrdered(first *int, after *string, order string) (Request, error) {
	if after == nil || *after == "" {
		r, err := Parse(first, nil)
		r.Order = order
		return r, err
	}
	raw, _ := base64.RawURLEncoding.DecodeString(*after)
	cursorOrder, key, id := "", "", string(raw)
	if rest, ok := strings.CutPrefix(string(raw), orderedPrefix); ok {
		// ORDER:DIR:key:id, the key possibly empty.
		parts := strings.SplitN(rest, ":", 4)
		if len(parts) != 4 {
			return Request{}, apperr.Invalid("after", "is not a valid cursor")
		}
		cursorOrder, key, id = parts[0]+":"+parts[1], parts[2], cursorPrefix+parts[3]
	} else if !strings.HasPrefix(id, cursorPrefix) {
		return Request{}, apperr.Invalid("after", "is not a valid cursor")
	}
	if cursorOrder != order {
		return Request{}, apperr.Invalid("after", "is a cursor of another order: start again without after")
	}
	if key != "" && !keyPattern.MatchString(key) {
		return Request{}, apperr.Invalid("after", "is not a valid cursor")
	}
	encoded := base64.RawURLEncoding.EncodeToString([]byte(id))
	r, err := Parse(first, &encoded)
	r.Order, r.AfterKey = order, key
	return r, err
}

// Sort keys are decimal numbers (scores, amounts), bound as numeric.
var keyPattern = regexp.MustCompile(`^-?[0-9]{1,20}(\.[0-9]{1,10})?$`)

const (
	cursorPrefix  = "c1:"
	orderedPrefix = "c2:"
)

// OrderedCursor encodes a row's position under order: its sort key and ID.
// The default order ("") has Cursor's form.
func OrderedCursor(order, key string, id int64) string {
	if order == "" {
		return Cursor(id)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(orderedPrefix + order + ":" + key + ":" + strconv.FormatInt(id, 10)))
}

// Cursor encodes a row key as an opaque cursor.
func Cursor(key int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(key, 10)))
}

// DecodeCursor reverses Cursor.
func DecodeCursor(c string) (int64, error) {
	bad := apperr.Invalid("after", "is not a valid cursor")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, bad
	}
	s, ok := strings.CutPrefix(string(raw), cursorPrefix)
	if !ok {
		return 0, bad
	}
	key, err := strconv.ParseInt(s, 10, 64)
	if err != nil || key <= 0 {
		return 0, bad
	}
	return key, nil
}

// Result is one page of rows: fetch Size+1 rows, pass them here.
type Result[T any] struct {
	Rows        []T
	HasNextPage bool
	TotalCount  int
	// Order and Keys are set by ordered listings: the order's tag and each row's sort key.
	Order string
	Keys  []string
}

// Cursor is the cursor of row i, whose ID is id.
func (r Result[T]) Cursor(i int, id int64) string {
	key := ""
	if i < len(r.Keys) {
		key = r.Keys[i]
	}
	return OrderedCursor(r.Order, key, id)
}

// Trim cuts the look-ahead row and records whether there is a next page.
func Trim[T any](rows []T, size, total int) Result[T] {
	res := Result[T]{Rows: rows, TotalCount: total}
	if len(rows) > size {
		res.Rows = rows[:size]
		res.HasNextPage = true
	}
	return res
}

// Limit is the row count to fetch: one more than the page, to learn if another follows.
func (r Request) Limit() int64 { return int64(r.Size) + 1 }
