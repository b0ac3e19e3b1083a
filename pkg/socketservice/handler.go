package socketservice

import (
	"context"
	"errors"
	"reflect"

	"github.com/socketfx/socketfx/internal/decode"
)

// Message is an incoming event as the untyped core sees it. Middleware may
// read it, and a before-middleware may replace Args (for example with a value
// already decoded into the handler's input type, which then passes through
// untouched).
type Message struct {
	// Event is the full event name, including any group prefix.
	Event string
	// Args are the event's arguments as decoded from the wire (map[string]any,
	// []any, float64, string, bool, nil, or []byte for binary), without the
	// ack.
	Args []any
	// WantsAck reports whether the client asked for an acknowledgement.
	WantsAck bool
}

// HandlerFunc is the untyped core every handler is built on. Its result is
// the ack (or the declared emit); a non-nil error becomes an error ack.
// Users write typed handlers with Typed, Typed2, Typed3 or Typed0 instead.
type HandlerFunc func(ctx context.Context, msg *Message) (any, error)

// Middleware wraps a handler. Code before the call to next runs before the
// handler, code after it runs after the response has been sent. The first
// middleware registered is the outermost:
//
//	Use(A, B) → A before → B before → handler → response → B after → A after
type Middleware func(next HandlerFunc) HandlerFunc

// InputValidator validates a decoded handler argument (for example by its
// struct tags). A non-nil error becomes a VALIDATION_PAYLOAD_ERROR ack; an
// *Error is sent as it is, so a validator can fill Details. Provide one
// with fx.Supply(socketservice.InputValidator(…)) or WithInputValidator.
type InputValidator func(v any) error

// Validator is implemented by input types that check themselves. A non-nil
// error becomes a VALIDATION_PAYLOAD_ERROR ack (an *Error returned as it is
// keeps its code).
type Validator interface{ Validate() error }

// Args is a result that a handler with WithRawResponse acks as several
// arguments (the client's ack callback receives them positionally). Without
// WithRawResponse it is sent as one array.
type Args []any

// NoReply is the result type for handlers with nothing to answer; the ack
// data is null.
type NoReply = struct{}

// Typed0 builds a handler for an event that takes no arguments.
func Typed0[Out any](fn func(ctx context.Context) (Out, error)) HandlerFunc {
	return func(ctx context.Context, msg *Message) (any, error) {
		if err := decode.Count(msg.Args, 0); err != nil {
			return nil, payloadError(err)
		}
		return result(fn(ctx))
	}
}

// Typed builds a handler from a function of one decoded argument. The
// argument is decoded with encoding/json rules; if In implements Validator
// it is validated before fn runs.
func Typed[In, Out any](fn func(ctx context.Context, in In) (Out, error)) HandlerFunc {
	return func(ctx context.Context, msg *Message) (any, error) {
		in, err := arg[In](ctx, msg.Args, 0, 1)
		if err != nil {
			return nil, err
		}
		return result(fn(ctx, in))
	}
}

// Typed2 builds a handler from a function of two positional arguments, as in
// socket.emit("event", a, b).
func Typed2[A, B, Out any](fn func(ctx context.Context, a A, b B) (Out, error)) HandlerFunc {
	return func(ctx context.Context, msg *Message) (any, error) {
		a, err := arg[A](ctx, msg.Args, 0, 2)
		if err != nil {
			return nil, err
		}
		b, err := arg[B](ctx, msg.Args, 1, 2)
		if err != nil {
			return nil, err
		}
		return result(fn(ctx, a, b))
	}
}

// Typed3 builds a handler from a function of three positional arguments.
func Typed3[A, B, C, Out any](fn func(ctx context.Context, a A, b B, c C) (Out, error)) HandlerFunc {
	return func(ctx context.Context, msg *Message) (any, error) {
		a, err := arg[A](ctx, msg.Args, 0, 3)
		if err != nil {
			return nil, err
		}
		b, err := arg[B](ctx, msg.Args, 1, 3)
		if err != nil {
			return nil, err
		}
		c, err := arg[C](ctx, msg.Args, 2, 3)
		if err != nil {
			return nil, err
		}
		return result(fn(ctx, a, b, c))
	}
}

// arg decodes argument i of n and validates it.
func arg[T any](ctx context.Context, args []any, i, n int) (T, error) {
	if i == 0 {
		if err := decode.Count(args, n); err != nil {
			var zero T
			return zero, payloadError(err)
		}
	}
	v, err := decode.Arg[T](args, i)
	if err != nil {
		return v, payloadError(err)
	}
	if isNil(v) {
		return v, nil // null for a pointer, map, slice or interface: nothing to validate
	}
	if st, ok := ctx.Value(eventKey{}).(*eventState); ok && st.socket.srv != nil && st.socket.srv.validate != nil {
		if err := st.socket.srv.validate(v); err != nil {
			return v, asValidation(err)
		}
	}
	var val Validator
	if x, ok := any(v).(Validator); ok {
		val = x
	} else if x, ok := any(&v).(Validator); ok {
		val = x
	}
	if val == nil {
		return v, nil
	}
	if err := val.Validate(); err != nil {
		return v, asValidation(err)
	}
	return v, nil
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// asValidation keeps an *Error as it is and makes anything else a
// VALIDATION_PAYLOAD_ERROR with the error's text.
func asValidation(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return NewError(CodeValidation, err.Error()).WithCause(err)
}

func payloadError(err error) *Error {
	var de *decode.Error
	if errors.As(err, &de) {
		e := NewError(CodeValidation, de.Error())
		if de.Field != "" {
			e = e.WithDetails(Detail{Field: de.Field, Rule: "type", Message: de.Problem})
		}
		return e
	}
	return NewError(CodeValidation, err.Error())
}

func result[Out any](out Out, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return out, nil
}
