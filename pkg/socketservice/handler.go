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
	// Event is the full event name, including any Route prefix.
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
// Users write typed handlers with Typed, TypedSocket and their variants
// instead.
type HandlerFunc func(ctx context.Context, msg *Message) (any, error)

// Handler is what Router.Handle registers: a HandlerFunc, or a typed
// handler (Typed, TypedSocket, …) that decodes and validates its arguments.
// The server binds a typed handler to its input validator when it builds
// the routes, so the same handler behaves the same under the test kit.
type Handler interface {
	bind(b binding) HandlerFunc
}

func (h HandlerFunc) bind(binding) HandlerFunc { return h }

// binding is what a typed handler is bound to when the routes are built:
// the server's input validator, and whether it only reads `validate` tags
// (the default StructValidator), so that types without any are not handed
// to it (no boxing, no reflection per event).
type binding struct {
	validate InputValidator
	tagsOnly bool
	observed bool // observers want to know whether the handler itself ran
}

// ran notes on the event that its handler runs, its arguments decoded and
// valid (so that observers tell OutcomeRejected from OutcomeError).
func (b binding) ran(ctx context.Context) {
	if b.observed {
		markRanCtx(ctx)
	}
}

// of returns the validator to run on arguments of type t, nil for none.
func (b binding) of(t reflect.Type) InputValidator {
	if b.validate == nil || b.tagsOnly && !hasValidateTags(t) {
		return nil
	}
	return b.validate
}

// typed is a handler that decodes its arguments into Go types.
type typed struct {
	// in are the argument types, out the result type (for contracts and
	// checks at start).
	in  []reflect.Type
	out reflect.Type
	fn  func(b binding) HandlerFunc
}

func (t *typed) bind(b binding) HandlerFunc { return t.fn(b) }

// Middleware wraps a handler: code before the call to next runs before the
// handler, code after it sees (and may replace) the handler's result and
// error. The client is answered once, from what the outermost middleware
// returns. The first middleware registered is the outermost:
//
//	Use(A, B) → A before → B before → handler → B after → A after → ack
type Middleware func(next HandlerFunc) HandlerFunc

// AfterHook runs once the event's response (ack and declared emits) has
// been written, with the result and the error the client got (Ts.ED's
// SocketUseAfter): for audit logs and metrics. It cannot change the
// response; use Middleware for that. A panic in a hook is logged.
type AfterHook func(ctx context.Context, msg *Message, out any, err error)

// InputValidator validates a decoded handler argument (for example by its
// struct tags). A non-nil error becomes a VALIDATION_PAYLOAD_ERROR ack; an
// *Error is sent as it is, so a validator can fill Details. The default is
// StructValidator; replace it with fx.Supply(socketservice.InputValidator(…))
// or WithInputValidator.
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

// ErrNoAck is the error a handler or middleware returns to leave the event
// unanswered on purpose: no ack and no declared emit is sent, and a client
// waiting for one times out (its retries see a lost packet). After hooks see
// it as the error.
var ErrNoAck = errors.New("socketservice: no ack")

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// Typed0 builds a handler for an event that takes no arguments. A single
// null or {} argument is accepted too, as JavaScript clients often send one.
func Typed0[Out any](fn func(ctx context.Context) (Out, error)) Handler {
	return &typed{out: typeOf[Out](), fn: func(bd binding) HandlerFunc {
		return func(ctx context.Context, msg *Message) (any, error) {
			if err := countZero(msg.Args); err != nil {
				return nil, err
			}
			bd.ran(ctx)
			return result(fn(ctx))
		}
	}}
}

// Typed builds a handler from a function of one decoded argument. The
// argument is decoded with encoding/json rules, then validated by the
// server's InputValidator and, if In implements Validator, by its Validate
// method, before fn runs.
func Typed[In, Out any](fn func(ctx context.Context, in In) (Out, error)) Handler {
	return &typed{in: []reflect.Type{typeOf[In]()}, out: typeOf[Out](), fn: func(bd binding) HandlerFunc {
		vIn := bd.of(typeOf[In]())
		return func(ctx context.Context, msg *Message) (any, error) {
			in, err := arg[In](vIn, msg.Args, 0, 1)
			if err != nil {
				return nil, err
			}
			bd.ran(ctx)
			return result(fn(ctx, in))
		}
	}}
}

// Typed2 builds a handler from a function of two positional arguments, as in
// socket.emit("event", a, b).
func Typed2[A, B, Out any](fn func(ctx context.Context, a A, b B) (Out, error)) Handler {
	return &typed{in: []reflect.Type{typeOf[A](), typeOf[B]()}, out: typeOf[Out](), fn: func(bd binding) HandlerFunc {
		vA := bd.of(typeOf[A]())
		vB := bd.of(typeOf[B]())
		return func(ctx context.Context, msg *Message) (any, error) {
			a, err := arg[A](vA, msg.Args, 0, 2)
			if err != nil {
				return nil, err
			}
			b, err := arg[B](vB, msg.Args, 1, 2)
			if err != nil {
				return nil, err
			}
			bd.ran(ctx)
			return result(fn(ctx, a, b))
		}
	}}
}

// Typed3 builds a handler from a function of three positional arguments.
func Typed3[A, B, C, Out any](fn func(ctx context.Context, a A, b B, c C) (Out, error)) Handler {
	return &typed{in: []reflect.Type{typeOf[A](), typeOf[B](), typeOf[C]()}, out: typeOf[Out](), fn: func(bd binding) HandlerFunc {
		vA := bd.of(typeOf[A]())
		vB := bd.of(typeOf[B]())
		vC := bd.of(typeOf[C]())
		return func(ctx context.Context, msg *Message) (any, error) {
			a, err := arg[A](vA, msg.Args, 0, 3)
			if err != nil {
				return nil, err
			}
			b, err := arg[B](vB, msg.Args, 1, 3)
			if err != nil {
				return nil, err
			}
			c, err := arg[C](vC, msg.Args, 2, 3)
			if err != nil {
				return nil, err
			}
			bd.ran(ctx)
			return result(fn(ctx, a, b, c))
		}
	}}
}

// TypedSocket0 is Typed0 for a handler that also gets the socket whose
// event it handles (NestJS's @ConnectedSocket()).
func TypedSocket0[Out any](fn func(ctx context.Context, s *Socket) (Out, error)) Handler {
	return Typed0(func(ctx context.Context) (Out, error) {
		s, err := socketOf(ctx)
		if err != nil {
			var zero Out
			return zero, err
		}
		return fn(ctx, s)
	})
}

// TypedSocket is Typed for a handler that also gets the socket whose event
// it handles (NestJS's @ConnectedSocket()):
//
//	r.Handle("room:join", socketservice.TypedSocket(func(ctx context.Context, s *socketservice.Socket, in Join) (socketservice.NoReply, error) {
//		s.Join(in.Room)
//		return socketservice.NoReply{}, nil
//	}))
func TypedSocket[In, Out any](fn func(ctx context.Context, s *Socket, in In) (Out, error)) Handler {
	return Typed(func(ctx context.Context, in In) (Out, error) {
		s, err := socketOf(ctx)
		if err != nil {
			var zero Out
			return zero, err
		}
		return fn(ctx, s, in)
	})
}

// TypedSocket2 is Typed2 for a handler that also gets the socket.
func TypedSocket2[A, B, Out any](fn func(ctx context.Context, s *Socket, a A, b B) (Out, error)) Handler {
	return Typed2(func(ctx context.Context, a A, b B) (Out, error) {
		s, err := socketOf(ctx)
		if err != nil {
			var zero Out
			return zero, err
		}
		return fn(ctx, s, a, b)
	})
}

// socketOf is the socket of an event context; a handler called with any
// other context gets an internal error rather than a nil socket.
func socketOf(ctx context.Context) (*Socket, error) {
	if s, ok := SocketFromContext(ctx); ok {
		return s, nil
	}
	return nil, errors.New("socketservice: handler called outside a socket event (no socket in the context)")
}

// countZero accepts no argument, or a single null or {} (what JavaScript
// clients send for "nothing"), for a handler that takes none.
func countZero(args []any) error {
	if len(args) == 1 {
		switch a := args[0].(type) {
		case nil:
			return nil
		case map[string]any:
			if len(a) == 0 {
				return nil
			}
		}
	}
	if err := decode.Count(args, 0); err != nil {
		return payloadError(err)
	}
	return nil
}

// arg decodes argument i of n and validates it.
func arg[T any](validate InputValidator, args []any, i, n int) (T, error) {
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
	if validate != nil {
		if err := validate(v); err != nil {
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
