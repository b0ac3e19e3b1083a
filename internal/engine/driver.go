package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socketfx/socketfx/internal/engine/recovery"
	"github.com/socketfx/socketfx/pkg/session"
	eio "github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Options configure a Driver. Durations and sizes are used as given: the
// caller fills in defaults.
type Options struct {
	Path           string
	PingInterval   time.Duration
	PingTimeout    time.Duration
	ConnectTimeout time.Duration
	MaxPayload     int64
	Transports     []string // "polling", "websocket"
	CORS           *CORS    // nil: same-origin HTTP, any origin for websockets (as Node)
	Recovery       *Recovery
	// Adapter builds each namespace's adapter (a cluster's); nil keeps
	// the engine's in-memory one, or socketfx's recovering one with
	// Recovery.
	Adapter AdapterConstructor
	// Namespaces are bound at Start ("/" always is); Patterns make
	// dynamic namespaces, bound when a client first connects to one.
	Namespaces []string
	Patterns   []*regexp.Regexp
	// ChildLimits bound the children of Patterns, by index; missing
	// entries are no limit.
	ChildLimits []ChildLimit
	// WriteLimit bounds what a connection may have waiting to be written;
	// zero values are no limit.
	WriteLimit WriteLimit
	// InvalidNamespaceData is the connect_error data sent to a client
	// that connects to a namespace nothing serves (the engine sends none);
	// nil sends none.
	InvalidNamespaceData map[string]any
	Logger               *slog.Logger
	// Observer sees connections and packets; nil sees nothing.
	Observer Observer
	// Conns is told of every engine connection as it opens, with the HTTP
	// request that opened it; the release it returns runs when the
	// connection closes. Nil tells nobody.
	Conns func(r *http.Request) (release func())
	// Detail reports each socket's transport upgrades and outgoing events
	// to its Handler (when it implements DetailHandler) and room changes to
	// Events (when it implements RoomEvents), for admin tools. Off, none of
	// it is set up and it costs nothing.
	Detail bool
}

// DetailHandler is a Handler that also sees its socket's upgrades and
// outgoing events (Options.Detail). Its methods run on engine goroutines
// and must not block.
type DetailHandler interface {
	Handler
	// OnUpgrade: the socket's connection moved to transport.
	OnUpgrade(transport string)
	// OnSent: an event went to the socket (an emit or a broadcast), its
	// arguments normalised like OnEvent's.
	OnSent(event string, args []any)
}

// RoomEvents is an Events that also sees room changes on this node
// (Options.Detail), including each socket's join of its own room and the
// changes other nodes ask for. It must not block.
type RoomEvents interface {
	Events
	RoomChanged(nsp, room, id string, joined bool)
}

// Observer sees the engine's connections and packets, by transport name.
// Its methods run on the connections' goroutines, for every packet: they
// must be quick and must not block.
type Observer interface {
	ConnOpened(transport string)
	ConnUpgraded(from, to string)
	ConnClosed(transport, reason string)
	PacketIn(transport string, bytes int)
	PacketOut(transport string, bytes int)
}

// CORS is the engine's CORS set-up.
type CORS struct {
	Origins     []string
	Credentials bool
}

// Recovery turns connection-state recovery on.
type Recovery struct {
	// Window is how long a dropped socket can come back.
	Window time.Duration
	// Store keeps the sessions of dropped sockets.
	Store session.Store
}

// AdapterConstructor builds the engine adapter of a namespace. Only
// internal/engine/... and the adapters built on it (pkg/adapter) construct
// one.
type AdapterConstructor = socket.AdapterConstructor

// Events is what the driver reports to the framework. Its methods run on
// engine goroutines and must not block for long.
type Events interface {
	// Namespace is called for each namespace the driver binds: the fixed
	// ones at Start (dynamic false), and each child of a pattern when it
	// is created (dynamic true). It returns the server events (sent by
	// other nodes) the namespace listens to.
	Namespace(name string, dynamic bool) (serverEvents []string)
	// Handshake is called once per socket, before the client is told it is
	// connected. The framework answers, now or later, with c.Accept or
	// c.Reject; the Handler it returns receives the socket's life.
	Handshake(c *Conn) Handler
	// ServerEvent delivers a server event another node sent to nsp; reply
	// is nil unless the sender waits for an answer.
	ServerEvent(nsp, event string, args []any, reply func([]any))
}

// Handler receives one socket's life after its handshake.
type Handler interface {
	// OnConnect runs once the client has been told it is connected.
	OnConnect()
	// OnEvent delivers a client event in arrival order, its arguments
	// normalised (see internal/decode); ack is nil unless the client
	// wants an answer.
	OnEvent(event string, args []any, ack func([]any))
	// OnDisconnect runs once, with the reason the client meant.
	OnDisconnect(reason string)
	// OnDrop runs when the connection closed during the handshake, before
	// the socket was accepted or connected: nothing else will follow.
	OnDrop()
}

// Driver runs the zishang520 engine for the framework: it owns the
// socket.io server, its connections and every workaround. Build it with
// NewDriver, then Start; ServeHTTP serves the protocol.
type Driver struct {
	opts   Options
	events Events
	log    *slog.Logger

	io       *socket.Server
	http     http.Handler
	requests requestHandler // the engine's entry point for non-upgrade requests

	conns       sync.Map // eio.Socket → *connState
	sockets     sync.Map // *socket.Socket → *Conn, from handshake to disconnect
	acks        sync.Map // ack id → *pendingAck, for Conn.EmitWithAck
	ackSeq      atomic.Uint64
	polls       pollSet
	janitorStop chan struct{}
	janitorDone chan struct{}
	closed      atomic.Bool

	invalidNSData string // Options.InvalidNamespaceData as JSON
	kids          children
}

// NewDriver returns a driver that is not started.
func NewDriver(opts Options, events Events) *Driver {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	d := &Driver{
		opts: opts, events: events, log: opts.Logger,
		kids: children{count: map[int]int{}, logged: map[int]time.Time{}, pending: map[string]*time.Timer{}},
	}
	if opts.InvalidNamespaceData != nil {
		if b, err := json.Marshal(opts.InvalidNamespaceData); err == nil {
			d.invalidNSData = string(b)
		}
	}
	return d
}

// Start creates the engine and binds the namespaces. It starts the
// driver's background goroutines, which Shutdown stops.
func (d *Driver) Start() {
	d.io = socket.NewServer(nil, d.serverOptions())
	d.http = d.io.ServeHandler(nil)
	d.requests, _ = d.http.(requestHandler)
	d.janitorStop, d.janitorDone = make(chan struct{}), make(chan struct{})
	go d.janitor(d.janitorStop, d.janitorDone)
	// socketfx makes each connection's socket.io client itself (see
	// onEngineConnection), instead of the engine's own listener.
	d.io.Engine().RemoveAllListeners("connection")
	_ = d.io.Engine().On("connection", d.onEngineConnection)

	d.bind(d.io.Of("/", nil), true)
	for _, name := range d.opts.Namespaces {
		if name != "/" {
			d.bind(d.io.Of(name, nil), true)
		}
	}
	for i, p := range d.opts.Patterns {
		d.bindPattern(i, p)
	}
	_ = d.io.Sockets().On("new_namespace", d.onNewNamespace)
}

func (d *Driver) serverOptions() *socket.ServerOptions {
	c := d.opts
	opts := socket.DefaultServerOptions()
	opts.SetPath(c.Path)
	opts.SetServeClient(false)
	opts.SetPingInterval(c.PingInterval)
	opts.SetPingTimeout(c.PingTimeout)
	opts.SetMaxHttpBufferSize(c.MaxPayload)
	opts.SetConnectTimeout(c.ConnectTimeout)
	// The engine's removal of empty children, which ChildLimits time.
	opts.SetCleanupEmptyChildNamespaces(d.limitsOn())
	// v3.0.6 sets a read deadline of IdleTimeout (default 120 s) before
	// every websocket read: keep it well past a ping round, so that a long
	// PingInterval does not close idle connections.
	opts.SetIdleTimeout(max(2*(c.PingInterval+c.PingTimeout), 120*time.Second))
	ts := types.NewSet[transports.TransportCtor]()
	for _, name := range c.Transports {
		ts.Add(transports.Transports()[name])
	}
	opts.SetTransports(ts)
	if c.CORS != nil {
		var origin any = true
		switch {
		case len(c.CORS.Origins) == 1 && c.CORS.Origins[0] == "*":
			origin = "*"
		case len(c.CORS.Origins) > 0:
			list := make([]any, len(c.CORS.Origins))
			for i, o := range c.CORS.Origins {
				list[i] = o
			}
			origin = list
		}
		opts.SetCors(&types.Cors{Origin: origin, Credentials: c.CORS.Credentials})
	}
	switch {
	case c.Adapter != nil:
		opts.SetAdapter(c.Adapter)
	case c.Recovery != nil:
		opts.SetAdapter(recovery.Builder{Options: d.RecoveryOptions()})
	}
	if c.Recovery != nil {
		r := &socket.ConnectionStateRecovery{}
		r.SetMaxDisconnectionDuration(c.Recovery.Window.Milliseconds())
		// The framework applies SkipMiddlewares itself, so that its
		// connect hooks still run for recovered sockets.
		r.SetSkipMiddlewares(false)
		opts.SetConnectionStateRecovery(r)
	}
	return opts
}

// RecoveryOptions are the options of the recovering adapters (this
// driver's, and a cluster's) for the driver's Recovery.
func (d *Driver) RecoveryOptions() recovery.Options {
	if d.opts.Recovery == nil {
		return recovery.Options{Logger: d.log}
	}
	return recovery.Options{Store: d.opts.Recovery.Store, Window: d.opts.Recovery.Window, Logger: d.log}
}

// bind attaches the driver to an engine namespace. Children of a pattern
// inherit the parent's middleware and listeners.
func (d *Driver) bind(nsp socket.Namespace, fixed bool) {
	nsp.Use(d.onHandshake)
	if fixed {
		d.bindServerEvents(nsp, d.events.Namespace(nsp.Name(), false))
		d.watchRooms(nsp)
	}
	_ = nsp.On("connection", func(args ...any) {
		if raw, ok := args[0].(*socket.Socket); ok {
			d.onConnection(raw)
		}
	})
}

func (d *Driver) onNewNamespace(args ...any) {
	nsp, ok := args[0].(socket.Namespace)
	if !ok {
		return
	}
	for i, p := range d.opts.Patterns {
		if p.MatchString(nsp.Name()) {
			d.adoptChild(i, nsp)
			d.bindServerEvents(nsp, d.events.Namespace(nsp.Name(), true))
			d.watchRooms(nsp)
			return
		}
	}
}

// watchRooms reports the room changes of a namespace's adapter to a
// RoomEvents (Options.Detail).
func (d *Driver) watchRooms(nsp socket.Namespace) {
	re, ok := d.events.(RoomEvents)
	if !d.opts.Detail || !ok {
		return
	}
	name := nsp.Name()
	report := func(joined bool) func(...any) {
		return func(args ...any) {
			if len(args) < 2 {
				return
			}
			room, _ := args[0].(socket.Room)
			id, _ := args[1].(socket.SocketId)
			re.RoomChanged(name, string(room), string(id), joined)
		}
	}
	a := nsp.Adapter()
	_ = a.On("join-room", report(true))
	_ = a.On("leave-room", report(false))
}

// janitor forgets sockets whose connection closed during the handshake
// (the engine then drops them without a connection or disconnect event).
// It owns one goroutine from Start to Shutdown.
func (d *Driver) janitor(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			d.sockets.Range(func(k, v any) bool {
				c := v.(*Conn)
				if at := c.connClosedAt.Load(); at != 0 && !c.connected.Load() && now.UnixNano()-at > int64(time.Second) {
					d.sockets.Delete(k)
					c.recoveryEnded(false)
					if h := c.handler(); c.gone.CompareAndSwap(false, true) && h != nil {
						h.OnDrop()
					}
				}
				return true
			})
		}
	}
}

// FlushWrites waits until every websocket connection has handed its queued
// packets (the acks of the handlers just drained) to the network: the
// engine's close discards what is still queued. A polling transport is only
// writable while its client has a request pending, which a client that went
// away never sends: polling clients get queued packets with their next poll,
// if it comes before the close.
func (d *Driver) FlushWrites(ctx context.Context) error {
	return pollUntil(ctx, "flush writes", func() bool {
		flushed := true
		d.conns.Range(func(k, _ any) bool {
			conn := k.(eio.Socket)
			tr := conn.Transport()
			if conn.ReadyState() == "open" && tr != nil && tr.Name() == "websocket" && !tr.Writable() {
				flushed = false
			}
			return flushed
		})
		return flushed
	})
}

// Close closes every connection like Node's io.close(): sockets end with
// "server shutting down" and no DISCONNECT packet, so clients reconnect (to
// another node). Pending long polls are answered.
func (d *Driver) Close() {
	if !d.closed.CompareAndSwap(false, true) {
		return
	}
	d.io.Close(nil)
	d.polls.answer("", false)
}

// WaitClosed waits until the engine has closed every connection and the
// driver's close listeners have run, so that the disconnects of every
// socket have been reported when Stop goes on.
func (d *Driver) WaitClosed(ctx context.Context) error {
	return pollUntil(ctx, "close connections", func() bool {
		closed := true
		d.conns.Range(func(_, _ any) bool { closed = false; return false })
		return closed
	})
}

// Shutdown stops the driver's goroutine (the janitor). Call it after Close
// and WaitClosed.
func (d *Driver) Shutdown() {
	d.Close()
	d.stopChildren()
	close(d.janitorStop)
	<-d.janitorDone
}

// pollUntil checks done every 5 ms until it holds or ctx ends. The engine
// offers no event for either condition.
func pollUntil(ctx context.Context, stage string, done func() bool) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for !done() {
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", stage, ctx.Err())
		}
	}
	return nil
}
