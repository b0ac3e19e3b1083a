package socketservice

import (
	"errors"
	"fmt"
)

// Code classifies an error for clients. Codes are part of the wire contract:
// clients switch on them, so they never change meaning.
type Code string

// The codes socketfx itself produces. Users may define their own codes; any
// string in UPPER_SNAKE_CASE works.
const (
	// CodeValidation: the payload did not decode into the handler's input
	// type, or failed its validation.
	CodeValidation Code = "VALIDATION_PAYLOAD_ERROR"
	// CodeUnauthorized: the connection or event needs an identity.
	CodeUnauthorized Code = "UNAUTHORIZED"
	// CodeForbidden: the identity may not do this.
	CodeForbidden Code = "FORBIDDEN"
	// CodeNotFound: no handler for the event (see Config.UnknownEvents), or a
	// resource the handler looked for does not exist.
	CodeNotFound Code = "NOT_FOUND"
	// CodeInvalidNamespace: the client connected to a namespace no service
	// serves (connect_error data; the message stays "Invalid namespace", as
	// with every Socket.IO server).
	CodeInvalidNamespace Code = "INVALID_NAMESPACE"
	// CodeRateLimited: the socket sent more than its rate limit allows.
	CodeRateLimited Code = "RATE_LIMITED"
	// CodeTimeout: the handler ran past its deadline.
	CodeTimeout Code = "TIMEOUT"
	// CodeUnavailable: the server is shutting down or not started.
	CodeUnavailable Code = "SERVICE_UNAVAILABLE"
	// CodeInternal: anything else. The message is generic unless
	// Config.ExposeErrors is set.
	CodeInternal Code = "INTERNAL_SERVER_ERROR"
)

// internalMessage is what clients see for errors that are not *Error.
const internalMessage = "internal server error"

// Detail describes one problem with one field of a payload.
type Detail struct {
	Field   string `json:"field"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// Error is an error with a Code, the contract with clients. Its message and
// details are sent to the client as they are: put nothing in them that the
// client should not read. Wrap an internal cause with WithCause; the cause is
// logged but never sent.
//
// An *Error is immutable once built and safe for concurrent use.
type Error struct {
	code    Code
	message string
	details []Detail
	data    map[string]any
	cause   error
}

// NewError returns an error with the given code and client-facing message.
func NewError(code Code, message string) *Error {
	return &Error{code: code, message: message}
}

// Errorf is NewError with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{code: code, message: fmt.Sprintf(format, args...)}
}

// Code returns the error's code.
func (e *Error) Code() Code { return e.code }

// Message returns the client-facing message.
func (e *Error) Message() string { return e.message }

// Details returns the per-field problems, if any.
func (e *Error) Details() []Detail { return e.details }

// Data returns extra values sent to the client beside code and message.
func (e *Error) Data() map[string]any { return e.data }

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.code, e.message, e.cause)
	}
	return fmt.Sprintf("%s: %s", e.code, e.message)
}

// Unwrap returns the cause set with WithCause.
func (e *Error) Unwrap() error { return e.cause }

// WithDetails returns a copy of e carrying the given field details.
func (e *Error) WithDetails(d ...Detail) *Error {
	c := *e
	c.details = append(append([]Detail(nil), e.details...), d...)
	return &c
}

// WithData returns a copy of e carrying an extra value for the client, sent
// as a key of the error object (code and message cannot be overwritten
// this way; a "details" key gives way to the error's details when it has
// any).
func (e *Error) WithData(key string, value any) *Error {
	c := *e
	c.data = make(map[string]any, len(e.data)+1)
	for k, v := range e.data {
		c.data[k] = v
	}
	c.data[key] = value
	return &c
}

// WithCause returns a copy of e that wraps cause for errors.Is/As and logs.
// The cause is never sent to clients.
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

// CodeOf returns the code of the first *Error in err's chain, CodeInternal
// for any other non-nil error, and "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.code
	}
	return CodeInternal
}

// wireError renders err for a client. Errors that are not *Error become
// CodeInternal with a generic message unless expose is set.
func wireError(err error, expose bool) map[string]any {
	var e *Error
	if !errors.As(err, &e) {
		msg := internalMessage
		if expose {
			msg = err.Error()
		}
		return map[string]any{"code": string(CodeInternal), "message": msg}
	}
	out := make(map[string]any, 3+len(e.data))
	for k, v := range e.data {
		out[k] = v
	}
	out["code"] = string(e.code)
	out["message"] = e.message
	if len(e.details) > 0 {
		out["details"] = e.details
	}
	return out
}

// Errors socketfx returns to Go callers (never sent to clients).
var (
	// ErrNotRunning is returned by handles used before the fx app started or
	// after it stopped.
	ErrNotRunning = errors.New("socketservice: server is not running")
	// ErrUnknownNamespace is returned for a namespace no service serves.
	ErrUnknownNamespace = errors.New("socketservice: unknown namespace")
	// ErrDisconnected is returned when emitting to a socket that is gone.
	ErrDisconnected = errors.New("socketservice: socket disconnected")
)
