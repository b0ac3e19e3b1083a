package socketservice

import (
	"github.com/socketfx/socketfx/internal/engine"
	"go.uber.org/fx"
)

// Monitor sees every socket of the server in detail: who connected and
// with what handshake, its transport, its rooms, and every event in and out
// with its arguments. It is for admin tools (pkg/admin implements it for
// the Socket.IO Admin UI); for metrics use an Observer, whose labels stay
// bounded. A Monitor costs: with one, the engine reports each outgoing
// event and room change, which it does not otherwise. Provide monitors with
// WithMonitors or, under fx, with AsMonitor.
//
// Its methods run on the server's and the engine's goroutines: they must
// be quick (queue the work and return), must not block, must not panic,
// and must not keep args, which the handlers may still use.
type Monitor interface {
	// WireObserver sees the engine's connections and packets (the Admin
	// UI's aggregated counts).
	WireObserver
	// SocketConnected: a socket was accepted and is about to be told so.
	SocketConnected(s *Socket)
	// SocketUpgraded: the socket's connection moved to transport.
	SocketUpgraded(s *Socket, transport string)
	// SocketDisconnected: an accepted socket ended, for reason.
	SocketDisconnected(s *Socket, reason string)
	// RoomJoined and RoomLeft: the socket id joined or left room of
	// namespace on this node, by its own call or a cluster-wide one
	// (Namespace.SocketsJoin); a socket's join of its own room is reported
	// when it connects.
	RoomJoined(namespace, room, id string)
	RoomLeft(namespace, room, id string)
	// EventReceived: the client sent event (before any middleware runs;
	// unknown events included).
	EventReceived(s *Socket, event string, args []any)
	// EventSent: event went to the socket, by an emit or a broadcast.
	EventSent(s *Socket, event string, args []any)
}

// MonitorsGroup is the fx value group AsMonitor provides into.
const MonitorsGroup = "socketfx.monitors"

// AsMonitor provides the result of constructor (a Monitor, and an error
// last if it likes) to the server's monitors; pkg/admin's UI module uses
// it.
func AsMonitor(constructor any) fx.Option {
	return fx.Provide(fx.Annotate(constructor, fx.As(new(Monitor)), fx.ResultTags(`group:"`+MonitorsGroup+`"`)))
}

// WithMonitors adds monitors to the server (see Monitor).
func WithMonitors(m ...Monitor) ServerOption {
	return serverOptionFunc(func(s *Server) {
		for _, mon := range m {
			if mon != nil {
				s.monitors = append(s.monitors, mon)
			}
		}
	})
}

// monitored reports whether the server has monitors; they are fixed at New.
func (s *Server) monitored() bool { return len(s.monitors) > 0 }

// wireObserver is what the engine reports connections and packets to: the
// observers and the monitors, or nil.
func (s *Server) wireObserver() engine.Observer {
	w := make(multiWire, 0, len(s.observers)+len(s.monitors))
	for _, o := range s.observers {
		w = append(w, o)
	}
	for _, m := range s.monitors {
		w = append(w, m)
	}
	switch len(w) {
	case 0:
		return nil
	case 1:
		return w[0]
	}
	return w
}

// multiWire fans the engine's reports out to several WireObservers.
type multiWire []WireObserver

func (m multiWire) ConnOpened(t string) {
	for _, o := range m {
		o.ConnOpened(t)
	}
}

func (m multiWire) ConnUpgraded(from, to string) {
	for _, o := range m {
		o.ConnUpgraded(from, to)
	}
}

func (m multiWire) ConnClosed(t, reason string) {
	for _, o := range m {
		o.ConnClosed(t, reason)
	}
}

func (m multiWire) PacketIn(t string, n int) {
	for _, o := range m {
		o.PacketIn(t, n)
	}
}

func (m multiWire) PacketOut(t string, n int) {
	for _, o := range m {
		o.PacketOut(t, n)
	}
}

// RoomChanged implements engine.RoomEvents.
func (e *serverEvents) RoomChanged(nsp, room, id string, joined bool) {
	for _, m := range (*Server)(e).monitors {
		if joined {
			m.RoomJoined(nsp, room, id)
		} else {
			m.RoomLeft(nsp, room, id)
		}
	}
}

var _ engine.RoomEvents = (*serverEvents)(nil)

// monitoredHandler is the engine.Handler of a socket of a monitored server.
type monitoredHandler struct{ *socketHandler }

var _ engine.DetailHandler = monitoredHandler{}

// OnUpgrade implements engine.DetailHandler.
func (h monitoredHandler) OnUpgrade(transport string) {
	w := (*Socket)(h.socketHandler)
	for _, m := range w.srv.monitors {
		m.SocketUpgraded(w, transport)
	}
}

// OnSent implements engine.DetailHandler.
func (h monitoredHandler) OnSent(event string, args []any) {
	w := (*Socket)(h.socketHandler)
	for _, m := range w.srv.monitors {
		m.EventSent(w, event, args)
	}
}

// OnEvent implements engine.Handler: the monitors see the event first.
func (h monitoredHandler) OnEvent(event string, args []any, ack func([]any)) {
	w := (*Socket)(h.socketHandler)
	for _, m := range w.srv.monitors {
		m.EventReceived(w, event, args)
	}
	h.socketHandler.OnEvent(event, args, ack)
}

// handlerFor is the engine's view of w: with monitors, one that reports to them.
func (s *Server) handlerFor(w *Socket) engine.Handler {
	if s.monitored() {
		return monitoredHandler{(*socketHandler)(w)}
	}
	return (*socketHandler)(w)
}

// monitorConnected tells the monitors that w was accepted.
func (s *Server) monitorConnected(w *Socket) {
	for _, m := range s.monitors {
		m.SocketConnected(w)
	}
}

// monitorDisconnected tells the monitors that w ended.
func (s *Server) monitorDisconnected(w *Socket, reason string) {
	for _, m := range s.monitors {
		m.SocketDisconnected(w, reason)
	}
}
