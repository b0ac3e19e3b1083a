package socketservice

import (
	"context"
	"errors"

	"github.com/socketfx/socketfx/internal/decode"
	"github.com/socketfx/socketfx/internal/engine"
	"github.com/socketfx/socketfx/pkg/session"
)

// The seam of the network-free test kit (pkg/testing/sockettest): a handler
// context whose socket is the kit's own implementation of the engine's
// socket. Their parameter types are internal to this module, so only the
// kit can call them; use sockettest.NewEventContext.

// NewTestContext returns the context of an event handled on sock; the
// handles the handler takes (Socket.Broadcast, Socket.To…) go to bc.
func NewTestContext(parent context.Context, sock engine.Socket, bc engine.Broadcaster, event string, validate InputValidator) context.Context {
	srv, _ := New(Config{}, WithInputValidator(validate))
	nsp := sock.Namespace()
	w := &Socket{
		wire: sock, srv: srv, bc: bc, nsp: nsp,
		handshake: Handshake(sock.Handshake()),
		logger:    srv.log.With("namespace", nsp, "socket", sock.ID()),
		cancel:    func() {},
	}
	w.ctx = session.NewContext(parent, sock.Session())
	return context.WithValue(w.ctx, eventKey{}, &eventState{socket: w, msg: &Message{Event: event}})
}

// ServeTest runs the handler svc registered for the event of ctx (a
// NewTestContext), with the service's middleware, options and after hooks,
// as the server would, and returns what the client is answered with.
func ServeTest(ctx context.Context, svc Service, args []any) (any, error) {
	st, ok := ctx.Value(eventKey{}).(*eventState)
	if !ok || st.socket.bc == nil {
		return nil, errors.New("socketservice: not a test-kit event context (see sockettest.NewEventContext)")
	}
	if svc == nil {
		return nil, errors.New("socketservice: nil service")
	}
	def := newServiceDef(svc)
	if err := def.err(); err != nil {
		return nil, err
	}
	rt := def.routes[st.msg.Event]
	if rt == nil {
		return nil, Errorf(CodeNotFound, "unknown event %q", st.msg.Event)
	}
	rt.build(nil, nil, st.socket.srv.binding())
	norm, _ := decode.Normalize(args).([]any)
	ev := &eventState{socket: st.socket, route: rt, msg: &Message{Event: st.msg.Event, Args: norm}}
	ctx = context.WithValue(ctx, eventKey{}, ev)
	out, err := st.socket.run(ctx, ev)
	if err != nil {
		out = nil
	}
	st.socket.respond(ev, out, err)
	st.socket.after(ctx, ev, out, err)
	return out, err
}

// ServeHandlerTest is ServeTest for one handler, as if registered alone for
// the event of ctx.
func ServeHandlerTest(ctx context.Context, h Handler, args []any) (any, error) {
	st, ok := ctx.Value(eventKey{}).(*eventState)
	if !ok {
		return nil, errors.New("socketservice: not a test-kit event context (see sockettest.NewEventContext)")
	}
	return ServeTest(ctx, oneHandler{nsp: st.socket.nsp, event: st.msg.Event, h: h}, args)
}

// oneHandler is a service of one handler.
type oneHandler struct {
	nsp, event string
	h          Handler
}

func (o oneHandler) Register(r *Router) {
	r.Namespace(o.nsp)
	r.Handle(o.event, o.h)
}
