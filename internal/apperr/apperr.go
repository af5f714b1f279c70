// Package apperr defines the error kinds every layer speaks and their client codes.
// Use cases return these; the GraphQL error presenter turns them into extensions.code,
// and anything else becomes INTERNAL without leaking its text.
package apperr

import (
	"errors"
	"fmt"
	"time"
)

// Code is the client-facing error code carried in extensions.code.
type Code string

// The error codes of the API contract.
const (
	Unauthenticated Code = "UNAUTHENTICATED"
	Forbidden       Code = "FORBIDDEN"
	NotFound        Code = "NOT_FOUND"
	BadInput        Code = "BAD_USER_INPUT"
	Conflict        Code = "CONFLICT"
	RateLimited     Code = "RATE_LIMITED"
	Unavailable     Code = "UNAVAILABLE"
	Internal        Code = "INTERNAL"
)

// Error is an error safe to show to a client.
type Error struct {
	Code    Code
	Message string
	// Field names the offending input field for BAD_USER_INPUT.
	Field string
	// RetryAfter tells a RATE_LIMITED client when to come back.
	RetryAfter time.Duration
	// Err is the cause, kept for logs only.
	Err error
	// sentinel marks the package's Err* values, which errors.Is matches by code.
	sentinel bool
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotFound) and the like match any *Error of the sentinel's code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.sentinel && t.Code == e.Code
}

// New returns an error of the given code and message.
func New(code Code, msg string) *Error { return &Error{Code: code, Message: msg} }

// Invalid reports bad input in a named field.
func Invalid(field, msg string) *Error {
	return &Error{Code: BadInput, Field: field, Message: field + ": " + msg}
}

// Wrap attaches a client-safe code and message to a cause.
func Wrap(code Code, msg string, err error) *Error {
	return &Error{Code: code, Message: msg, Err: err}
}

// The one family of each kind: returned as they are, and as errors.Is targets
// they match any error of their code, whatever its message.
var (
	ErrNotFound        = &Error{Code: NotFound, Message: "not found", sentinel: true}
	ErrConflict        = &Error{Code: Conflict, Message: "conflicts with existing data", sentinel: true}
	ErrUnauthenticated = &Error{Code: Unauthenticated, Message: "authentication required", sentinel: true}
	ErrForbidden       = &Error{Code: Forbidden, Message: "not allowed", sentinel: true}
	ErrUnavailable     = &Error{Code: Unavailable, Message: "temporarily unavailable; retry", sentinel: true}
)

// CodeOf returns the code of err, Internal when it carries none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}
