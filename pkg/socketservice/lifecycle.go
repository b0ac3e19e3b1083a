package socketservice

import (
	"context"
	"errors"
	"runtime/debug"
	"sync/atomic"

	"github.com/socketfx/socketfx/internal/engine"
)

// serverEvents is the Server as the engine driver sees it (engine.Events).
type serverEvents Server

var _ engine.Events = (*serverEvents)(nil)

// Namespace implements engine.Events: the server events of a namespace's
// service; a pattern's child also runs the service's init hooks (those of
// fixed namespaces run at Start).
func (e *serverEvents) Namespace(name string, dynamic bool) []string {
	s := (*Server)(e)
	var match *serviceDef
	if dynamic {
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
	} else {
		match = s.static[name]
	}
	if match == nil {
		return nil
	}
	if dynamic {
		s.runInit(match, name)
	}
	events := make([]string, 0, len(match.serverEvents))
	for event := range match.serverEvents {
		events = append(events, event)
	}
	return events
}

// Handshake implements engine.Events: it runs the connection hooks before
// the client is told it is connected; an error becomes the client's
// connect_error.
func (e *serverEvents) Handshake(c *engine.Conn) engine.Handler {
	s := (*Server)(e)
	def := s.serviceFor(c.Namespace())
	if st := s.currentState(); st != stateRunning && st != stateDraining {
		if s.obs != nil {
			s.obs.SocketRejected(s.labelFor(def, c.Namespace()), CodeUnavailable)
		}
		c.Reject("server is shutting down", map[string]any{"code": string(CodeUnavailable)})
		return nil
	}
	w := s.newSocket(c, def)
	if s.obs != nil && s.cfg.Recovery != nil {
		if pid, _ := c.Handshake().Auth["pid"].(string); pid != "" {
			s.obs.RecoveryAttempted(w.label(), c.Recovered())
		}
	}
	skipMW := c.Recovered() && s.cfg.Recovery != nil && s.cfg.Recovery.SkipMiddlewares
	var mw []ConnectMiddleware
	if !skipMW {
		mw = append(mw, s.globalConnect...)
		if def != nil {
			mw = append(mw, def.connectMW...)
		}
	}
	var hooks []ConnectHook
	if def != nil {
		hooks = def.connect
	}
	if len(mw) == 0 && len(hooks) == 0 {
		s.accept(w)
		c.Accept()
		return s.handlerFor(w)
	}
	s.inflight.add(1)
	go func() {
		defer s.inflight.done()
		err := s.runConnect(w, mw, hooks)
		if err == nil {
			s.accept(w)
			c.Accept()
			return
		}
		w.cancel()
		wire := wireError(err, s.cfg.ExposeErrors)
		msg, _ := wire["message"].(string)
		delete(wire, "message")
		if s.obs != nil {
			s.obs.SocketRejected(w.label(), CodeOf(err))
		}
		if CodeOf(err) == CodeInternal {
			w.logger.Error("socketservice: connect hook failed", "error", err)
		} else {
			w.logger.Debug("socketservice: connection rejected", "error", err)
		}
		c.Reject(msg, wire)
	}()
	return s.handlerFor(w)
}

// ServerEvent implements engine.Events.
func (e *serverEvents) ServerEvent(nsp, event string, args []any, reply func([]any)) {
	s := (*Server)(e)
	def := s.serviceFor(nsp)
	if def == nil || def.serverEvents[event] == nil {
		return
	}
	s.runServerEvent(nsp, event, def.serverEvents[event], args, reply)
}

// runConnect runs the connection middleware around the OnConnect hooks;
// a panic anywhere is an internal error that refuses the connection.
func (s *Server) runConnect(w *Socket, mw []ConnectMiddleware, hooks []ConnectHook) (err error) {
	ctx := context.WithValue(w.ctx, socketKey{}, w)
	defer func() {
		if r := recover(); r != nil {
			w.logger.Error("socketservice: connect hook panicked", "panic", r, "stack", string(debug.Stack()))
			err = errPanicked
		}
	}()
	h := ConnectHook(func(ctx context.Context, w *Socket) error {
		for _, h := range hooks {
			if err := h(ctx, w); err != nil {
				return err
			}
		}
		return nil
	})
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h(ctx, w)
}

// errPanicked answers a recovered panic: an internal error whose message
// never carries the panic, logged (with its stack) where it was recovered.
var errPanicked = NewError(CodeInternal, internalMessage).WithCause(errors.New("panic (already logged)"))

// socketHandler is a Socket as the engine driver sees it (engine.Handler).
type socketHandler Socket

var _ engine.Handler = (*socketHandler)(nil)

// OnConnect implements engine.Handler.
func (h *socketHandler) OnConnect() {}

// OnEvent implements engine.Handler.
func (h *socketHandler) OnEvent(event string, args []any, ack func([]any)) {
	(*Socket)(h).onEvent(event, args, ack)
}

// OnDisconnect implements engine.Handler: the disconnect hooks run on the
// socket's queue, after its pending events.
func (h *socketHandler) OnDisconnect(reason string) {
	w := (*Socket)(h)
	s := w.srv
	w.logger.Debug("socketservice: disconnected", "reason", reason)
	s.uncount(w, reason)
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

// OnDrop implements engine.Handler: the connection closed during the
// handshake.
func (h *socketHandler) OnDrop() {
	w := (*Socket)(h)
	w.srv.uncount(w, "")
	w.cancel()
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

func (s *Server) recoverHook(kind, nsp, id string) {
	if r := recover(); r != nil {
		s.log.Error("socketservice: "+kind+" hook panicked", "namespace", nsp, "socket", id,
			"panic", r, "stack", string(debug.Stack()))
	}
}

func (s *Server) counter(name string) *atomic.Int64 {
	if c, ok := s.counts.Load(name); ok {
		return c.(*atomic.Int64)
	}
	c, _ := s.counts.LoadOrStore(name, new(atomic.Int64))
	return c.(*atomic.Int64)
}

// A socket's place in its namespace's Count: not yet counted, counted
// (from acceptance to disconnect), or done (disconnected or dropped; it is
// never counted again, even when its connect hooks finish after its
// connection closed).
const (
	notCounted int32 = iota
	counted
	countDone
)

// accept counts a socket its connect hooks let through, before the engine
// writes its CONNECT: a client told it is connected is already counted.
func (s *Server) accept(w *Socket) {
	if w.count.CompareAndSwap(notCounted, counted) {
		s.counter(w.nsp).Add(1)
		if s.obs != nil {
			s.obs.SocketConnected(w.label(), w.wire.Recovered())
		}
		s.monitorConnected(w)
	}
}

// uncount ends the socket's count, once; reason is "" for a socket
// dropped during its handshake.
func (s *Server) uncount(w *Socket, reason string) {
	if w.count.Swap(countDone) == counted {
		s.counter(w.nsp).Add(-1)
		if reason == "" {
			reason = "transport close"
		}
		if s.obs != nil {
			s.obs.SocketDisconnected(w.label(), reason)
		}
		s.monitorDisconnected(w, reason)
	}
}

// label is how observers name the socket's namespace.
func (w *Socket) label() string { return w.srv.labelFor(w.svc, w.nsp) }

func (s *Server) labelFor(def *serviceDef, name string) string {
	if def != nil {
		return def.label()
	}
	return name
}

func (s *Server) count(name string) int {
	if c, ok := s.counts.Load(name); ok {
		return int(c.(*atomic.Int64).Load())
	}
	return 0
}
