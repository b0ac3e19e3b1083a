package socketservice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/socketfx/socketfx/internal/engine"
	"github.com/socketfx/socketfx/pkg/session"
)

type serverState int32

const (
	stateNew serverState = iota
	stateRunning
	stateDraining // Stop began: not ready, still serving (Config.DrainDelay)
	stateStopping // no new connections or events; in-flight work finishes
	stateStopped
)

// Server is the Socket.IO server: it binds services to namespaces, runs
// their handlers, and gives out Namespace handles. Build it with the fx
// Module, or with New and Start/Stop. All methods are safe for
// concurrent use.
type Server struct {
	cfg           Config
	log           *slog.Logger
	global        []Middleware
	globalAfter   []AfterHook
	globalConnect []ConnectMiddleware
	validate      InputValidator
	tagsOnly      bool // validate is the default StructValidator
	allowRequest  AllowRequest
	limits        *connLimiter // Config.Limits; nil without
	services      []Service
	cluster       Cluster
	store         session.Store
	observers     []Observer
	monitors      []Monitor
	obs           Observer      // the observers combined, or nil
	rootUnknown   EventObserver // unknown events of "/" without a service

	mu       sync.RWMutex
	state    serverState
	driver   *engine.Driver // set by Start
	static   map[string]*serviceDef
	patterns []*serviceDef
	defs     []*serviceDef // every service's, in registration order
	httpSrv  *http.Server
	root     http.Handler // AsHTTPHandler
	routes   []HTTPRoute  // AsHTTPRoute, WithHTTPRoutes
	addr     string
	served   chan struct{}

	sweepStop chan struct{} // nil without Config.Recovery
	sweepDone chan struct{}
	inflight  inflight
	counts    sync.Map // namespace name → *atomic.Int64
	ctx       context.Context
	cancel    context.CancelFunc
}

// ServerOption configures a Server built with New.
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

// WithGlobalAfterHooks adds after hooks to every handler of every service,
// run after the services' own (see AfterHook).
func WithGlobalAfterHooks(h ...AfterHook) ServerOption {
	return serverOptionFunc(func(s *Server) { s.globalAfter = append(s.globalAfter, h...) })
}

// WithInputValidator sets the validator every typed handler runs on each
// decoded argument, before the argument's own Validate method. Nil keeps
// the default, StructValidator.
func WithInputValidator(v InputValidator) ServerOption {
	return serverOptionFunc(func(s *Server) {
		if v != nil {
			s.validate, s.tagsOnly = v, false
		}
	})
}

// WithGlobalConnectMiddleware adds connection middleware run at the
// handshake of every namespace, outside the namespace's own.
func WithGlobalConnectMiddleware(mw ...ConnectMiddleware) ServerOption {
	return serverOptionFunc(func(s *Server) { s.globalConnect = append(s.globalConnect, mw...) })
}

// New returns a server that is not started yet, for use without fx (call
// Start and Stop). Under fx, Module builds it with NewFx.
func New(cfg Config, opts ...ServerOption) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg.withDefaults(), log: slog.Default(), store: session.NewMemoryStore(), validate: StructValidator(), tagsOnly: true}
	for _, o := range opts {
		o.applyServer(s)
	}
	if cfg.Limits != nil {
		s.limits = newConnLimiter(*cfg.Limits)
	}
	return s, nil
}

// Ready reports whether the server should be sent new connections: nil
// while it runs, ErrDraining from the moment Stop begins (it still serves
// for Config.DrainDelay, so that load balancers can take it out of
// rotation first), ErrNotRunning before Start and after. It is the
// readiness check of pkg/health.
func (s *Server) Ready() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch s.state {
	case stateRunning:
		return nil
	case stateDraining, stateStopping:
		return ErrDraining
	}
	return ErrNotRunning
}

// ErrDraining is Server.Ready's answer once Stop began.
var ErrDraining = errors.New("socketservice: server is draining (stopping)")

// binding is what typed handlers are bound to (see Handler).
func (s *Server) binding() binding {
	return binding{validate: s.validate, tagsOnly: s.tagsOnly, observed: s.obs != nil}
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
	s.obs = s.observer()
	if err := s.register(); err != nil {
		return err
	}
	if err := s.checkRecovery(); err != nil {
		return err
	}
	s.bindObservers()
	if s.cfg.Addr == "" && (s.root != nil || len(s.routes) > 0) {
		return errors.New("socketservice: HTTP routes are served on the server's own listener, and Config.Addr is empty: " +
			"set it, or serve your routes and Server.Handler() on your own http.Server")
	}
	var handler http.Handler
	if s.cfg.Addr != "" {
		var err error
		if handler, err = s.httpHandler(); err != nil {
			return err
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.driver = engine.NewDriver(s.driverOptions(), (*serverEvents)(s))
	s.driver.Start()
	if s.cfg.Recovery != nil {
		s.sweepStop, s.sweepDone = make(chan struct{}), make(chan struct{})
		go s.sweeper(s.sweepStop, s.sweepDone)
	}
	if s.cfg.Addr != "" {
		ln, err := net.Listen("tcp", s.cfg.Addr)
		if err != nil {
			s.driver.Close()
			s.stopBackground()
			s.cancel()
			return fmt.Errorf("socketservice: listen on %s: %w", s.cfg.Addr, err)
		}
		s.addr = ln.Addr().String()
		s.httpSrv = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
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

func (s *Server) driverOptions() engine.Options {
	c := s.cfg
	o := engine.Options{
		Path: c.Path, PingInterval: c.PingInterval, PingTimeout: c.PingTimeout,
		ConnectTimeout: c.ConnectTimeout, MaxPayload: c.MaxPayload, Transports: c.Transports,
		Logger:               s.log,
		InvalidNamespaceData: map[string]any{"code": string(CodeInvalidNamespace)},
	}
	if w := s.wireObserver(); w != nil {
		o.Observer = w
	}
	o.Detail = s.monitored()
	o.WriteLimit = engine.WriteLimit{Bytes: max(c.WriteBuffer.MaxBytes, 0), Packets: max(c.WriteBuffer.MaxPackets, 0)}
	if l := s.limits; l != nil {
		o.Conns = func(r *http.Request) func() { return l.opened(ClientIP(r, l.cfg.ClientIPHeader)) }
	}
	if c.CORS != nil {
		o.CORS = &engine.CORS{Origins: c.CORS.Origins, Credentials: c.CORS.Credentials}
	}
	if c.Recovery != nil {
		o.Recovery = &engine.Recovery{Window: c.Recovery.MaxDisconnectionDuration, Store: s.store}
	}
	if s.cluster != nil {
		var ro *RecoveryOptions
		if c.Recovery != nil {
			ro = &RecoveryOptions{Store: s.store, Window: c.Recovery.MaxDisconnectionDuration, Logger: s.log}
		}
		o.Adapter = s.cluster.EngineAdapter(ro)
	}
	for name := range s.static {
		o.Namespaces = append(o.Namespaces, name)
	}
	for _, def := range s.patterns {
		o.Patterns = append(o.Patterns, def.pattern)
		o.ChildLimits = append(o.ChildLimits, engine.ChildLimit{Max: def.children.Max, Idle: def.children.Idle})
	}
	return o
}

// Stop stops the server gracefully, within one deadline (ctx's or
// Config.ShutdownTimeout, whichever is earlier), in this order:
//
//  1. Ready fails at once (readiness probes answer 503); for
//     Config.DrainDelay the server goes on serving, new connections
//     included, while load balancers take it out of rotation;
//  2. it stops accepting: new connections get 503 (clients retry, on
//     another node), new namespace connects SERVICE_UNAVAILABLE, and
//     events that arrive are not handled (not acked: a client with
//     socket.io-client's retries option sends them again after it
//     reconnects);
//  3. running handlers finish and their acks are written;
//  4. every socket is closed with "server shutting down", which the
//     official client treats as a lost connection: it reconnects, and
//     with Config.Recovery and a shared store it recovers on another node
//     (the sessions are kept before the connections close);
//  5. disconnect hooks run, the listener closes.
//
// What is still running at the deadline is abandoned and its context
// cancelled.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.state != stateRunning {
		s.mu.Unlock()
		return nil
	}
	s.state = stateDraining
	s.mu.Unlock()

	// One deadline for the whole stop, so that it ends within
	// ShutdownTimeout whatever its stages meet.
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ShutdownTimeout)
	defer cancel()
	s.drainDelay(ctx)
	s.mu.Lock()
	s.state = stateStopping
	s.mu.Unlock()
	s.inflight.refuse()
	var errs []error
	if err := s.wait(ctx, "drain handlers"); err != nil {
		errs = append(errs, err)
	}
	// The engine's close discards what is still queued: the acks of the
	// handlers just drained go out first.
	if err := s.driver.FlushWrites(ctx); err != nil {
		errs = append(errs, fmt.Errorf("socketservice: stop: %w", err))
	}
	// Like Node's io.close(): sockets end with "server shutting down" and
	// no DISCONNECT packet, so clients reconnect (to another node).
	s.driver.Close()
	if err := s.driver.WaitClosed(ctx); err != nil {
		errs = append(errs, fmt.Errorf("socketservice: stop: %w", err))
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

// drainDelay serves on for Config.DrainDelay, shortened (with a warning)
// when the stop's deadline leaves too little time for the rest.
func (s *Server) drainDelay(ctx context.Context) {
	delay := s.cfg.DrainDelay
	if delay <= 0 {
		return
	}
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < delay+minStopAfterDrain {
			short := max(left/2, 0)
			s.log.Warn("socketservice: the stop's deadline leaves too little time for Config.DrainDelay; shortened "+
				"(raise fx.StopTimeout, fx's default is 15s, or lower DrainDelay)",
				"drain_delay", delay, "time_left", left.Round(time.Millisecond), "shortened_to", short.Round(time.Millisecond))
			delay = short
		}
	}
	s.log.Info("socketservice: draining: not ready, still serving", "for", delay)
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// minStopAfterDrain is the least time the stages after the drain delay
// should have: finishing handlers and closing connections.
const minStopAfterDrain = time.Second

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
// server: the driver's and the session sweeper.
func (s *Server) stopBackground() {
	s.driver.Shutdown()
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
