package socketservice

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/socketfx/socketfx/internal/testhook"
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"

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
	fake     *testhook.Recorder // a fake socket's broadcasts are recorded
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

func (n Namespace) operator() (*socket.BroadcastOperator, error) {
	if n.srv == nil {
		return nil, fmt.Errorf("%w (a fake socket only records emits)", ErrNotRunning)
	}
	nsp, err := n.srv.engineNamespace(n.name)
	if err != nil {
		return nil, err
	}
	return socket.NewBroadcastOperator(nsp.Adapter(), types.NewSet(toRooms(n.rooms)...), types.NewSet(toRooms(n.except)...), n.flags()), nil
}

func (n Namespace) flags() *socket.BroadcastFlags {
	flags := &socket.BroadcastFlags{Local: n.local}
	flags.Volatile = n.volatile
	return flags
}

// Emit sends an event to every socket the handle reaches.
func (n Namespace) Emit(event string, args ...any) error {
	if reservedEvents[event] {
		return fmt.Errorf("socketservice: %q is a reserved event name", event)
	}
	if n.fake != nil {
		n.fake.Record(testhook.Emit{Rooms: n.rooms, Except: n.except, Event: event, Args: args})
		return nil
	}
	op, err := n.operator()
	if err != nil {
		return err
	}
	return op.Emit(event, args...)
}

// EmitWithAck sends an event and collects one acknowledgement per socket
// reached, until ctx is done or, when ctx has no deadline, for
// DefaultAckTimeout. Each element of the result is the arguments one client
// acked with. If some clients did not answer in time, the answers that came
// are returned with an error wrapping context.DeadlineExceeded.
//
// (The engine's own broadcast-with-ack flattens every client's arguments
// into one list and counts them as clients, so socketfx collects the
// answers itself from the adapter.)
func (n Namespace) EmitWithAck(ctx context.Context, event string, args ...any) ([][]any, error) {
	if reservedEvents[event] {
		return nil, fmt.Errorf("socketservice: %q is a reserved event name", event)
	}
	if n.srv == nil {
		return nil, fmt.Errorf("%w (a fake socket only records emits)", ErrNotRunning)
	}
	nsp, err := n.srv.engineNamespace(n.name)
	if err != nil {
		return nil, err
	}
	timeout := ackTimeout(ctx)
	flags := n.flags()
	flags.Timeout = &timeout
	adapter := nsp.Adapter()

	c := &ackCollector{done: make(chan struct{}), servers: -1}
	adapter.BroadcastWithAck(
		&parser.Packet{Type: parser.EVENT, Data: append([]any{event}, args...)},
		&socket.BroadcastOptions{Rooms: types.NewSet(toRooms(n.rooms)...), Except: types.NewSet(toRooms(n.except)...), Flags: flags},
		c.clients,
		func(reply []any, _ error) { c.reply(reply) },
	)
	c.expectServers(adapter.ServerCount())

	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-c.done:
		return c.result(), nil
	case <-t.C:
	case <-ctx.Done():
	}
	return c.result(), fmt.Errorf("socketservice: emit %q to %s: not every client acknowledged in time: %w", event, n.name, context.DeadlineExceeded)
}

// ackCollector gathers the answers of a broadcast with ack: every server
// reports how many clients it reached, every client answers once.
type ackCollector struct {
	mu       sync.Mutex
	servers  int64 // expected servers, -1 until known
	reported int64
	expected uint64
	replies  [][]any
	done     chan struct{}
	closed   bool
}

func (c *ackCollector) clients(n uint64) {
	c.mu.Lock()
	c.reported++
	c.expected += n
	c.check()
	c.mu.Unlock()
}

func (c *ackCollector) reply(args []any) {
	c.mu.Lock()
	c.replies = append(c.replies, append([]any(nil), args...))
	c.check()
	c.mu.Unlock()
}

func (c *ackCollector) expectServers(n int64) {
	c.mu.Lock()
	c.servers = n
	c.check()
	c.mu.Unlock()
}

func (c *ackCollector) check() {
	if !c.closed && c.servers >= 0 && c.reported >= c.servers && uint64(len(c.replies)) >= c.expected {
		c.closed = true
		close(c.done)
	}
}

func (c *ackCollector) result() [][]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]any(nil), c.replies...)
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
	op, err := n.operator()
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
				Handshake: newHandshake(rs.Handshake()), Data: sessionValues(rs.Data()),
			})
		}
		return out, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// SocketsJoin makes every socket the handle reaches join rooms.
func (n Namespace) SocketsJoin(rooms ...string) error {
	op, err := n.operator()
	if err != nil {
		return err
	}
	op.SocketsJoin(toRooms(rooms)...)
	return nil
}

// SocketsLeave makes every socket the handle reaches leave rooms.
func (n Namespace) SocketsLeave(rooms ...string) error {
	op, err := n.operator()
	if err != nil {
		return err
	}
	op.SocketsLeave(toRooms(rooms)...)
	return nil
}

// DisconnectSockets disconnects every socket the handle reaches; with
// close, their whole connections are closed.
func (n Namespace) DisconnectSockets(close bool) error {
	op, err := n.operator()
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
	if n.srv == nil {
		return 0
	}
	return n.srv.count(n.name)
}
