package socketservice

import (
	"context"
	"fmt"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
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
	name     string
	rooms    []string
	except   []string
	volatile bool
	local    bool
}

// Name returns the namespace's name.
func (n Namespace) Name() string { return n.name }

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

func (n Namespace) operator(timeout time.Duration) (*socket.BroadcastOperator, error) {
	nsp, err := n.srv.engineNamespace(n.name)
	if err != nil {
		return nil, err
	}
	flags := &socket.BroadcastFlags{Local: n.local}
	flags.Volatile = n.volatile
	if timeout > 0 {
		flags.Timeout = &timeout
	}
	return socket.NewBroadcastOperator(nsp.Adapter(), types.NewSet(toRooms(n.rooms)...), types.NewSet(toRooms(n.except)...), flags), nil
}

// Emit sends an event to every socket the handle reaches.
func (n Namespace) Emit(event string, args ...any) error {
	if reservedEvents[event] {
		return fmt.Errorf("socketservice: %q is a reserved event name", event)
	}
	op, err := n.operator(0)
	if err != nil {
		return err
	}
	return op.Emit(event, args...)
}

// EmitWithAck sends an event and collects one acknowledgement per socket
// reached, until ctx is done or, when ctx has no deadline, for
// DefaultAckTimeout. Each element of the result is the arguments one client
// acked with. If some clients did not answer in time, the answers that came
// are returned with an error.
func (n Namespace) EmitWithAck(ctx context.Context, event string, args ...any) ([][]any, error) {
	if reservedEvents[event] {
		return nil, fmt.Errorf("socketservice: %q is a reserved event name", event)
	}
	op, err := n.operator(ackTimeout(ctx))
	if err != nil {
		return nil, err
	}
	type reply struct {
		args []any
		err  error
	}
	done := make(chan reply, 1)
	op.EmitWithAck(event, args...)(func(a []any, err error) { done <- reply{a, err} })
	select {
	case r := <-done:
		out := make([][]any, 0, len(r.args))
		for _, a := range r.args {
			if list, ok := a.([]any); ok {
				out = append(out, list)
			} else {
				out = append(out, []any{a})
			}
		}
		if r.err != nil {
			return out, fmt.Errorf("socketservice: emit %q to %s: not every client acknowledged in time: %w", event, n.name, context.DeadlineExceeded)
		}
		return out, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
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
	op, err := n.operator(0)
	if err != nil {
		return nil, err
	}
	type reply struct {
		socks []*socket.RemoteSocket
		err   error
	}
	done := make(chan reply, 1)
	op.FetchSockets()(func(s []*socket.RemoteSocket, err error) { done <- reply{s, err} })
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("socketservice: fetch sockets of %s: %w", n.name, r.err)
		}
		out := make([]RemoteSocket, 0, len(r.socks))
		for _, rs := range r.socks {
			keys := rs.Rooms().Keys()
			rooms := make([]string, len(keys))
			for i, k := range keys {
				rooms[i] = string(k)
			}
			out = append(out, RemoteSocket{
				ID: string(rs.Id()), Namespace: n.name, Rooms: rooms,
				Handshake: newHandshake(rs.Handshake()), Data: rs.Data(),
			})
		}
		return out, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// SocketsJoin makes every socket the handle reaches join rooms.
func (n Namespace) SocketsJoin(rooms ...string) error {
	op, err := n.operator(0)
	if err != nil {
		return err
	}
	op.SocketsJoin(toRooms(rooms)...)
	return nil
}

// SocketsLeave makes every socket the handle reaches leave rooms.
func (n Namespace) SocketsLeave(rooms ...string) error {
	op, err := n.operator(0)
	if err != nil {
		return err
	}
	op.SocketsLeave(toRooms(rooms)...)
	return nil
}

// DisconnectSockets disconnects every socket the handle reaches; with
// close, their whole connections are closed.
func (n Namespace) DisconnectSockets(close bool) error {
	op, err := n.operator(0)
	if err != nil {
		return err
	}
	op.DisconnectSockets(close)
	return nil
}

// Count returns how many sockets are connected to this namespace on this
// node (rooms and exceptions are not applied). It is counted by socketfx,
// not by the engine, whose own count drifts after recoveries.
func (n Namespace) Count() int {
	return n.srv.count(n.name)
}
