package recovery

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/socketfx/socketfx/pkg/session"
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// NoOffset is the offset socketfx presents for a client that never
// received a packet: replay everything since the socket connected.
const NoOffset = "socketfx-none"

// SocketData is the engine socket's data: its session and when it first
// connected. It is what the engine keeps across a recovery.
type SocketData struct {
	Session     *session.Session
	ConnectedAt time.Time
}

// MarshalJSON shows the session's values (FetchSockets' data).
func (d *SocketData) MarshalJSON() ([]byte, error) {
	values, err := d.Session.Snapshot()
	if err != nil {
		return nil, err
	}
	return json.Marshal(values)
}

// Entry is one broadcast kept for recovery.
type Entry struct {
	Offset string
	At     time.Time
	Data   []any // event, arguments, offset
	Rooms  []string
	Except []string
}

// Log keeps recent broadcasts of one namespace.
type Log interface {
	// Append keeps a broadcast and returns its offset.
	Append(ctx context.Context, data []any, rooms, except []string) (string, error)
	// After returns the entries after offset (offset NoOffset: those at or
	// after since). ok is false when offset is no longer in the log.
	After(ctx context.Context, offset string, since time.Time) (entries []Entry, ok bool, err error)
}

// Recoverer is an adapter that holds deliveries for recovering sockets
// (see Gate): the driver tells it when a recovered socket is registered,
// or was refused.
type Recoverer interface {
	Recovered(sid string)
	Abandoned(sid string)
}

// Options are what recovery needs from the server.
type Options struct {
	Store  session.Store
	Window time.Duration
	Logger *slog.Logger
}

// timeout bounds each store or log operation, which runs on the engine's
// goroutine for the socket.
const timeout = 3 * time.Second

// Eligible reports whether a broadcast is kept: events without ack that
// are not volatile (as in Node).
func Eligible(p *parser.Packet, opts *socket.BroadcastOptions) bool {
	return p.Type == parser.EVENT && p.Id == nil && (opts == nil || opts.Flags == nil || !opts.Flags.Volatile)
}

// Stamp appends p to log and its offset to p's data. When the log fails
// the packet goes out unstamped (not recoverable), and the error is logged.
func Stamp(o Options, log Log, nsp string, p *parser.Packet, opts *socket.BroadcastOptions) {
	data, ok := p.Data.([]any)
	if !ok {
		return
	}
	var rooms, except []string
	if opts != nil {
		rooms, except = keys(opts.Rooms), keys(opts.Except)
	}
	// No deadline of its own: a memory log does not block, and a Redis
	// log's client has read and write timeouts.
	offset, err := log.Append(context.Background(), data, rooms, except)
	if err != nil {
		o.Logger.Warn("socketfx: broadcast not kept for recovery", "namespace", nsp, "error", err)
		return
	}
	p.Data = append(data[:len(data):len(data)], offset)
}

// Persist keeps a dropped socket's session for the window.
func Persist(o Options, nsp string, s *socket.SessionToPersist) {
	rec := session.Record{
		ID: string(s.Pid), SocketID: string(s.Sid), Namespace: nsp,
		Rooms: keys(s.Rooms), DisconnectedAt: time.Now(),
	}
	if d, ok := s.Data.(*SocketData); ok {
		rec.ConnectedAt = d.ConnectedAt
		values, err := d.Session.Snapshot()
		if err != nil {
			o.Logger.Error("socketfx: session not kept for recovery", "namespace", nsp, "socket", rec.SocketID, "error", err)
			return
		}
		rec.Values = values
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := o.Store.Save(ctx, rec, o.Window); err != nil {
		o.Logger.Error("socketfx: session not kept for recovery", "namespace", nsp, "socket", rec.SocketID, "error", err)
	}
}

// Restore takes a dropped socket's session and the packets it missed; nil
// when there is nothing to recover (unknown, expired, or its offset is
// older than the log).
//
// Deliveries that would reach the socket are held by gate from before the
// log is read until the driver calls gate.Finish (see Gate).
func Restore(o Options, nsp string, log Log, gate *Gate, pid, offset string) (*socket.Session, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rec, ok, err := o.Store.Take(ctx, pid)
	if err != nil || !ok {
		return nil, err
	}
	if rec.Namespace != nsp {
		return nil, nil
	}
	rooms := types.NewSet[socket.Room]()
	for _, r := range rec.Rooms {
		rooms.Add(socket.Room(r))
	}
	gate.Begin(rec.SocketID, rooms, offset)
	entries, ok, err := log.After(ctx, offset, rec.ConnectedAt)
	if err != nil || !ok {
		gate.Forget(rec.SocketID)
		o.Logger.Warn("socketfx: cannot recover a socket: its missed packets are no longer kept; it gets a new session",
			"namespace", nsp, "socket", rec.SocketID, "error", err)
		return nil, err
	}
	gate.Replayed(rec.SocketID, entries)
	missed := make([]any, 0, len(entries))
	for _, e := range entries {
		if include(rooms, e) {
			missed = append(missed, e.Data)
		}
	}
	return &socket.Session{
		SessionToPersist: &socket.SessionToPersist{
			Sid: socket.SocketId(rec.SocketID), Pid: socket.PrivateSessionId(rec.ID), Rooms: rooms,
			Data: &SocketData{Session: session.Restore(rec.SocketID, rec.Values), ConnectedAt: rec.ConnectedAt},
		},
		MissedPackets: missed,
	}, nil
}

// include reports whether a socket in rooms would have received e.
func include(rooms *types.Set[socket.Room], e Entry) bool {
	in := len(e.Rooms) == 0
	for _, r := range e.Rooms {
		if rooms.Has(socket.Room(r)) {
			in = true
			break
		}
	}
	for _, r := range e.Except {
		if rooms.Has(socket.Room(r)) {
			return false
		}
	}
	return in
}

func keys(s *types.Set[socket.Room]) []string {
	if s == nil {
		return nil
	}
	ks := s.Keys()
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return out
}
