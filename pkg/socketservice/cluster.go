package socketservice

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/socketfx/socketfx/internal/engine"
)

// Cluster joins servers on several nodes so that they act as one:
// broadcasts, acks, FetchSockets, room changes, disconnects and server
// events reach sockets on every node. pkg/adapter provides one on Redis;
// provide it with fx (adapter.Module) or pass WithCluster to New.
//
// The interface is small on purpose: a Cluster hands the server an engine
// adapter for each namespace and says whether a socket can recover its
// state on another node.
type Cluster interface {
	// EngineAdapter returns the adapter constructor the engine uses for
	// every namespace. recovery is nil unless Config.Recovery is set; then
	// the adapter keeps the sessions of dropped sockets in its Store and
	// restores them with the packets they missed, on any node.
	EngineAdapter(recovery *RecoveryOptions) engine.AdapterConstructor
	// RecoversAcrossNodes reports whether a socket that dropped on one node
	// can recover its state on another. With Config.Recovery set and a
	// cluster that cannot, Start fails rather than let recovery silently
	// work only when the client happens to reach the same node.
	RecoversAcrossNodes() bool
}

// ClusterStats is a cluster's state, for metrics (see Server.ClusterStats).
type ClusterStats struct {
	// Up reports whether the cluster's transport (Redis) works.
	Up bool
	// Nodes is how many servers the cluster counts, this one included.
	Nodes int
	// Dropped counts the messages for other nodes that were not sent
	// (the transport was away or its queue full).
	Dropped uint64
	// Sent counts the messages published for other nodes; Received those
	// that arrived, by kind ("broadcast", "request", "response",
	// "heartbeat").
	Sent     uint64
	Received map[string]uint64
}

// ClusterStatsReporter is a Cluster that reports its ClusterStats
// (adapter.Redis does).
type ClusterStatsReporter interface {
	ClusterStats() ClusterStats
}

// ClusterStats returns the cluster's state; false without a cluster, or
// with one that does not report it.
func (s *Server) ClusterStats() (ClusterStats, bool) {
	r, ok := s.cluster.(ClusterStatsReporter)
	if !ok {
		return ClusterStats{}, false
	}
	return r.ClusterStats(), true
}

// WithCluster joins the server to a cluster (see Cluster). Nil keeps the
// server on its own.
func WithCluster(c Cluster) ServerOption {
	return serverOptionFunc(func(s *Server) { s.cluster = c })
}

// ServerEventHandler handles an event another node of the cluster sent
// with Namespace.ServerSideEmit (Socket.IO's serverSideEmit). Its result is
// the answer when the sender asked for one (ServerSideEmitWithAck); an
// error is answered as {"error": {code, message, …}}, the error object of a
// client's error ack without its status.
type ServerEventHandler func(ctx context.Context, args []any) (any, error)

// OnServerEvent handles event when another node of the cluster sends it to
// this namespace (see Namespace.ServerSideEmit). Server events never reach
// clients, and clients cannot send them.
func (r *Router) OnServerEvent(event string, h ServerEventHandler) {
	switch {
	case h == nil:
		r.svc.errs = append(r.svc.errs, fmt.Errorf("server event %q: nil handler", event))
		return
	case event == "" || reservedEvents[event] || event == "connection" || event == "new_namespace":
		r.svc.errs = append(r.svc.errs, fmt.Errorf("server event %q is reserved", event))
		return
	}
	if r.svc.serverEvents == nil {
		r.svc.serverEvents = map[string]ServerEventHandler{}
	}
	if _, dup := r.svc.serverEvents[event]; dup {
		r.svc.errs = append(r.svc.errs, fmt.Errorf("server event %q registered twice", event))
		return
	}
	r.svc.serverEvents[event] = h
}

func (s *Server) runServerEvent(nsp, event string, h ServerEventHandler, args []any, reply func([]any)) {
	s.inflight.add(1)
	defer s.inflight.done()
	var (
		res any
		err error
	)
	func() {
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("socketservice: panic in server event handler", "namespace", nsp, "event", event, "panic", p)
				err = NewError(CodeInternal, "internal server error")
			}
		}()
		res, err = h(s.ctx, args)
	}()
	if err != nil {
		s.log.Warn("socketservice: server event handler failed", "namespace", nsp, "event", event, "error", err)
	}
	if reply == nil {
		return
	}
	if err != nil {
		reply([]any{map[string]any{"error": wireError(err, s.cfg.ExposeErrors)}})
		return
	}
	reply([]any{res})
}

// ServerSideEmit sends a server event to this namespace on every other
// node of the cluster (see Router.OnServerEvent). Without a cluster it
// fails: there is no other node to reach.
func (n Namespace) ServerSideEmit(event string, args ...any) error {
	b, err := n.clusterBroadcaster(event)
	if err != nil {
		return err
	}
	return b.ServerSideEmit(n.name, event, args)
}

// ServerSideEmitWithAck sends a server event to every other node and waits
// for each node's answer, until ctx is done or, when ctx has no deadline,
// for DefaultAckTimeout. When the cluster's own request timeout ends the
// wait first, the answers that came are returned with its error (e.g.
// adapter.ErrTimeout); when ctx or DefaultAckTimeout ends it, no answers
// are returned and the error wraps context.DeadlineExceeded.
func (n Namespace) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]any, error) {
	b, err := n.clusterBroadcaster(event)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	replies, err := b.ServerSideEmitWithAck(ctx, n.name, ackTimeout(ctx), event, args)
	if errors.Is(err, engine.ErrNoAck) {
		err = fmt.Errorf("socketservice: server event %q on %s: not every node answered in time: %w", event, n.name, context.DeadlineExceeded)
		replies = nil
	}
	n.clusterOp(n.observed(), "server_side_emit", err, start)
	return replies, err
}

// ErrNoCluster is returned by ServerSideEmit on a server without a cluster.
var ErrNoCluster = errors.New("socketservice: no cluster: server events need a multi-node adapter (pkg/adapter)")

func (n Namespace) clusterBroadcaster(event string) (engine.Broadcaster, error) {
	if event == "" || reservedEvents[event] {
		return nil, fmt.Errorf("socketservice: %q is a reserved event name", event)
	}
	if n.bc == nil && n.srv != nil && n.srv.cluster == nil {
		return nil, ErrNoCluster
	}
	b, _, err := n.resolve()
	return b, err
}

// ServerCount returns how many nodes serve this namespace: 1 without a
// cluster; with one, this node and every node the cluster counts as alive.
func (n Namespace) ServerCount() (int, error) {
	b, _, err := n.resolve()
	if err != nil {
		return 0, err
	}
	return b.ServerCount(n.name)
}
