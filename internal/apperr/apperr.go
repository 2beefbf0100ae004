// Package apperr is the application's small error model: a transport-neutral
// kind, a stable reason code that doubles as the i18n message key, and the
// arguments the message needs.
//
// Domain and adapter code return *Error values; the web layer maps Kind to an
// HTTP status in one table and translates Code into the reader's language.
package apperr

import (
	"errors"
	"fmt"
)

// Kind is the transport-neutral class of an error.
type Kind string

// The kinds. The web layer maps each to one HTTP status.
const (
	BadRequest   Kind = "bad_request"  // unreadable request (malformed JSON, unknown field): 400
	Invalid      Kind = "invalid"      // bad input: 422
	NotFound     Kind = "not_found"    // 404
	Conflict     Kind = "conflict"     // state conflict, wrong site, concurrent change: 409
	Unauthorized Kind = "unauthorized" // no or bad credentials: 401
	Forbidden    Kind = "forbidden"    // role or site may not: 403
	TooMany      Kind = "too_many"     // rate limited: 429
	Unavailable  Kind = "unavailable"  // dependency down: 503
	Internal     Kind = "internal"     // anything else: 500, logged, generic message
)

// Error is an application error. Code is stable (clients may switch on it)
// and is the translation key of the message; Args fill the message template.
type Error struct {
	Kind Kind
	Code string
	Args map[string]any
	// Field names the offending input field, when there is one.
	Field string
	// Err is an underlying cause, never shown to users.
	Err error
}

func (e *Error) Error() string {
	s := string(e.Kind) + ": " + e.Code
	if e.Field != "" {
		s += " (" + e.Field + ")"
	}
	if len(e.Args) > 0 {
		s += fmt.Sprintf(" %v", e.Args)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an error of the given kind and code.
func New(kind Kind, code string) *Error { return &Error{Kind: kind, Code: code} }

// With returns a copy of e with the argument set.
func (e *Error) With(key string, val any) *Error {
	c := *e
	c.Args = make(map[string]any, len(e.Args)+1)
	for k, v := range e.Args {
		c.Args[k] = v
	}
	c.Args[key] = val
	return &c
}

// OnField returns a copy of e naming the offending field.
func (e *Error) OnField(field string) *Error {
	c := *e
	c.Field = field
	if c.Args == nil {
		c.Args = map[string]any{}
	}
	return &c
}

// Wrap returns a copy of e with a cause attached.
func (e *Error) Wrap(err error) *Error {
	c := *e
	c.Err = err
	return &c
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// KindOf returns the Kind of err: Internal when err is not an *Error.
func KindOf(err error) Kind {
	if e := As(err); e != nil {
		return e.Kind
	}
	return Internal
}

// CodeOf returns the Code of err, or "internal" when err is not an *Error.
func CodeOf(err error) string {
	if e := As(err); e != nil {
		return e.Code
	}
	return "internal"
}
