package socketservice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socketfx/socketfx/internal/decode"
	"github.com/socketfx/socketfx/internal/engine"
	"github.com/socketfx/socketfx/pkg/session"
)

// Handshake is what the client sent when it connected to the namespace.
type Handshake struct {
	// Auth is the client's auth payload (socket.io-client's `auth` option);
	// an empty map, never nil, when it sent none.
	Auth map[string]any
	// Query holds the query parameters of the connection URL.
	Query url.Values
	// Headers holds the HTTP headers of the first request.
	Headers http.Header
	// Address is the client's remote address.
	Address string
	// Time is when the handshake happened.
	Time time.Time
	// Secure reports a TLS connection; CrossDomain an Origin header.
	Secure, CrossDomain bool
	// URL is the request URI of the first request.
	URL string
}

// Token returns the client's bearer token: auth.token when it is a
// non-empty string (socket.io-client's auth: {token}), else the token of an
// "Authorization: Bearer …" header, else "".
func (h Handshake) Token() string {
	if t, ok := h.Auth["token"].(string); ok && t != "" {
		return t
	}
	if a := h.Headers.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// AuthAs decodes the socket's handshake auth payload into a T
// (encoding/json rules) and validates it like a handler's input (validate
// struct tags, a Validate method), so that connection middleware reads
// typed fields instead of asserting on map values:
//
//	type Login struct {
//		Name string `json:"name" validate:"required"`
//	}
//	login, err := socketservice.AuthAs[Login](s)
//
// A payload that does not fit is a VALIDATION_PAYLOAD_ERROR naming the
// field ("auth: field \"name\": …"); returned from connection middleware,
// it refuses the connection with that code.
func AuthAs[T any](s *Socket) (T, error) {
	var v T
	if err := decode.Into(any(s.handshake.Auth), &v); err != nil {
		var de *decode.Error
		if errors.As(err, &de) && de.Field != "" {
			return v, NewError(CodeValidation, fmt.Sprintf("auth: field %q: %s", de.Field, de.Problem)).
				WithDetails(Detail{Field: de.Field, Rule: "type", Message: de.Problem})
		}
		if errors.As(err, &de) {
			return v, NewError(CodeValidation, "auth: "+de.Problem)
		}
		return v, NewError(CodeValidation, "auth: "+err.Error())
	}
	var validate InputValidator
	if s.srv != nil {
		validate = s.srv.validate
	}
	if validate != nil {
		if err := validate(v); err != nil {
			return v, asValidation(err)
		}
	}
	if val, ok := any(&v).(Validator); ok {
		if err := val.Validate(); err != nil {
			return v, asValidation(err)
		}
	}
	return v, nil
}

// Socket is one client's connection to one namespace. Its methods are safe
// for concurrent use; after the socket disconnected, emits return
// ErrDisconnected and room changes do nothing.
type Socket struct {
	wire      engine.Socket
	srv       *Server
	bc        engine.Broadcaster // set for a test-kit socket, whose handles record
	svc       *serviceDef        // nil on a namespace no service serves
	nsp       string
	handshake Handshake
	logger    *slog.Logger
	queue     serialQueue
	ctx       context.Context
	cancel    context.CancelFunc
	count     atomic.Int32 // notCounted, counted or countDone (see Server.accept)

	valMu  sync.RWMutex
	values map[any]any
}

// ID returns the socket id, the same the client sees as socket.id.
func (s *Socket) ID() string { return s.wire.ID() }

// Namespace returns the namespace's name; for a pattern service, the
// concrete child name (e.g. "/tenant-42").
func (s *Socket) Namespace() string { return s.nsp }

// Param returns the value of a route parameter of the socket's namespace
// ("42" for {id} in "/tenant/{id}" when the client connected to
// "/tenant/42"), or of a named group of a NamespacePattern; "" when there is
// none of that name.
func (s *Socket) Param(name string) string { return s.Params()[name] }

// Params returns every route parameter of the socket's namespace (nil for
// a fixed namespace). The map is the caller's.
func (s *Socket) Params() map[string]string { return s.svc.params(s.nsp) }

// Handshake returns what the client sent when it connected.
func (s *Socket) Handshake() Handshake { return s.handshake }

// Recovered reports whether the connection state (id, rooms, data, missed
// packets) was restored after a temporary disconnection.
func (s *Socket) Recovered() bool { return s.wire.Recovered() }

// Connected reports whether the socket is connected (false during connect
// hooks, which run before the client is told it is connected).
func (s *Socket) Connected() bool { return s.wire.Connected() }

// Transport returns "websocket" or "polling".
func (s *Socket) Transport() string { return s.wire.Transport() }

// Emit sends an event to this client. Arguments are encoded as JSON; []byte
// values at the top level or inside map[string]any and []any are sent as
// binary. An emit made in a connect hook reaches the client right after
// its CONNECT packet.
func (s *Socket) Emit(event string, args ...any) error {
	if err := s.checkEmit(event); err != nil {
		return err
	}
	err := s.wire.Emit(event, args)
	if o := s.srv.obs; o != nil && err == nil {
		o.EventSent(s.label(), event)
	}
	return err
}

// EmitWithAck sends an event and waits for the client's acknowledgement,
// until ctx is done or, when ctx has no deadline, for DefaultAckTimeout. It
// returns the arguments the client acked with. A handler may call it on its
// own socket: text acks are taken off the wire as they arrive, without
// waiting for the socket's queue (which the handler holds); a binary ack
// goes through the engine and reaches a handler waiting on its own socket
// only after it returned (the wait then times out).
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) ([]any, error) {
	if err := s.checkEmit(event); err != nil {
		return nil, err
	}
	var start time.Time
	o := s.srv.obs
	if o != nil {
		start = time.Now()
	}
	a, err := s.wire.EmitWithAck(ctx, ackTimeout(ctx), event, args)
	if o != nil {
		o.EventSent(s.label(), event)
		out := "ok"
		switch {
		case errors.Is(err, engine.ErrNoAck) || errors.Is(err, context.DeadlineExceeded):
			out = "timeout"
		case err != nil:
			out = "error"
		}
		o.AckWaited(s.label(), out, time.Since(start))
	}
	switch {
	case errors.Is(err, engine.ErrNotConnected):
		return nil, fmt.Errorf("socketservice: EmitWithAck %q: the socket is not connected yet (connect hooks run before)", event)
	case errors.Is(err, engine.ErrClosed):
		return nil, ErrDisconnected
	case errors.Is(err, engine.ErrNoAck):
		return nil, fmt.Errorf("socketservice: emit %q to %s: no ack: %w", event, s.ID(), context.DeadlineExceeded)
	}
	return a, err
}

func (s *Socket) checkEmit(event string) error {
	if reservedEvents[event] {
		return fmt.Errorf("socketservice: %q is a reserved event name", event)
	}
	// During the handshake (connect hooks) the engine does not count the
	// socket as connected yet, but emits work: they are held until the
	// CONNECT packet is out.
	if s.wire.Gone() {
		return ErrDisconnected
	}
	return nil
}

// Join adds the socket to rooms.
func (s *Socket) Join(rooms ...string) { s.wire.Join(rooms...) }

// Leave removes the socket from rooms.
func (s *Socket) Leave(rooms ...string) { s.wire.Leave(rooms...) }

// Rooms returns the rooms the socket is in, its own id-room included.
func (s *Socket) Rooms() []string { return s.wire.Rooms() }

// Broadcast returns a handle that reaches every socket of the namespace but
// this one; narrow it with To.
func (s *Socket) Broadcast() Namespace {
	return s.namespace().Except(s.ID())
}

// To returns a handle on rooms of the socket's namespace, this socket
// excluded (Node's socket.to(room)).
func (s *Socket) To(rooms ...string) Namespace {
	return s.Broadcast().To(rooms...)
}

// Disconnect disconnects the socket from its namespace; with closeConn, the
// whole connection (all namespaces) is closed.
func (s *Socket) Disconnect(closeConn bool) { s.wire.Disconnect(closeConn) }

// Set stores a value on the socket for later handlers and hooks (an
// identity set at connect time, for example). Keys follow context.Context
// conventions: use an unexported key type.
func (s *Socket) Set(key, value any) {
	s.valMu.Lock()
	defer s.valMu.Unlock()
	if s.values == nil {
		s.values = map[any]any{}
	}
	s.values[key] = value
}

// Get returns a value stored with Set.
func (s *Socket) Get(key any) (any, bool) {
	s.valMu.RLock()
	defer s.valMu.RUnlock()
	v, ok := s.values[key]
	return v, ok
}

// Context returns a context that lives as long as the socket: it is
// cancelled after the socket's disconnect hooks have run.
func (s *Socket) Context() context.Context { return s.ctx }

// Session returns the socket's session, which survives a dropped
// connection its client recovers (session.FromContext gives the same).
func (s *Socket) Session() *session.Session { return s.wire.Session() }

// ackTimeout is the time left until ctx's deadline, or the default.
func ackTimeout(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		if left := time.Until(d); left > 0 {
			return left
		}
		return time.Millisecond
	}
	return DefaultAckTimeout
}

// DefaultAckTimeout bounds EmitWithAck when the context has no deadline.
const DefaultAckTimeout = 10 * time.Second

// namespace returns a handle on the socket's namespace (a recording one
// for a test-kit socket).
func (s *Socket) namespace() Namespace {
	return Namespace{srv: s.srv, bc: s.bc, name: s.nsp}
}

// newSocket makes the framework's socket for a socket of the driver (or of
// the test kit).
func (s *Server) newSocket(wire engine.Socket, def *serviceDef) *Socket {
	nsp := wire.Namespace()
	w := &Socket{
		wire:      wire,
		srv:       s,
		svc:       def,
		nsp:       nsp,
		handshake: Handshake(wire.Handshake()),
		logger:    s.log.With("namespace", nsp, "socket", wire.ID()),
	}
	w.queue.track = &s.inflight
	w.ctx, w.cancel = context.WithCancel(session.NewContext(s.ctx, wire.Session()))
	return w
}

// ConnID returns the id of the socket's Engine.IO connection, which the
// client's sockets on every namespace share (Socket.IO's socket.client.id).
func (s *Socket) ConnID() string { return s.wire.ConnID() }
