package socketservice

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/socketfx/socketfx/internal/engine"
)

// Namespace is a handle on one namespace, injectable anywhere through the
// *Server (Server.Of): HTTP handlers use it to push to rooms after they
// change data. It is a small value; To, In, Except, Volatile and Local
// return narrowed copies, so one handle can be shared and narrowed freely.
//
// Every operation resolves the namespace when it runs: before the fx app
// started or after it stopped it returns ErrNotRunning, never panics.
type Namespace struct {
	srv      *Server
	bc       engine.Broadcaster // a test-kit socket's handles record
	name     string
	rooms    []string
	except   []string
	volatile bool
	local    bool
}

// Name returns the namespace's name.
func (n Namespace) Name() string { return n.name }

// Param returns the value of a route parameter (or named group) in the
// namespace's name, as Socket.Param does: an init hook of "/tenant/{id}"
// reads ns.Param("id"). It is "" for a fixed namespace or an unknown name.
func (n Namespace) Param(name string) string {
	if n.srv == nil {
		return ""
	}
	n.srv.mu.RLock()
	registered := n.srv.state != stateNew
	n.srv.mu.RUnlock()
	if !registered {
		return "" // the services are registered at Start
	}
	return n.srv.serviceFor(n.name).params(n.name)[name]
}

// To narrows the handle to sockets in any of rooms.
func (n Namespace) To(rooms ...string) Namespace {
	n.rooms = append(append([]string(nil), n.rooms...), rooms...)
	return n
}

// In is the same as To.
func (n Namespace) In(rooms ...string) Namespace { return n.To(rooms...) }

// Except excludes sockets in any of rooms (a socket id is a room too).
func (n Namespace) Except(rooms ...string) Namespace {
	n.except = append(append([]string(nil), n.except...), rooms...)
	return n
}

// Volatile marks emits as droppable for clients that are not ready.
func (n Namespace) Volatile() Namespace { n.volatile = true; return n }

// Local restricts the operation to this node (with a multi-node adapter).
func (n Namespace) Local() Namespace { n.local = true; return n }

// resolve returns what runs the handle's operations and its target.
func (n Namespace) resolve() (engine.Broadcaster, engine.Target, error) {
	t := engine.Target{Rooms: n.rooms, Except: n.except, Volatile: n.volatile, Local: n.local}
	switch {
	case n.bc != nil:
		return n.bc, t, nil
	case n.srv == nil: // the zero Namespace
		return nil, t, ErrNotRunning
	}
	b, err := n.srv.broadcaster(n.name)
	return b, t, err
}

// Emit sends an event to every socket the handle reaches.
func (n Namespace) Emit(event string, args ...any) error {
	if reservedEvents[event] {
		return fmt.Errorf("socketservice: %q is a reserved event name", event)
	}
	b, t, err := n.resolve()
	if err != nil {
		return err
	}
	err = b.Emit(n.name, t, event, args)
	if o := n.observed(); o != nil && err == nil {
		o.EventSent(n.srv.labelOf(n.name), event)
	}
	return err
}

// EmitWithAck sends an event and collects one acknowledgement per socket
// reached, until ctx is done or, when ctx has no deadline, for
// DefaultAckTimeout. Each element of the result is the arguments one client
// acked with. If some clients did not answer in time, the answers that came
// are returned with an error wrapping context.DeadlineExceeded.
func (n Namespace) EmitWithAck(ctx context.Context, event string, args ...any) ([][]any, error) {
	if reservedEvents[event] {
		return nil, fmt.Errorf("socketservice: %q is a reserved event name", event)
	}
	b, t, err := n.resolve()
	if err != nil {
		return nil, err
	}
	o := n.observed()
	start := time.Now()
	replies, err := b.EmitWithAck(ctx, n.name, t, ackTimeout(ctx), event, args)
	if errors.Is(err, engine.ErrNoAck) {
		err = fmt.Errorf("socketservice: emit %q to %s: not every client acknowledged in time: %w", event, n.name, context.DeadlineExceeded)
	}
	if o != nil {
		label := n.srv.labelOf(n.name)
		o.EventSent(label, event)
		o.AckWaited(label, ackOutcome(err), time.Since(start))
		if !n.local {
			n.clusterOp(o, "broadcast_ack", err, start)
		}
	}
	return replies, err
}

// RemoteSocket describes a socket found by FetchSockets; it may live on
// another node.
type RemoteSocket struct {
	ID        string
	Namespace string
	Rooms     []string
	Handshake Handshake
	Data      any
}

// FetchSockets lists the sockets the handle reaches.
func (n Namespace) FetchSockets(ctx context.Context) ([]RemoteSocket, error) {
	b, t, err := n.resolve()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	socks, err := b.FetchSockets(ctx, n.name, t)
	if !n.local {
		n.clusterOp(n.observed(), "fetch_sockets", err, start)
	}
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil, err
		}
		return nil, fmt.Errorf("socketservice: fetch sockets of %s: %w", n.name, err)
	}
	out := make([]RemoteSocket, len(socks))
	for i, rs := range socks {
		out[i] = RemoteSocket{ID: rs.ID, Namespace: n.name, Rooms: rs.Rooms, Handshake: Handshake(rs.Handshake), Data: rs.Data}
	}
	return out, nil
}

// SocketsJoin makes every socket the handle reaches join rooms.
func (n Namespace) SocketsJoin(rooms ...string) error {
	b, t, err := n.resolve()
	if err != nil {
		return err
	}
	return b.SocketsJoin(n.name, t, rooms)
}

// SocketsLeave makes every socket the handle reaches leave rooms.
func (n Namespace) SocketsLeave(rooms ...string) error {
	b, t, err := n.resolve()
	if err != nil {
		return err
	}
	return b.SocketsLeave(n.name, t, rooms)
}

// DisconnectSockets disconnects every socket the handle reaches; with
// closeConn, their whole connections are closed.
func (n Namespace) DisconnectSockets(closeConn bool) error {
	b, t, err := n.resolve()
	if err != nil {
		return err
	}
	return b.DisconnectSockets(n.name, t, closeConn)
}

// Count returns how many sockets are connected to this namespace on this
// node (rooms and exceptions are not applied). It is counted by socketfx,
// not by the engine, whose own count drifts after recoveries.
func (n Namespace) Count() int {
	if n.srv == nil {
		return 0
	}
	return n.srv.count(n.name)
}
