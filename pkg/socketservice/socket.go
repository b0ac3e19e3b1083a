package socketservice

import (
	"context"
	"errors"
	"fmt"
	"github.com/socketfx/socketfx/pkg/session"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socketfx/socketfx/internal/decode"
	"github.com/socketfx/socketfx/internal/testhook"
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
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

func newHandshake(h *socket.Handshake) Handshake {
	auth := h.Auth
	if auth == nil {
		auth = map[string]any{}
	}
	return Handshake{
		Auth:        auth,
		Query:       h.Query.Query(),
		Headers:     h.Headers.Header(),
		Address:     h.Address,
		Time:        time.UnixMilli(h.Issued),
		Secure:      h.Secure,
		CrossDomain: h.Xdomain,
		URL:         h.Url,
	}
}

// Socket is one client's connection to one namespace. Its methods are safe
// for concurrent use; after the socket disconnected, emits return
// ErrDisconnected and room changes do nothing.
type Socket struct {
	raw       *socket.Socket
	fake      *testhook.Recorder // set instead of raw for sockettest's fake contexts
	srv       *Server
	svc       *serviceDef // nil on a namespace no service serves
	nsp       string
	handshake Handshake
	logger    *slog.Logger
	queue     serialQueue
	ctx       context.Context
	cancel    context.CancelFunc

	emitMu       sync.Mutex  // the engine's per-socket emit flags are not goroutine-safe
	gone         atomic.Bool // set on disconnect or rejected handshake
	orphaned     atomic.Bool // its connection closed before the engine recorded it
	connected    atomic.Bool // onConnection ran
	counted      atomic.Bool // in its namespace's Count (from acceptance to disconnect)
	earlyMu      sync.Mutex
	early        [][]any      // emits held until connected
	connClosedAt atomic.Int64 // unix nanos when its connection closed, 0 while open

	valMu  sync.RWMutex
	values map[any]any
	sess   *session.Session
	conn   *connState // its engine connection's state; nil for fakes
}

// ID returns the socket id, the same the client sees as socket.id.
func (s *Socket) ID() string {
	if s.fake != nil {
		return s.fake.ID
	}
	return string(s.raw.Id())
}

// Namespace returns the namespace's name; for a pattern service, the
// concrete child name (e.g. "/tenant-42").
func (s *Socket) Namespace() string { return s.nsp }

// Handshake returns what the client sent when it connected.
func (s *Socket) Handshake() Handshake { return s.handshake }

// Recovered reports whether the connection state (id, rooms, data, missed
// packets) was restored after a temporary disconnection.
func (s *Socket) Recovered() bool { return s.fake == nil && s.raw.Recovered() }

// Connected reports whether the socket is connected (false during connect
// hooks, which run before the client is told it is connected).
func (s *Socket) Connected() bool {
	if s.fake != nil {
		return !s.fake.Disconnected()
	}
	return s.raw.Connected()
}

// Transport returns "websocket" or "polling".
func (s *Socket) Transport() string {
	if s.fake != nil {
		return "fake"
	}
	if t := s.raw.Conn().Transport(); t != nil {
		return t.Name()
	}
	return ""
}

// Emit sends an event to this client. Arguments are encoded as JSON; []byte
// values at the top level or inside map[string]any and []any are sent as
// binary.
func (s *Socket) Emit(event string, args ...any) error {
	if err := s.checkEmit(event); err != nil {
		return err
	}
	if s.fake != nil {
		s.fake.Record(testhook.Emit{Socket: true, Event: event, Args: args})
		return nil
	}
	if !s.connected.Load() && s.holdEarly(event, args) {
		return nil
	}
	s.emitMu.Lock()
	defer s.emitMu.Unlock()
	return s.raw.Emit(event, args...)
}

// holdEarly keeps an emit made during the handshake (in a connect hook)
// until the CONNECT packet is out, so the wire shows CONNECT first, as with
// Node's "connection" handlers. It reports false once connected.
func (s *Socket) holdEarly(event string, args []any) bool {
	s.earlyMu.Lock()
	defer s.earlyMu.Unlock()
	if s.connected.Load() {
		return false
	}
	s.early = append(s.early, append([]any{event}, args...))
	return true
}

// markConnected sends the held emits, then lets emits through directly.
func (s *Socket) markConnected() {
	s.earlyMu.Lock()
	defer s.earlyMu.Unlock()
	s.emitMu.Lock()
	for _, e := range s.early {
		_ = s.raw.Emit(e[0].(string), e[1:]...)
	}
	s.emitMu.Unlock()
	s.early = nil
	s.connected.Store(true)
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
	if s.fake != nil {
		if s.fake.AckFunc != nil {
			if a, ok := s.fake.AckFunc(event, args); ok {
				return a, nil
			}
		}
		return nil, fmt.Errorf("socketservice: emit %q to %s: no ack: %w", event, s.ID(), context.DeadlineExceeded)
	}
	if !s.connected.Load() {
		return nil, fmt.Errorf("socketservice: EmitWithAck %q: the socket is not connected yet (connect hooks run before)", event)
	}
	id := ackBase + s.srv.ackSeq.Add(1)
	p := &pendingAck{raw: s.raw, id: id, done: make(chan []any, 1)}
	s.srv.acks.Store(id, p)
	s.raw.Acks().Store(id, func(a []any, _ error) { s.srv.deliverAck(id, a) })
	defer func() {
		s.srv.acks.Delete(id)
		s.raw.Acks().Delete(id)
	}()
	packet := &parser.Packet{Type: parser.EVENT, Nsp: s.nsp, Id: &id, Data: append([]any{event}, args...)}
	s.emitMu.Lock()
	if s.raw.Conn().ReadyState() != "open" {
		s.emitMu.Unlock()
		return nil, ErrDisconnected
	}
	s.raw.Client().WriteToEngine(s.srv.io.Encoder().Encode(packet), &socket.WriteOptions{})
	s.emitMu.Unlock()

	t := time.NewTimer(ackTimeout(ctx))
	defer t.Stop()
	select {
	case a := <-p.done:
		return a, nil
	case <-t.C:
		return nil, fmt.Errorf("socketservice: emit %q to %s: no ack: %w", event, s.ID(), context.DeadlineExceeded)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// ackBase starts socketfx's ack ids far above the engine's own (which count
// from 0 per namespace), below 2^53 so JavaScript clients keep them exact.
const ackBase = 1 << 50

// pendingAck is an EmitWithAck waiting for its answer.
type pendingAck struct {
	raw  *socket.Socket
	id   uint64
	done chan []any
}

// deliverAck hands an ack to its waiter, once, from whichever path saw it
// first: the connection's reader (text acks) or the engine (binary acks).
func (srv *Server) deliverAck(id uint64, args []any) bool {
	v, ok := srv.acks.LoadAndDelete(id)
	if !ok {
		return false
	}
	p := v.(*pendingAck)
	p.raw.Acks().Delete(id)
	a, _ := decode.Normalize(args).([]any)
	p.done <- a
	return true
}

func (s *Socket) checkEmit(event string) error {
	if reservedEvents[event] {
		return fmt.Errorf("socketservice: %q is a reserved event name", event)
	}
	// During the handshake (connect hooks) the engine does not count the
	// socket as connected yet, but emits work: clients buffer them until
	// the CONNECT packet, which follows.
	if s.gone.Load() {
		return ErrDisconnected
	}
	return nil
}

// Join adds the socket to rooms.
func (s *Socket) Join(rooms ...string) {
	if s.fake != nil {
		s.fake.Join(rooms...)
		return
	}
	s.raw.Join(toRooms(rooms)...)
}

// Leave removes the socket from rooms.
func (s *Socket) Leave(rooms ...string) {
	if s.fake != nil {
		s.fake.Leave(rooms...)
		return
	}
	for _, r := range rooms {
		s.raw.Leave(socket.Room(r))
	}
}

// Rooms returns the rooms the socket is in, its own id-room included.
func (s *Socket) Rooms() []string {
	if s.fake != nil {
		return s.fake.Rooms()
	}
	keys := s.raw.Rooms().Keys()
	out := make([]string, len(keys))
	for i, r := range keys {
		out[i] = string(r)
	}
	return out
}

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

// Disconnect disconnects the socket from its namespace; with close, the
// whole connection (all namespaces) is closed.
func (s *Socket) Disconnect(close bool) {
	if s.fake != nil {
		s.fake.Disconnect()
		return
	}
	s.raw.Disconnect(close)
}

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

func toRooms(rooms []string) []socket.Room {
	out := make([]socket.Room, len(rooms))
	for i, r := range rooms {
		out[i] = socket.Room(r)
	}
	return out
}

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

// A fake socket for sockettest.NewEventContext: handlers run against it
// without a network, and what they emit, join and leave is recorded.
func init() {
	testhook.NewContext = func(parent context.Context, rec *testhook.Recorder, nsp, event string, auth map[string]any, query url.Values, headers http.Header) context.Context {
		if auth == nil {
			auth = map[string]any{}
		}
		w := &Socket{
			fake: rec, nsp: nsp, ctx: parent,
			handshake: Handshake{Auth: auth, Query: query, Headers: headers, Address: "127.0.0.1", Time: time.Now()},
			logger:    slog.Default().With("namespace", nsp, "socket", rec.ID),
			sess:      session.New(rec.ID),
		}
		w.connected.Store(true)
		w.ctx = session.NewContext(parent, w.sess)
		return context.WithValue(w.ctx, eventKey{}, &eventState{socket: w, msg: &Message{Event: event}})
	}
	testhook.Serve = func(ctx context.Context, svc any, args []any) (any, error) {
		st, ok := ctx.Value(eventKey{}).(*eventState)
		if !ok || st.socket.fake == nil {
			return nil, errors.New("socketservice: not a fake event context")
		}
		service, ok := svc.(Service)
		if !ok {
			return nil, fmt.Errorf("socketservice: %T is not a Service", svc)
		}
		def := newServiceDef(service)
		if err := def.err(); err != nil {
			return nil, err
		}
		rt := def.routes[st.msg.Event]
		if rt == nil {
			return nil, Errorf(CodeNotFound, "unknown event %q", st.msg.Event)
		}
		rt.build(nil)
		norm, _ := decode.Normalize(args).([]any)
		ev := &eventState{socket: st.socket, route: rt, msg: &Message{Event: st.msg.Event, Args: norm}}
		ctx = context.WithValue(ctx, eventKey{}, ev)
		out, err := rt.chain(ctx, ev.msg)
		st.socket.respond(ctx, ev, out, err)
		return out, err
	}
}

// namespace returns a handle on the socket's namespace (a recording one
// for a fake socket).
func (s *Socket) namespace() Namespace {
	if s.fake != nil {
		return Namespace{fake: s.fake, name: s.nsp}
	}
	return s.srv.Of(s.nsp)
}
