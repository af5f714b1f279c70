// Package page implements Relay-style keyset pagination arguments and opaque cursors.
package page

import (
	"encoding/base64"
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
type Request struct {
	Size  int
	After int64
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

const cursorPrefix = "c1:"

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
