package socketservice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socketfx/socketfx/internal/enginefix"
	"github.com/socketfx/socketfx/internal/recovery"
	"github.com/socketfx/socketfx/pkg/session"
	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

type serverState int32

const (
	stateNew serverState = iota
	stateRunning
	stateStopping
	stateStopped
)

// Server is the Socket.IO server: it binds services to namespaces, runs
// their handlers, and gives out Namespace handles. Build it with the fx
// Module, or with NewServer and Start/Stop. All methods are safe for
// concurrent use.
type Server struct {
	cfg           Config
	log           *slog.Logger
	global        []Middleware
	globalConnect []ConnectHook
	validate      InputValidator
	services      []Service
	cluster       Cluster
	store         session.Store

	mu       sync.RWMutex
	state    serverState
	io       *socket.Server
	engine   http.Handler
	static   map[string]*serviceDef
	patterns []*serviceDef
	httpSrv  *http.Server
	addr     string
	served   chan struct{}

	conns       sync.Map // engine.Socket → *connState
	acks        sync.Map // ack id → *pendingAck, for Socket.EmitWithAck
	ackSeq      atomic.Uint64
	polls       pollSet
	reaper      *enginefix.Reaper
	janitorStop chan struct{}
	janitorDone chan struct{}
	sweepStop   chan struct{} // nil without Config.Recovery
	sweepDone   chan struct{}
	inflight    inflight
	sockets     sync.Map // *socket.Socket → *Socket, from handshake to disconnect
	counts      sync.Map // namespace name → *atomic.Int64
	ctx         context.Context
	cancel      context.CancelFunc
}

// ServerOption configures a Server built with NewServer.
type ServerOption interface{ applyServer(*Server) }

type serverOptionFunc func(*Server)

func (f serverOptionFunc) applyServer(s *Server) { f(s) }

// WithLogger sets the server's logger. Nil keeps slog.Default().
func WithLogger(l *slog.Logger) ServerOption {
	return serverOptionFunc(func(s *Server) {
		if l != nil {
			s.log = l
		}
	})
}

// WithServices adds services to the server.
func WithServices(svcs ...Service) ServerOption {
	return serverOptionFunc(func(s *Server) { s.services = append(s.services, svcs...) })
}

// WithGlobalMiddleware adds middleware around every handler of every
// service, outside the services' own.
func WithGlobalMiddleware(mw ...Middleware) ServerOption {
	return serverOptionFunc(func(s *Server) { s.global = append(s.global, mw...) })
}

// WithInputValidator sets a validator every typed handler runs on each
// decoded argument, before the argument's own Validate method (see
// middleware.StructValidator for struct tags).
func WithInputValidator(v InputValidator) ServerOption {
	return serverOptionFunc(func(s *Server) { s.validate = v })
}

// WithGlobalConnectMiddleware adds connection middleware run at the
// handshake of every namespace, before the namespace's own.
func WithGlobalConnectMiddleware(h ...ConnectHook) ServerOption {
	return serverOptionFunc(func(s *Server) { s.globalConnect = append(s.globalConnect, h...) })
}

// NewServer returns a server that is not started yet. The fx Module calls it
// for you.
func NewServer(cfg Config, opts ...ServerOption) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg.withDefaults(), log: slog.Default(), store: session.NewMemoryStore()}
	for _, o := range opts {
		o.applyServer(s)
	}
	return s, nil
}

// Config returns the configuration in force, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Start registers the services and starts serving. Registration mistakes
// come back as one error naming every problem.
func (s *Server) Start(ctx context.Context) error {
	if err := s.start(ctx); err != nil {
		return err
	}
	// Init hooks run without s.mu: they may use their namespace handles,
	// which read the server's state.
	for name, def := range s.static {
		s.runInit(def, name)
	}
	s.log.Debug("socketservice: started", "path", s.cfg.Path, "addr", s.Addr())
	return nil
}

func (s *Server) start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateNew {
		return errors.New("socketservice: Start called twice (a Server cannot be restarted)")
	}
	if err := s.register(); err != nil {
		return err
	}
	if err := s.checkRecovery(); err != nil {
		return err
	}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.io = socket.NewServer(nil, s.engineOptions())
	s.engine = s.io.ServeHandler(nil)
	s.reaper = enginefix.NewReaper(50 * time.Millisecond)
	s.janitorStop, s.janitorDone = make(chan struct{}), make(chan struct{})
	go s.janitor(s.janitorStop, s.janitorDone)
	if s.cfg.Recovery != nil {
		s.sweepStop, s.sweepDone = make(chan struct{}), make(chan struct{})
		go s.sweeper(s.sweepStop, s.sweepDone)
	}
	// socketfx makes each connection's socket.io client itself (see
	// onEngineConnection), instead of the engine's own listener.
	s.io.Engine().RemoveAllListeners("connection")
	_ = s.io.Engine().On("connection", s.onEngineConnection)

	s.bind(s.io.Of("/", nil), s.static["/"])
	for name, def := range s.static {
		if name != "/" {
			s.bind(s.io.Of(name, nil), def)
		}
	}
	for _, def := range s.patterns {
		s.bind(s.io.Of(def.pattern, nil), def)
	}
	_ = s.io.Sockets().On("new_namespace", s.onNewNamespace)

	if s.cfg.Addr != "" {
		ln, err := net.Listen("tcp", s.cfg.Addr)
		if err != nil {
			s.io.Close(nil)
			s.stopBackground()
			s.cancel()
			return fmt.Errorf("socketservice: listen on %s: %w", s.cfg.Addr, err)
		}
		s.addr = ln.Addr().String()
		s.httpSrv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
		s.served = make(chan struct{})
		go func() {
			defer close(s.served)
			if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("socketservice: http server stopped", "error", err)
			}
		}()
	}
	s.state = stateRunning
	return nil
}

// register builds every service's routes and checks for conflicts.
func (s *Server) register() error {
	var errs []error
	s.static = map[string]*serviceDef{}
	seenPattern := map[string]*serviceDef{}
	for _, svc := range s.services {
		if svc == nil {
			errs = append(errs, errors.New("socketservice: nil service"))
			continue
		}
		def := newServiceDef(svc)
		if err := def.err(); err != nil {
			errs = append(errs, err)
			continue
		}
		if def.pattern != nil {
			if other, dup := seenPattern[def.patternSrc]; dup {
				errs = append(errs, fmt.Errorf("socketservice: services %s and %s both serve namespace %s", other.owner, def.owner, def.describe()))
				continue
			}
			seenPattern[def.patternSrc] = def
			s.patterns = append(s.patterns, def)
		} else {
			if other, dup := s.static[def.name]; dup {
				errs = append(errs, fmt.Errorf("socketservice: services %s and %s both serve namespace %s", other.owner, def.owner, def.name))
				continue
			}
			s.static[def.name] = def
		}
		for _, rt := range def.routes {
			rt.build(s.global)
		}
	}
	return errors.Join(errs...)
}

func (s *Server) engineOptions() *socket.ServerOptions {
	c := s.cfg
	opts := socket.DefaultServerOptions()
	opts.SetPath(c.Path)
	opts.SetServeClient(false)
	opts.SetPingInterval(c.PingInterval)
	opts.SetPingTimeout(c.PingTimeout)
	opts.SetMaxHttpBufferSize(c.MaxPayload)
	opts.SetConnectTimeout(c.ConnectTimeout)
	// v3.0.6 sets a read deadline of IdleTimeout (default 120 s) before
	// every websocket read: keep it well past a ping round, so that a long
	// PingInterval does not close idle connections.
	opts.SetIdleTimeout(max(2*(c.PingInterval+c.PingTimeout), 120*time.Second))
	ts := types.NewSet[transports.TransportCtor]()
	for _, name := range c.Transports {
		ts.Add(enginefix.Transport(transports.Transports()[name]))
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
	case s.cluster != nil && c.Recovery != nil:
		ro := s.recoveryOptions()
		opts.SetAdapter(s.cluster.EngineAdapter(&RecoveryOptions{Store: ro.Store, Window: ro.Window, Logger: ro.Logger}))
	case s.cluster != nil:
		opts.SetAdapter(s.cluster.EngineAdapter(nil))
	case c.Recovery != nil:
		opts.SetAdapter(recovery.Builder{Options: s.recoveryOptions()})
	}
	if c.Recovery != nil {
		r := &socket.ConnectionStateRecovery{}
		r.SetMaxDisconnectionDuration(c.Recovery.MaxDisconnectionDuration.Milliseconds())
		// socketfx applies SkipMiddlewares itself, so that OnConnect hooks
		// still run for recovered sockets.
		r.SetSkipMiddlewares(false)
		opts.SetConnectionStateRecovery(r)
	}
	return opts
}

// bind attaches a service (nil for a namespace no service serves) to an
// engine namespace. Children of a pattern inherit both from the parent.
func (s *Server) bind(nsp socket.Namespace, def *serviceDef) {
	nsp.Use(func(raw *socket.Socket, next func(*socket.ExtendedError)) {
		s.onHandshake(raw, def, next)
	})
	if def != nil && def.pattern == nil {
		s.bindServerEvents(nsp, def)
	}
	_ = nsp.On("connection", func(args ...any) {
		if raw, ok := args[0].(*socket.Socket); ok {
			s.onConnection(raw)
		}
	})
}

func (s *Server) onNewNamespace(args ...any) {
	nsp, ok := args[0].(socket.Namespace)
	if !ok {
		return
	}
	name := nsp.Name()
	var match *serviceDef
	for _, def := range s.patterns {
		if def.pattern.MatchString(name) {
			if match != nil {
				s.log.Warn("socketservice: namespace matches more than one pattern; which service serves it is undefined",
					"namespace", name, "patterns", []string{match.patternSrc, def.patternSrc})
				break
			}
			match = def
		}
	}
	if match != nil {
		s.bindServerEvents(nsp, match)
		s.runInit(match, name)
	}
}

func (s *Server) runInit(def *serviceDef, name string) {
	if def == nil || len(def.init) == 0 {
		return
	}
	ns := s.Of(name)
	for _, h := range def.init {
		func() {
			defer s.recoverHook("init", name, "")
			h(s.ctx, ns)
		}()
	}
}

// onHandshake runs connection hooks before the client is told it is
// connected; an error becomes the client's connect_error.
func (s *Server) onHandshake(raw *socket.Socket, def *serviceDef, next func(*socket.ExtendedError)) {
	enginefix.ReleaseSocket(raw)
	s.connectBegin(raw)
	if st := s.currentState(); st != stateRunning {
		s.connectDone(raw)
		next(socket.NewExtendedError("server is shutting down", map[string]any{"code": string(CodeUnavailable)}))
		return
	}
	w := s.newSocket(raw, def)
	s.sockets.Store(raw, w)
	// The engine reports a packet it cannot decode here, then closes the
	// whole connection ("forced close").
	_ = raw.On("error", func(args ...any) {
		var err any
		if len(args) > 0 {
			err = args[0]
		}
		w.logger.Warn("socketservice: invalid packet from the client; closing its connection", "error", err)
	})
	// A connection that closes before the handshake completes never
	// reaches onConnection; the janitor forgets such sockets.
	_ = raw.Conn().Once("close", func(...any) { w.connClosedAt.Store(time.Now().UnixNano()) })
	skipMW := raw.Recovered() && s.cfg.Recovery != nil && s.cfg.Recovery.SkipMiddlewares
	var hooks []ConnectHook
	if !skipMW {
		hooks = append(hooks, s.globalConnect...)
		if def != nil {
			hooks = append(hooks, def.connectMW...)
		}
	}
	if def != nil {
		hooks = append(hooks, def.connect...)
	}
	if len(hooks) == 0 {
		s.accept(w)
		next(nil)
		return
	}
	s.inflight.add(1)
	go func() {
		defer s.inflight.done()
		err := s.runConnectHooks(w, hooks)
		if err == nil {
			s.accept(w)
			next(nil)
			return
		}
		s.sockets.Delete(raw)
		s.connectDone(raw)
		w.gone.Store(true)
		w.cancel()
		wire := wireError(err, s.cfg.ExposeErrors)
		msg, _ := wire["message"].(string)
		delete(wire, "message")
		if CodeOf(err) == CodeInternal {
			w.logger.Error("socketservice: connect hook failed", "error", err)
		} else {
			w.logger.Debug("socketservice: connection rejected", "error", err)
		}
		next(socket.NewExtendedError(msg, wire))
	}()
}

func (s *Server) runConnectHooks(w *Socket, hooks []ConnectHook) (err error) {
	ctx := context.WithValue(w.ctx, socketKey{}, w)
	defer func() {
		if r := recover(); r != nil {
			w.logger.Error("socketservice: connect hook panicked", "panic", r, "stack", string(debug.Stack()))
			err = errPanicked
		}
	}()
	for _, h := range hooks {
		if err := h(ctx, w); err != nil {
			return err
		}
	}
	return nil
}

var errPanicked = errors.New("socketservice: panic (already logged)")

func (s *Server) newSocket(raw *socket.Socket, def *serviceDef) *Socket {
	nsp := raw.Nsp().Name()
	w := &Socket{
		raw:       raw,
		srv:       s,
		svc:       def,
		nsp:       nsp,
		handshake: newHandshake(raw.Handshake()),
		logger:    s.log.With("namespace", nsp, "socket", string(raw.Id())),
	}
	w.queue.track = &s.inflight
	w.sess = s.attachSession(raw)
	// Kept on the socket: the connection's close listener can forget the
	// connection before the engine reports this socket's disconnect.
	w.conn = s.connState(raw)
	w.ctx, w.cancel = context.WithCancel(session.NewContext(s.ctx, w.sess))
	return w
}

func (s *Server) onConnection(raw *socket.Socket) {
	s.connectDone(raw)
	v, ok := s.sockets.Load(raw)
	if !ok {
		// Its connection closed long before the engine got here and the
		// janitor forgot it; the engine still counts it as connected.
		raw.Disconnect(false)
		return
	}
	w := v.(*Socket)
	w.markConnected()
	raw.OnAny(w.onEvent)
	_ = raw.On("disconnect", func(args ...any) {
		reason, _ := args[0].(string)
		s.onDisconnect(w, reason)
	})
	// The engine writes CONNECT before it records the socket on its
	// client. If the connection closed in between, the engine's close
	// handler missed the socket, which would stay connected forever; if it
	// closed while we were registering, the disconnect came too early for
	// our listener. Either way the connection is gone: finish the socket.
	if raw.Conn().ReadyState() != "open" || !raw.Connected() {
		w.orphaned.Store(true)
		if raw.Connected() {
			raw.Disconnect(false)
		}
		s.onDisconnect(w, "transport close")
	}
}

// janitor forgets sockets whose connection closed during the handshake
// (the engine then drops them without a connection or disconnect event).
// It owns one goroutine from Start to Stop.
func (s *Server) janitor(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			s.sockets.Range(func(k, v any) bool {
				w := v.(*Socket)
				if at := w.connClosedAt.Load(); at != 0 && !w.connected.Load() && now.UnixNano()-at > int64(time.Second) {
					s.sockets.Delete(k)
					w.gone.Store(true)
					s.uncount(w)
					w.cancel()
				}
				return true
			})
		}
	}
}

func (s *Server) onDisconnect(w *Socket, reason string) {
	if !w.gone.CompareAndSwap(false, true) {
		return // the engine can report one disconnect twice
	}
	switch {
	case reason != "client namespace disconnect" && s.leftCleanly(w):
		reason = "client namespace disconnect"
	case w.orphaned.Load():
		reason = "transport close"
	}
	w.logger.Debug("socketservice: disconnected", "reason", reason)
	if reason == "client namespace disconnect" || reason == "server namespace disconnect" {
		s.discardSession(w)
	}
	s.uncount(w)
	s.sockets.Delete(w.raw)
	w.queue.push(func() {
		defer w.cancel()
		if w.svc == nil {
			return
		}
		ctx := context.WithValue(w.ctx, socketKey{}, w)
		for _, h := range w.svc.disconnect {
			func() {
				defer s.recoverHook("disconnect", w.nsp, w.ID())
				h(ctx, w, reason)
			}()
		}
	})
}

func (s *Server) recoverHook(kind, nsp, id string) {
	if r := recover(); r != nil {
		s.log.Error("socketservice: "+kind+" hook panicked", "namespace", nsp, "socket", id,
			"panic", r, "stack", string(debug.Stack()))
	}
}

// Stop stops the server gracefully: it refuses new connections, waits for
// running handlers, disconnects every client (disconnect hooks run), and
// closes its listener, all within ctx and Config.ShutdownTimeout; what is
// still running then is abandoned and its context cancelled.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.state != stateRunning {
		s.mu.Unlock()
		return nil
	}
	s.state = stateStopping
	s.mu.Unlock()

	// One deadline for the whole stop, so that it ends within
	// ShutdownTimeout whatever its stages meet.
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ShutdownTimeout)
	defer cancel()
	var errs []error
	if err := s.wait(ctx, "drain handlers"); err != nil {
		errs = append(errs, err)
	}
	if err := s.flushWrites(ctx); err != nil {
		errs = append(errs, err)
	}
	// Like Node's io.close(): sockets end with "server shutting down" and
	// no DISCONNECT packet, so clients reconnect (to another node).
	s.io.Close(nil)
	s.polls.endAll()
	if err := s.waitConnsClosed(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := s.wait(ctx, "run disconnect hooks"); err != nil {
		errs = append(errs, err)
	}
	s.cancel()
	s.stopBackground()
	if s.httpSrv != nil {
		// A long-poll request can hold Shutdown until its timeout: bound
		// it, then close whatever is left.
		if err := s.httpSrv.Shutdown(ctx); err != nil {
			_ = s.httpSrv.Close()
		}
		<-s.served
	}
	s.mu.Lock()
	s.state = stateStopped
	s.mu.Unlock()
	return errors.Join(errs...)
}

// flushWrites waits until every websocket connection has handed its queued
// packets (the acks of the handlers just drained) to the network: the
// engine's close discards what is still queued. A polling transport is only
// writable while its client has a request pending, which a client that went
// away never sends: polling clients get queued packets with their next poll,
// if it comes before the close.
func (s *Server) flushWrites(ctx context.Context) error {
	return s.pollUntil(ctx, "flush writes", func() bool {
		flushed := true
		s.conns.Range(func(k, _ any) bool {
			conn := k.(engine.Socket)
			tr := conn.Transport()
			if conn.ReadyState() == "open" && tr != nil && tr.Name() == "websocket" && !tr.Writable() {
				flushed = false
			}
			return flushed
		})
		return flushed
	})
}

// waitConnsClosed waits until the engine has closed every connection (and
// our close listeners have run), so that nothing is handed to the reaper
// after it stopped.
func (s *Server) waitConnsClosed(ctx context.Context) error {
	return s.pollUntil(ctx, "close connections", func() bool {
		closed := true
		s.conns.Range(func(_, _ any) bool { closed = false; return false })
		return closed
	})
}

// pollUntil checks done every 5 ms until it holds or the stop's deadline
// passes. The engine offers no event for either condition.
func (s *Server) pollUntil(ctx context.Context, stage string, done func() bool) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for !done() {
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("socketservice: stop: %s: %w", stage, ctx.Err())
		}
	}
	return nil
}

// wait waits for in-flight handlers and hooks until the stop's deadline.
func (s *Server) wait(ctx context.Context, stage string) error {
	select {
	case <-s.inflight.idleChan():
		return nil
	case <-ctx.Done():
		// Cancel the handlers' contexts so that they can end.
		s.cancel()
		return fmt.Errorf("socketservice: stop: %s: %w", stage, ctx.Err())
	}
}

// stopBackground stops the goroutines the server owns besides its HTTP
// server: the timer reaper and the janitor.
func (s *Server) stopBackground() {
	s.reaper.Close()
	close(s.janitorStop)
	<-s.janitorDone
	if s.sweepStop != nil {
		close(s.sweepStop)
		<-s.sweepDone
	}
}

func (s *Server) currentState() serverState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.state
}

// Addr returns the address the server listens on when Config.Addr is set
// (with the real port when it was 0), and "" otherwise.
func (s *Server) Addr() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.addr
}

// Of returns a handle on the namespace name (a fixed name, or a concrete
// name that matches a service's pattern). The handle can be taken at any
// time; its operations fail with ErrNotRunning outside Start…Stop and with
// ErrUnknownNamespace for a name no service serves.
func (s *Server) Of(name string) Namespace {
	return Namespace{srv: s, name: "/" + strings.TrimPrefix(name, "/")}
}

func (s *Server) engineNamespace(name string) (socket.Namespace, error) {
	s.mu.RLock()
	io, st := s.io, s.state
	s.mu.RUnlock()
	if io == nil || (st != stateRunning && st != stateStopping) {
		return nil, ErrNotRunning
	}
	if name == "/" || s.static[name] != nil {
		return io.Of(name, nil), nil
	}
	for _, def := range s.patterns {
		if def.pattern.MatchString(name) {
			return io.Of(name, nil), nil
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrUnknownNamespace, name)
}

func (s *Server) counter(name string) *atomic.Int64 {
	if c, ok := s.counts.Load(name); ok {
		return c.(*atomic.Int64)
	}
	c, _ := s.counts.LoadOrStore(name, new(atomic.Int64))
	return c.(*atomic.Int64)
}

// accept counts a socket its connect hooks let through, before the engine
// writes its CONNECT: a client told it is connected is already counted.
func (s *Server) accept(w *Socket) {
	if w.counted.CompareAndSwap(false, true) {
		s.counter(w.nsp).Add(1)
	}
}

// uncount undoes accept, once.
func (s *Server) uncount(w *Socket) {
	if w.counted.CompareAndSwap(true, false) {
		s.counter(w.nsp).Add(-1)
	}
}

func (s *Server) count(name string) int {
	if c, ok := s.counts.Load(name); ok {
		return int(c.(*atomic.Int64).Load())
	}
	return 0
}
