package engine

import (
	"context"
	"sync"
	"time"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Target selects the sockets of a namespace an operation reaches.
type Target struct {
	Rooms, Except []string
	Volatile      bool // droppable for clients that are not ready
	Local         bool // this node only
}

// RemoteSocket is a socket found by FetchSockets, on any node.
type RemoteSocket struct {
	ID        string
	Rooms     []string
	Handshake Handshake
	Data      any // the session's values, decoded from JSON
}

// Broadcaster is what namespace handles do. *Driver implements it for
// the engine; pkg/testing/sockettest records emits.
type Broadcaster interface {
	Emit(nsp string, t Target, event string, args []any) error
	// EmitWithAck collects one ack per socket reached; when not every
	// socket answered in time it returns what came with ErrNoAck.
	EmitWithAck(ctx context.Context, nsp string, t Target, timeout time.Duration, event string, args []any) ([][]any, error)
	FetchSockets(ctx context.Context, nsp string, t Target) ([]RemoteSocket, error)
	SocketsJoin(nsp string, t Target, rooms []string) error
	SocketsLeave(nsp string, t Target, rooms []string) error
	DisconnectSockets(nsp string, t Target, closeConn bool) error
	// ServerSideEmit sends a server event to the other nodes.
	ServerSideEmit(nsp, event string, args []any) error
	// ServerSideEmitWithAck waits up to timeout for every other node's
	// answer; ErrNoAck when the wait ends first. When the cluster's own
	// request timeout ends it, the answers come with its error.
	ServerSideEmitWithAck(ctx context.Context, nsp string, timeout time.Duration, event string, args []any) ([]any, error)
	// ServerCount counts this node and every node the cluster counts as
	// alive.
	ServerCount(nsp string) (int, error)
}

var _ Broadcaster = (*Driver)(nil)

func (d *Driver) operator(nsp string, t Target) *socket.BroadcastOperator {
	return socket.NewBroadcastOperator(d.io.Of(nsp, nil).Adapter(),
		types.NewSet(toRooms(t.Rooms)...), types.NewSet(toRooms(t.Except)...), t.flags())
}

func (t Target) flags() *socket.BroadcastFlags {
	flags := &socket.BroadcastFlags{Local: t.Local}
	flags.Volatile = t.Volatile
	return flags
}

// Emit sends an event to every socket t reaches.
func (d *Driver) Emit(nsp string, t Target, event string, args []any) error {
	return d.operator(nsp, t).Emit(event, args...)
}

// EmitWithAck implements Broadcaster. The engine's own broadcast-with-ack
// flattens every client's arguments into one list and counts them as
// clients, so the driver collects the answers itself from the adapter.
func (d *Driver) EmitWithAck(ctx context.Context, nsp string, t Target, timeout time.Duration, event string, args []any) ([][]any, error) {
	flags := t.flags()
	flags.Timeout = &timeout
	adapter := d.io.Of(nsp, nil).Adapter()
	c := &ackCollector{done: make(chan struct{}), servers: -1}
	adapter.BroadcastWithAck(
		&parser.Packet{Type: parser.EVENT, Data: append([]any{event}, args...)},
		&socket.BroadcastOptions{Rooms: types.NewSet(toRooms(t.Rooms)...), Except: types.NewSet(toRooms(t.Except)...), Flags: flags},
		c.clients,
		func(reply []any, _ error) { c.reply(reply) },
	)
	c.expectServers(adapter.ServerCount())

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-c.done:
		return c.result(), nil
	case <-timer.C:
	case <-ctx.Done():
	}
	return c.result(), ErrNoAck
}

// FetchSockets lists the sockets t reaches.
func (d *Driver) FetchSockets(ctx context.Context, nsp string, t Target) ([]RemoteSocket, error) {
	type reply struct {
		socks []*socket.RemoteSocket
		err   error
	}
	done := make(chan reply, 1)
	d.operator(nsp, t).FetchSockets()(func(s []*socket.RemoteSocket, err error) { done <- reply{s, err} })
	select {
	case r := <-done:
		if r.err != nil {
			return nil, r.err
		}
		out := make([]RemoteSocket, 0, len(r.socks))
		for _, rs := range r.socks {
			keys := rs.Rooms().Keys()
			rooms := make([]string, len(keys))
			for i, k := range keys {
				rooms[i] = string(k)
			}
			out = append(out, RemoteSocket{
				ID: string(rs.Id()), Rooms: rooms,
				Handshake: newHandshake(rs.Handshake()), Data: sessionValues(rs.Data()),
			})
		}
		return out, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// SocketsJoin makes every socket t reaches join rooms.
func (d *Driver) SocketsJoin(nsp string, t Target, rooms []string) error {
	d.operator(nsp, t).SocketsJoin(toRooms(rooms)...)
	return nil
}

// SocketsLeave makes every socket t reaches leave rooms.
func (d *Driver) SocketsLeave(nsp string, t Target, rooms []string) error {
	d.operator(nsp, t).SocketsLeave(toRooms(rooms)...)
	return nil
}

// DisconnectSockets disconnects every socket t reaches.
func (d *Driver) DisconnectSockets(nsp string, t Target, closeConn bool) error {
	d.operator(nsp, t).DisconnectSockets(closeConn)
	return nil
}

// ServerSideEmit implements Broadcaster.
func (d *Driver) ServerSideEmit(nsp, event string, args []any) error {
	return d.io.Of(nsp, nil).Adapter().ServerSideEmit(append([]any{event}, args...))
}

// ServerSideEmitWithAck implements Broadcaster.
func (d *Driver) ServerSideEmitWithAck(ctx context.Context, nsp string, timeout time.Duration, event string, args []any) ([]any, error) {
	type answer struct {
		replies []any
		err     error
	}
	done := make(chan answer, 1)
	ack := socket.Ack(func(replies []any, err error) {
		select {
		case done <- answer{replies, err}:
		default:
		}
	})
	if err := d.io.Of(nsp, nil).Adapter().ServerSideEmit(append(append([]any{event}, args...), ack)); err != nil {
		return nil, err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case a := <-done:
		return a.replies, a.err
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, ErrNoAck
}

// ServerCount implements Broadcaster.
func (d *Driver) ServerCount(nsp string) (int, error) {
	return int(d.io.Of(nsp, nil).Adapter().ServerCount()), nil
}

// bindServerEvents listens on an engine namespace for server events. The
// adapter appends an answer function when the sender waits.
func (d *Driver) bindServerEvents(nsp socket.Namespace, events []string) {
	name := nsp.Name()
	for _, event := range events {
		_ = nsp.On(event, func(args ...any) {
			var reply func([]any)
			if n := len(args); n > 0 {
				if ack, ok := args[n-1].(socket.Ack); ok {
					args = args[:n-1]
					reply = func(a []any) { ack(a, nil) }
				}
			}
			d.events.ServerEvent(name, event, args, reply)
		})
	}
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
