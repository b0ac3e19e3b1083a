package sockettest

import (
	"context"
	"crypto/rand"

	"github.com/socketfx/socketfx/pkg/socketservice"
)

// EventContext runs handlers without a network, like Foal's
// WebsocketContext: Context returns a context whose socket is a test
// socket, in the given namespace and handling the given event. Call your
// service's handler with it, then look at what it answered, emitted and
// joined.
//
//	ev := sockettest.NewEventContext("/chat", "chat:join", sockettest.WithAuth(map[string]any{"name": "ann"}))
//	out, err := chat.Join(ev.Context(), JoinRequest{Room: "go"})
//	Expect(ev.Rooms()).To(ContainElement("go"))
//
// Namespace-wide operations that need a server (FetchSockets,
// EmitWithAck on a namespace…) return socketservice.ErrNotRunning.
type EventContext struct {
	rec *recorder
	ctx context.Context
	chk *contractCheck // WithContract; nil without
}

// NewEventContext builds a test event. Options WithAuth, WithQuery and
// WithHeader set its handshake.
func NewEventContext(namespace, event string, opts ...Option) *EventContext {
	o := options{}
	for _, opt := range opts {
		opt.apply(&o)
	}
	if namespace == "" || namespace[0] != '/' {
		namespace = "/" + namespace
	}
	rec := newRecorder("test-"+rand.Text()[:12], namespace, o)
	return &EventContext{rec: rec, chk: o.contract, ctx: socketservice.NewTestContext(context.Background(), rec, (*broadcaster)(rec), event, o.validate)}
}

// Context returns the handler context; SocketFromContext and friends work
// on it.
func (e *EventContext) Context() context.Context { return e.ctx }

// Socket returns the test socket, e.g. to SetIdentity before the call.
func (e *EventContext) Socket() *socketservice.Socket {
	s, _ := socketservice.SocketFromContext(e.ctx)
	return s
}

// Call runs one handler (a typed one such as socketservice.Typed(…), or a
// HandlerFunc) exactly as the server would if it were registered alone for
// this context's event: arguments are decoded into the handler's input types
// as from the wire and validated by the input validator (see WithValidator),
// panics become INTERNAL_SERVER_ERROR, and the result is what the client is
// answered with.
func (e *EventContext) Call(h socketservice.Handler, args ...any) (any, error) {
	out, err := socketservice.ServeHandlerTest(e.ctx, h, args)
	e.checkEmits()
	return out, err
}

// Serve runs the handler svc registered for this context's event, with the
// service's middleware, options and after hooks, as the server would:
// arguments are decoded and validated as from the wire, and declared emits
// (WithEmit, WithBroadcast…) are recorded. It returns what the client is
// answered with: the result or error the outermost of the service's
// middleware returned. (Global middleware is not applied.)
func (e *EventContext) Serve(svc socketservice.Service, args ...any) (any, error) {
	out, err := socketservice.ServeTest(e.ctx, svc, args)
	e.checkEmits()
	return out, err
}

// Emits returns what the handler emitted, in order.
func (e *EventContext) Emits() []Emit {
	e.checkEmits()
	return e.rec.emitted()
}

// checkEmits holds the emits recorded so far to the contract, if any.
func (e *EventContext) checkEmits() {
	if e.chk == nil {
		return
	}
	helper(e.chk.t)
	emits := e.rec.emitted()
	evs := make([]Event, len(emits))
	for i, m := range emits {
		evs[i] = Event{Name: m.Event, Args: m.Args}
	}
	e.chk.events(e.rec.nsp, evs)
}

// Rooms returns the rooms the test socket is in, its own id first.
func (e *EventContext) Rooms() []string { return e.rec.Rooms() }

// Disconnected reports whether the handler disconnected the socket.
func (e *EventContext) Disconnected() bool { return e.rec.disconnected() }

// HandleAck answers the handler's Socket.EmitWithAck calls with fn's
// result; without it they fail as if the client never answered.
func (e *EventContext) HandleAck(fn func(event string, args []any) []any) {
	e.rec.setAck(fn)
}
