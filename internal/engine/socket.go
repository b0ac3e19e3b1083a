package engine

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socketfx/socketfx/internal/decode"
	"github.com/socketfx/socketfx/internal/engine/recovery"
	"github.com/socketfx/socketfx/pkg/session"
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// Socket is one socket as the framework uses it. *Conn is a socket on the
// wire; pkg/testing/sockettest records one for network-free handler tests.
type Socket interface {
	ID() string
	// ConnID is the id of the socket's Engine.IO connection, which the
	// client's sockets on every namespace share.
	ConnID() string
	Namespace() string
	Handshake() Handshake
	Recovered() bool
	Connected() bool
	Transport() string
	// Emit sends an event; during the handshake it is held until the
	// CONNECT packet is out.
	Emit(event string, args []any) error
	// EmitWithAck sends an event and waits up to timeout for the ack.
	EmitWithAck(ctx context.Context, timeout time.Duration, event string, args []any) ([]any, error)
	Join(rooms ...string)
	Leave(rooms ...string)
	Rooms() []string
	Disconnect(closeConn bool)
	// Session is the socket's session (restored by a recovery).
	Session() *session.Session
	// Gone reports a socket that disconnected or was refused.
	Gone() bool
}

// Errors of Socket.EmitWithAck.
var (
	ErrNotConnected = errors.New("the socket is not connected yet")
	ErrClosed       = errors.New("the socket's connection is closed")
	ErrNoAck        = errors.New("no ack in time")
)

// Handshake is what the client sent when it connected to a namespace. Its
// fields are those of socketservice.Handshake, which converts from it.
type Handshake struct {
	Auth                map[string]any
	Query               url.Values
	Headers             http.Header
	Address             string
	Time                time.Time
	Secure, CrossDomain bool
	URL                 string
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

// Conn is one socket on the wire: a client's connection to one namespace.
// Its methods are safe for concurrent use.
type Conn struct {
	d    *Driver
	raw  *socket.Socket
	cs   *connState // its engine connection's state, kept: the connection's close listener can forget it first
	nsp  string
	hs   Handshake
	sess *session.Session
	h    atomic.Pointer[Handler]

	emitMu       sync.Mutex // the engine's per-socket emit flags are not goroutine-safe
	earlyMu      sync.Mutex
	early        [][]any     // emits held until connected
	connected    atomic.Bool // the engine reported the connection
	gone         atomic.Bool // disconnected, refused or dropped
	orphaned     atomic.Bool // its connection closed before the engine recorded it
	connClosedAt atomic.Int64

	verdictMu sync.Mutex
	decided   bool
	verdict   *socket.ExtendedError
	next      func(*socket.ExtendedError)
}

var _ Socket = (*Conn)(nil)

// ID returns the socket id, the same the client sees as socket.id.
func (c *Conn) ID() string { return string(c.raw.Id()) }

// Namespace returns the concrete namespace name.
func (c *Conn) Namespace() string { return c.nsp }

// ConnID returns the id of the socket's Engine.IO connection.
func (c *Conn) ConnID() string { return string(c.raw.Conn().Id()) }

// Handshake returns what the client sent when it connected.
func (c *Conn) Handshake() Handshake { return c.hs }

// Recovered reports a socket whose state a recovery restored.
func (c *Conn) Recovered() bool { return c.raw.Recovered() }

// Connected reports whether the engine counts the socket as connected.
func (c *Conn) Connected() bool { return c.raw.Connected() }

// Gone reports a socket that disconnected, was refused or dropped.
func (c *Conn) Gone() bool { return c.gone.Load() }

// Session returns the socket's session.
func (c *Conn) Session() *session.Session { return c.sess }

// Transport returns "websocket" or "polling".
func (c *Conn) Transport() string {
	if t := c.raw.Conn().Transport(); t != nil {
		return t.Name()
	}
	return ""
}

// Accept lets the socket in: the client is told it is connected. It may be
// called from any goroutine, once (a later Accept or Reject is ignored).
func (c *Conn) Accept() { c.decide(nil) }

// Reject refuses the socket: the client gets connect_error with message
// and data.
func (c *Conn) Reject(message string, data map[string]any) {
	c.decide(socket.NewExtendedError(message, data))
}

func (c *Conn) decide(err *socket.ExtendedError) {
	c.verdictMu.Lock()
	if c.decided {
		c.verdictMu.Unlock()
		return
	}
	c.decided, c.verdict = true, err
	next := c.next
	c.verdictMu.Unlock()
	if next != nil {
		c.finish(next, err)
	}
}

// ready hands over the engine's continuation; a verdict given during
// Events.Handshake is carried out now.
func (c *Conn) ready(next func(*socket.ExtendedError)) {
	c.verdictMu.Lock()
	c.next = next
	decided, err := c.decided, c.verdict
	c.verdictMu.Unlock()
	if decided {
		c.finish(next, err)
	}
}

func (c *Conn) finish(next func(*socket.ExtendedError), err *socket.ExtendedError) {
	if err != nil {
		c.d.sockets.Delete(c.raw)
		c.d.connectDone(c.raw)
		c.gone.Store(true)
		c.recoveryEnded(false)
	}
	next(err)
}

// recoveryEnded tells a recovering adapter (recovery.Gate) that the
// recovered socket is registered (delivered) or will never be.
func (c *Conn) recoveryEnded(registered bool) {
	if !c.raw.Recovered() {
		return
	}
	r, ok := c.raw.Nsp().Adapter().(recovery.Recoverer)
	if !ok {
		return
	}
	if registered {
		r.Recovered(c.ID())
	} else {
		r.Abandoned(c.ID())
	}
}

func (c *Conn) handler() Handler {
	if h := c.h.Load(); h != nil {
		return *h
	}
	return nil
}

// Emit sends an event to the client. []byte values at the top level or in
// map[string]any and []any are sent as binary.
func (c *Conn) Emit(event string, args []any) error {
	if !c.connected.Load() && c.holdEarly(event, args) {
		return nil
	}
	c.emitMu.Lock()
	defer c.emitMu.Unlock()
	return c.raw.Emit(event, args...)
}

// holdEarly keeps an emit made during the handshake (in a connect hook)
// until the CONNECT packet is out, so the wire shows CONNECT first, as with
// Node's "connection" handlers. It reports false once connected.
func (c *Conn) holdEarly(event string, args []any) bool {
	c.earlyMu.Lock()
	defer c.earlyMu.Unlock()
	if c.connected.Load() {
		return false
	}
	c.early = append(c.early, append([]any{event}, args...))
	return true
}

// markConnected sends the held emits, then lets emits through directly.
func (c *Conn) markConnected() {
	c.earlyMu.Lock()
	defer c.earlyMu.Unlock()
	c.emitMu.Lock()
	for _, e := range c.early {
		_ = c.raw.Emit(e[0].(string), e[1:]...)
	}
	c.emitMu.Unlock()
	c.early = nil
	c.connected.Store(true)
}

// EmitWithAck sends an event and waits for the client's ack, up to timeout
// or until ctx ends. Text acks are taken off the wire as they arrive (see
// Driver.takeAck), so a handler can wait for its own client's ack; a binary
// ack goes through the engine, after the socket's queue.
func (c *Conn) EmitWithAck(ctx context.Context, timeout time.Duration, event string, args []any) ([]any, error) {
	if !c.connected.Load() {
		return nil, ErrNotConnected
	}
	d := c.d
	id := ackBase + d.ackSeq.Add(1)
	p := &pendingAck{raw: c.raw, done: make(chan []any, 1)}
	d.acks.Store(id, p)
	c.raw.Acks().Store(id, func(a []any, _ error) { d.deliverAck(id, a) })
	defer func() {
		d.acks.Delete(id)
		c.raw.Acks().Delete(id)
	}()
	pkt := &parser.Packet{Type: parser.EVENT, Nsp: c.nsp, Id: &id, Data: append([]any{event}, args...)}
	c.emitMu.Lock()
	if c.raw.Conn().ReadyState() != "open" {
		c.emitMu.Unlock()
		return nil, ErrClosed
	}
	c.raw.Client().WriteToEngine(d.io.Encoder().Encode(pkt), &socket.WriteOptions{})
	c.emitMu.Unlock()

	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case a := <-p.done:
		return a, nil
	case <-t.C:
		return nil, ErrNoAck
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
	done chan []any
}

// deliverAck hands an ack to its waiter, once, from whichever path saw it
// first: the connection's reader (text acks) or the engine (binary acks).
func (d *Driver) deliverAck(id uint64, args []any) bool {
	v, ok := d.acks.LoadAndDelete(id)
	if !ok {
		return false
	}
	p := v.(*pendingAck)
	p.raw.Acks().Delete(id)
	a, _ := decode.Normalize(args).([]any)
	p.done <- a
	return true
}

// Join adds the socket to rooms.
func (c *Conn) Join(rooms ...string) { c.raw.Join(toRooms(rooms)...) }

// Leave removes the socket from rooms.
func (c *Conn) Leave(rooms ...string) {
	for _, r := range rooms {
		c.raw.Leave(socket.Room(r))
	}
}

// Rooms returns the rooms the socket is in, its own id-room included.
func (c *Conn) Rooms() []string {
	keys := c.raw.Rooms().Keys()
	out := make([]string, len(keys))
	for i, r := range keys {
		out[i] = string(r)
	}
	return out
}

// Disconnect disconnects the socket; with close, its whole connection.
func (c *Conn) Disconnect(closeConn bool) { c.raw.Disconnect(closeConn) }

func toRooms(rooms []string) []socket.Room {
	out := make([]socket.Room, len(rooms))
	for i, r := range rooms {
		out[i] = socket.Room(r)
	}
	return out
}

// onHandshake is every namespace's middleware: the driver's bookkeeping,
// then Events.Handshake, whose verdict continues the engine's handshake.
func (d *Driver) onHandshake(raw *socket.Socket, next func(*socket.ExtendedError)) {
	d.connectBegin(raw)
	c := &Conn{d: d, raw: raw, nsp: raw.Nsp().Name(), hs: newHandshake(raw.Handshake()), cs: d.connState(raw)}
	c.sess = d.attachSession(raw)
	d.sockets.Store(raw, c)
	// The engine reports a packet it cannot decode here, then closes the
	// whole connection ("forced close").
	_ = raw.On("error", func(args ...any) {
		var err any
		if len(args) > 0 {
			err = args[0]
		}
		d.log.Warn("socketfx: invalid packet from the client; closing its connection",
			"namespace", c.nsp, "socket", c.ID(), "error", err)
	})
	// A connection that closes before the handshake completes never
	// reaches onConnection; the janitor forgets such sockets.
	_ = raw.Conn().Once("close", func(...any) { c.connClosedAt.Store(time.Now().UnixNano()) })
	if h := d.events.Handshake(c); h != nil {
		c.h.Store(&h)
	}
	c.ready(next)
}

func (d *Driver) onConnection(raw *socket.Socket) {
	d.connectDone(raw)
	v, ok := d.sockets.Load(raw)
	if !ok {
		// Its connection closed long before the engine got here and the
		// janitor forgot it; the engine still counts it as connected.
		raw.Disconnect(false)
		return
	}
	c := v.(*Conn)
	c.recoveryEnded(true) // the engine delivers to it from now on
	c.markConnected()
	if h := c.handler(); h != nil {
		h.OnConnect()
	}
	raw.OnAny(c.onEvent)
	c.watchDetail()
	_ = raw.On("disconnect", func(args ...any) {
		reason, _ := args[0].(string)
		d.onDisconnect(c, reason)
	})
	// The engine writes CONNECT before it records the socket on its
	// client. If the connection closed in between, the engine's close
	// handler missed the socket, which would stay connected forever; if it
	// closed while we were registering, the disconnect came too early for
	// our listener. Either way the connection is gone: finish the socket.
	if raw.Conn().ReadyState() != "open" || !raw.Connected() {
		c.orphaned.Store(true)
		if raw.Connected() {
			raw.Disconnect(false)
		}
		d.onDisconnect(c, "transport close")
	}
}

// watchDetail reports the socket's upgrades and outgoing events to a
// DetailHandler (Options.Detail).
func (c *Conn) watchDetail() {
	dh, ok := c.handler().(DetailHandler)
	if !c.d.opts.Detail || !ok {
		return
	}
	conn := c.raw.Conn()
	_ = conn.On("upgrade", func(...any) {
		if t := conn.Transport(); t != nil && !c.gone.Load() {
			dh.OnUpgrade(t.Name())
		}
	})
	c.raw.OnAnyOutgoing(func(args ...any) {
		if len(args) == 0 {
			return
		}
		event, _ := args[0].(string)
		rest, _ := decode.Normalize(args[1:]).([]any)
		dh.OnSent(event, rest)
	})
}

// onEvent receives every event of a connected socket, in arrival order.
func (c *Conn) onEvent(args ...any) {
	var ack socket.Ack
	if n := len(args); n > 0 {
		if a, ok := args[n-1].(socket.Ack); ok {
			ack, args = a, args[:n-1]
		}
	}
	var event string
	if len(args) > 0 {
		event, _ = args[0].(string)
		args, _ = decode.Normalize(args[1:]).([]any)
	}
	var reply func([]any)
	if ack != nil {
		reply = func(a []any) { ack(a, nil) }
	}
	if h := c.handler(); h != nil {
		h.OnEvent(event, args, reply)
	}
}

func (d *Driver) onDisconnect(c *Conn, reason string) {
	if !c.gone.CompareAndSwap(false, true) {
		return // the engine can report one disconnect twice
	}
	switch {
	case reason != "client namespace disconnect" && c.leftCleanly():
		reason = "client namespace disconnect"
	case c.orphaned.Load():
		reason = "transport close"
	}
	if reason == "client namespace disconnect" || reason == "server namespace disconnect" {
		d.discardSession(c)
	}
	d.sockets.Delete(c.raw)
	if h := c.handler(); h != nil {
		h.OnDisconnect(reason)
	}
}

// attachSession gives a new socket its session, or finds the one its
// recovery restored.
func (d *Driver) attachSession(raw *socket.Socket) *session.Session {
	if data, ok := raw.Data().(*recovery.SocketData); ok && data.Session != nil {
		return data.Session
	}
	sess := session.New(string(raw.Id()))
	raw.SetData(&recovery.SocketData{Session: sess, ConnectedAt: time.UnixMilli(raw.Handshake().Issued)})
	return sess
}

// discardSession forgets a socket's kept session after a clean disconnect
// (the engine can keep one when a client's disconnect races its close).
func (d *Driver) discardSession(c *Conn) {
	if d.opts.Recovery == nil {
		return
	}
	pid := privateID(c.raw)
	if pid == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := d.opts.Recovery.Store.Delete(ctx, pid); err != nil {
		d.log.Warn("socketfx: could not discard the session of a socket that left",
			"namespace", c.nsp, "socket", c.ID(), "error", err)
	}
}
