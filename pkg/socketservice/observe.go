package socketservice

import (
	"context"
	"errors"
	"time"

	"github.com/socketfx/socketfx/internal/engine"
	"github.com/socketfx/socketfx/internal/engine/cluster"
	"github.com/socketfx/socketfx/pkg/session"
)

// Observer watches a Server for metrics and tracing; pkg/metrics
// implements it on Prometheus. Provide observers with WithObservers or,
// under fx, with AsObserver (metrics.Module does).
//
// Its methods run on the server's goroutines, many on the path of every
// packet and event: they must be quick, must not block and must not
// panic. Namespaces are given as their service declared them: a route's
// or pattern's children all report under "/tenant/{id}", never under each
// child, so that label values stay bounded. Event names are those the
// services registered (Handler) or emitted (EventSent), never a name a
// client chose.
type Observer interface {
	// WireObserver sees engine connections and packets.
	WireObserver

	// SocketConnected: a socket was accepted (its connect hooks let it
	// through); recovered is true for a connection-state recovery.
	SocketConnected(namespace string, recovered bool)
	// SocketRejected: a connection's handshake was refused with code
	// (CodeUnavailable while the server stops).
	SocketRejected(namespace string, code Code)
	// SocketDisconnected: an accepted socket ended, for reason (the
	// Socket.IO reason: "transport close", "client namespace
	// disconnect", "server shutting down", …).
	SocketDisconnected(namespace, reason string)
	// RecoveryAttempted: a client asked to recover its state (Config.Recovery);
	// recovered says whether it did.
	RecoveryAttempted(namespace string, recovered bool)

	// Events is called once per handler when the server starts, and once
	// per namespace with event "" for the events no handler serves. What it
	// returns sees every event of that handler.
	Events(namespace, event string) EventObserver
	// EventSent: the server emitted event (Socket.Emit, a Namespace
	// handle's Emit, a declared emit). A broadcast counts once.
	EventSent(namespace, event string)
	// AckWaited: the server waited d for clients' acks (EmitWithAck);
	// outcome is "ok", "timeout" or "error".
	AckWaited(namespace, outcome string, d time.Duration)
	// ClusterRequest: with a Cluster, a request to the other nodes ended:
	// op is "fetch_sockets", "server_side_emit" or "broadcast_ack",
	// outcome "ok", "timeout" or "error".
	ClusterRequest(op, outcome string, d time.Duration)
	// SessionStore: an operation of the session store ended ("save",
	// "take", "delete", "expired"); err is its error, if any.
	SessionStore(op string, err error)
}

// WireObserver sees the engine's connections and packets, by transport
// ("polling", "websocket"). Packets are Engine.IO packets (pings, messages,
// attachments) and bytes their payload's size.
type WireObserver interface {
	ConnOpened(transport string)
	// ConnUpgraded: a connection moved from one transport to another.
	ConnUpgraded(from, to string)
	ConnClosed(transport, reason string)
	PacketIn(transport string, bytes int)
	PacketOut(transport string, bytes int)
}

var _ engine.Observer = WireObserver(nil)

// EventObserver sees the events of one handler (see Observer.Events).
type EventObserver interface {
	// Received: an event arrived.
	Received()
	// Started: it begins its chain (middleware and handler).
	Started()
	// Finished: it ended after d; code is the error's Code (empty for
	// OutcomeOK).
	Finished(outcome Outcome, code Code, d time.Duration)
}

// Outcome is how an event's chain ended, for observers.
type Outcome uint8

// Outcomes of an event.
const (
	// OutcomeOK: the handler returned a result (or ErrNoAck).
	OutcomeOK Outcome = iota
	// OutcomeError: the handler ran and returned an error.
	OutcomeError
	// OutcomeRejected: middleware answered with an error before the
	// handler ran (auth, validation, rate limit, timeout …).
	OutcomeRejected
	// OutcomePanic: the chain panicked.
	OutcomePanic
)

// String returns "ok", "error", "rejected" or "panic".
func (o Outcome) String() string {
	switch o {
	case OutcomeOK:
		return "ok"
	case OutcomeError:
		return "error"
	case OutcomeRejected:
		return "rejected"
	case OutcomePanic:
		return "panic"
	}
	return "unknown"
}

// WithObservers adds observers to the server (see Observer).
func WithObservers(obs ...Observer) ServerOption {
	return serverOptionFunc(func(s *Server) {
		for _, o := range obs {
			if o != nil {
				s.observers = append(s.observers, o)
			}
		}
	})
}

// observer combines the server's observers into one, or nil.
func (s *Server) observer() Observer {
	switch len(s.observers) {
	case 0:
		return nil
	case 1:
		return s.observers[0]
	}
	return newMultiObserver(s.observers)
}

// bindObservers gives every route its EventObserver, at Start.
func (s *Server) bindObservers() {
	o := s.obs
	if o == nil {
		return
	}
	s.rootUnknown = o.Events("/", "")
	defs := make([]*serviceDef, 0, len(s.static)+len(s.patterns))
	for _, def := range s.static {
		defs = append(defs, def)
	}
	defs = append(defs, s.patterns...)
	for _, def := range defs {
		label := def.label()
		def.unknownObs = o.Events(label, "")
		for _, rt := range def.routes {
			rt.obs = o.Events(label, rt.event)
		}
	}
	s.store = observedStore{Store: s.store, obs: o}
}

// label is how observers name the service's namespace.
func (d *serviceDef) label() string {
	if d.pattern != nil {
		return d.patternSrc
	}
	return d.name
}

// labelOf is how observers name the namespace name (a concrete one).
func (s *Server) labelOf(name string) string { return s.labelFor(s.serviceFor(name), name) }

// observed returns the handle's server's observer, or nil.
func (n Namespace) observed() Observer {
	if n.srv == nil || n.bc != nil {
		return nil
	}
	return n.srv.obs
}

// clusterOp reports a request to the other nodes, with a cluster.
func (n Namespace) clusterOp(o Observer, op string, err error, start time.Time) {
	if o != nil && n.srv.cluster != nil {
		o.ClusterRequest(op, ackOutcome(err), time.Since(start))
	}
}

// observeEnd reports an event's end to its handler observer.
func observeEnd(ho EventObserver, st *eventState, err error, d time.Duration) {
	switch {
	case err == nil || errors.Is(err, ErrNoAck):
		ho.Finished(OutcomeOK, "", d)
	case errors.Is(err, errPanicked):
		ho.Finished(OutcomePanic, CodeInternal, d)
	case st.ran.Load():
		ho.Finished(OutcomeError, CodeOf(err), d)
	default:
		ho.Finished(OutcomeRejected, CodeOf(err), d)
	}
}

// ackOutcome classifies the error of an EmitWithAck.
func ackOutcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, cluster.ErrTimeout):
		return "timeout"
	}
	return "error"
}

// observedStore reports a session store's operations.
type observedStore struct {
	session.Store
	obs Observer
}

func (o observedStore) Save(ctx context.Context, rec session.Record, ttl time.Duration) error {
	err := o.Store.Save(ctx, rec, ttl)
	o.obs.SessionStore("save", err)
	return err
}

func (o observedStore) Take(ctx context.Context, id string) (session.Record, bool, error) {
	rec, ok, err := o.Store.Take(ctx, id)
	o.obs.SessionStore("take", err)
	return rec, ok, err
}

func (o observedStore) Delete(ctx context.Context, id string) error {
	err := o.Store.Delete(ctx, id)
	o.obs.SessionStore("delete", err)
	return err
}

func (o observedStore) Expired(ctx context.Context, now time.Time) ([]session.Record, error) {
	recs, err := o.Store.Expired(ctx, now)
	o.obs.SessionStore("expired", err)
	return recs, err
}

// multiObserver fans out to several observers; the engine's reports go
// through its multiWire.
type multiObserver struct {
	multiWire
	all []Observer
}

func newMultiObserver(obs []Observer) multiObserver {
	w := make(multiWire, len(obs))
	for i, o := range obs {
		w[i] = o
	}
	return multiObserver{multiWire: w, all: obs}
}

func (m multiObserver) SocketConnected(ns string, recovered bool) {
	for _, o := range m.all {
		o.SocketConnected(ns, recovered)
	}
}

func (m multiObserver) SocketRejected(ns string, code Code) {
	for _, o := range m.all {
		o.SocketRejected(ns, code)
	}
}

func (m multiObserver) SocketDisconnected(ns, reason string) {
	for _, o := range m.all {
		o.SocketDisconnected(ns, reason)
	}
}

func (m multiObserver) RecoveryAttempted(ns string, recovered bool) {
	for _, o := range m.all {
		o.RecoveryAttempted(ns, recovered)
	}
}

func (m multiObserver) Events(ns, event string) EventObserver {
	hs := make(multiHandler, len(m.all))
	for i, o := range m.all {
		hs[i] = o.Events(ns, event)
	}
	return hs
}

func (m multiObserver) EventSent(ns, event string) {
	for _, o := range m.all {
		o.EventSent(ns, event)
	}
}

func (m multiObserver) AckWaited(ns, outcome string, d time.Duration) {
	for _, o := range m.all {
		o.AckWaited(ns, outcome, d)
	}
}

func (m multiObserver) ClusterRequest(op, outcome string, d time.Duration) {
	for _, o := range m.all {
		o.ClusterRequest(op, outcome, d)
	}
}

func (m multiObserver) SessionStore(op string, err error) {
	for _, o := range m.all {
		o.SessionStore(op, err)
	}
}

type multiHandler []EventObserver

func (m multiHandler) Received() {
	for _, h := range m {
		h.Received()
	}
}

func (m multiHandler) Started() {
	for _, h := range m {
		h.Started()
	}
}

func (m multiHandler) Finished(o Outcome, c Code, d time.Duration) {
	for _, h := range m {
		h.Finished(o, c, d)
	}
}
