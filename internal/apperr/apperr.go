// Package apperr is the one error type users see. A handler returns it; the web package maps
// its Code to an HTTP status and renders it as a page or as JSON. Any other error is internal:
// logged in full, shown to the client only as "internal error".
package apperr

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an error for the client.
type Code string

// The codes, each mapped to one HTTP status by web.
const (
	Invalid              Code = "invalid"               // 422: the input breaks a rule; Fields says where
	BadRequest           Code = "bad_request"           // 400: the request itself is malformed
	Unauthenticated      Code = "unauthenticated"       // 401
	Forbidden            Code = "forbidden"             // 403
	NotFound             Code = "not_found"             // 404
	Conflict             Code = "conflict"              // 409
	PreconditionFailed   Code = "precondition_failed"   // 412: If-Match names a stale version
	TooLarge             Code = "too_large"             // 413
	PreconditionRequired Code = "precondition_required" // 428: If-Match missing
	TooManyRequests      Code = "too_many_requests"     // 429: see RetryAfter
	Internal             Code = "internal"              // 500
)

// Error is safe to show: Message (an English catalogue key, translated when rendered) and
// Fields (field name → message key) never carry internal detail.
type Error struct {
	Code    Code
	Message string
	Fields  map[string]string
	// FieldArgs holds values for the verbs of a field's message, e.g. the 150 of
	// "Use at most %s characters.".
	FieldArgs  map[string][]any
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if len(e.Fields) > 0 {
		return fmt.Sprintf("%s: %s %v", e.Code, e.Message, e.Fields)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// New returns an error with code and message.
func New(code Code, message string) *Error { return &Error{Code: code, Message: message} }

// InvalidFields returns an Invalid error for the given field messages.
func InvalidFields(message string, fields map[string]string) *Error {
	return &Error{Code: Invalid, Message: message, Fields: fields}
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// CodeOf returns the code of err: Internal unless err wraps an *Error.
func CodeOf(err error) Code {
	if e, ok := As(err); ok {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }
