package socketservice

import (
	"reflect"
)

// Event is a declared server-to-client event whose payload is a T: its
// name, typed. Declare it on the service's router (Router.Emits) so that
// the contract (pkg/contract) lists it, and send it with Emit, which takes
// a T and nothing else:
//
//	type Chat struct{}
//
//	const messageSent = socketservice.Event[Message]("chat:message")
//
//	func (c *Chat) Register(r *socketservice.Router) {
//		r.Namespace("/chat")
//		r.Emits(messageSent)
//		…
//	}
//
//	// in a handler:
//	err := messageSent.Emit(s.To(in.Room), msg)
//
// An Event is a string underneath, so it can be a constant. Undeclared emits (Socket.Emit with any name) keep working; the
// test kit can be told to fail on them (sockettest.WithContract).
type Event[T any] string

// Name returns the event's name.
func (e Event[T]) Name() string { return string(e) }

// Emit sends v as the event's one argument to what to names: a *Socket or
// a Namespace (with its rooms and flags: ns.To("room"), s.Broadcast(), …).
func (e Event[T]) Emit(to Emitter, v T) error { return to.Emit(string(e), v) }

func (e Event[T]) outgoing() (string, reflect.Type) { return string(e), reflect.TypeFor[T]() }

// Emitter is what an Event is emitted to: *Socket and Namespace implement
// it.
type Emitter interface {
	Emit(event string, args ...any) error
}

// OutgoingEvent is a declared server-to-client event; Event[T] is the only
// implementation.
type OutgoingEvent interface {
	outgoing() (name string, payload reflect.Type)
}

// Emits declares the events the service sends with Socket.Emit,
// Namespace.Emit and the like, for the contract (see Event). The emits of
// WithEmit, WithBroadcast, WithBroadcastOthers and WithRoomEmit need no
// declaration: their payload is the handler's result. A name declared
// twice with different payload types, or a reserved name, makes the start
// fail.
func (r *Router) Emits(events ...OutgoingEvent) {
	for _, e := range events {
		if e == nil {
			r.svc.errs = append(r.svc.errs, errNilEmit)
			continue
		}
		name, t := e.outgoing()
		switch prev, seen := r.svc.emits[name]; {
		case name == "":
			r.svc.errs = append(r.svc.errs, errEmptyEmit)
		case reservedEvents[name]:
			r.svc.errs = append(r.svc.errs, reservedEmit(name))
		case seen && prev != t:
			r.svc.errs = append(r.svc.errs, conflictingEmit(name, prev, t))
		case !seen:
			if r.svc.emits == nil {
				r.svc.emits = map[string]reflect.Type{}
			}
			r.svc.emits[name] = t
			r.svc.emitOrder = append(r.svc.emitOrder, name)
		}
	}
}

// ExpectAuth declares the shape of the handshake auth (the client's
// io(url, {auth})) the namespace's connection middleware reads, for the
// contract: pass a value of the type, e.g. r.ExpectAuth(ChatAuth{}). It
// changes nothing at run time; the middleware does the checking.
func (r *Router) ExpectAuth(example any) {
	if example == nil {
		r.svc.errs = append(r.svc.errs, errNilAuth)
		return
	}
	r.svc.auth = reflect.TypeOf(example)
}

// WithErrors declares the error codes a handler returns besides the ones
// socketfx itself produces (VALIDATION_PAYLOAD_ERROR for a typed handler,
// INTERNAL_SERVER_ERROR, …), for the contract: the codes of its own
// *Error values and of the middleware it runs (RATE_LIMITED for
// middleware.RateLimit, FORBIDDEN for RequireRole, …). It adds up, like
// the other list options.
func WithErrors(codes ...Code) HandlerOption {
	return handlerOptionFunc(func(c *handlerConfig) { c.errors = append(c.errors, codes...) })
}
