package sockettest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/socketfx/socketfx/internal/engine"
	"github.com/socketfx/socketfx/pkg/session"
	"github.com/socketfx/socketfx/pkg/socketservice"
)

// Emit is an emit recorded on a test socket (see NewEventContext): to the
// socket itself, or a broadcast to Rooms except Except.
type Emit struct {
	// Socket is true for an emit to the socket itself (Socket.Emit).
	Socket bool
	// Rooms and Except are the rooms a broadcast targeted and excluded
	// (Socket.To, Socket.Broadcast, which excludes the socket's own id).
	Rooms, Except []string
	// Event and Args are what was emitted.
	Event string
	Args  []any
}

// recorder is the test kit's socket: it implements the engine's socket and
// broadcaster seams (internal/engine) by recording, so handlers run as on
// the server, without a network.
type recorder struct {
	id   string
	nsp  string
	hs   engine.Handshake
	sess *session.Session

	mu     sync.Mutex
	rooms  map[string]bool
	emits  []Emit
	gone   bool
	ackFun func(event string, args []any) []any
}

var (
	_ engine.Socket      = (*recorder)(nil)
	_ engine.Broadcaster = (*broadcaster)(nil)
)

func newRecorder(id, nsp string, o options) *recorder {
	auth := o.auth
	if auth == nil {
		auth = map[string]any{}
	}
	return &recorder{
		id: id, nsp: nsp, sess: session.New(id),
		hs: engine.Handshake{Auth: auth, Query: o.query, Headers: o.header, Address: "127.0.0.1", Time: time.Now()},
	}
}

func (r *recorder) record(e Emit) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.emits = append(r.emits, e)
}

func (r *recorder) emitted() []Emit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Emit(nil), r.emits...)
}

func (r *recorder) disconnected() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gone
}

func (r *recorder) setAck(fn func(event string, args []any) []any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ackFun = fn
}

func (r *recorder) ID() string                  { return r.id }
func (r *recorder) Namespace() string           { return r.nsp }
func (r *recorder) Handshake() engine.Handshake { return r.hs }
func (r *recorder) Recovered() bool             { return false }
func (r *recorder) Connected() bool             { return !r.disconnected() }
func (r *recorder) Transport() string           { return "test" }
func (r *recorder) ConnID() string              { return "conn-" + r.id }
func (r *recorder) Session() *session.Session   { return r.sess }

// Gone is false even after Disconnect, so that a spec still sees what the
// handler emitted after disconnecting.
func (r *recorder) Gone() bool { return false }

func (r *recorder) Emit(event string, args []any) error {
	r.record(Emit{Socket: true, Event: event, Args: args})
	return nil
}

func (r *recorder) EmitWithAck(_ context.Context, _ time.Duration, event string, args []any) ([]any, error) {
	r.mu.Lock()
	fn := r.ackFun
	r.mu.Unlock()
	if fn == nil {
		return nil, engine.ErrNoAck
	}
	return fn(event, args), nil
}

func (r *recorder) Join(rooms ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rooms == nil {
		r.rooms = map[string]bool{}
	}
	for _, room := range rooms {
		r.rooms[room] = true
	}
}

func (r *recorder) Leave(rooms ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, room := range rooms {
		delete(r.rooms, room)
	}
}

// Rooms returns the rooms joined, sorted, after the socket's own id room.
func (r *recorder) Rooms() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []string{r.id}
	for room := range r.rooms {
		if room != r.id {
			out = append(out, room)
		}
	}
	sort.Strings(out[1:])
	return out
}

func (r *recorder) Disconnect(bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gone = true
}

// broadcaster is the recorder as its socket's handles see it
// (engine.Broadcaster): emits are recorded, operations that need a server
// fail with socketservice.ErrNotRunning.
type broadcaster recorder

func (b *broadcaster) Emit(_ string, t engine.Target, event string, args []any) error {
	(*recorder)(b).record(Emit{Rooms: t.Rooms, Except: t.Except, Event: event, Args: args})
	return nil
}

func (b *broadcaster) EmitWithAck(context.Context, string, engine.Target, time.Duration, string, []any) ([][]any, error) {
	return nil, errNoServer()
}

func (b *broadcaster) FetchSockets(context.Context, string, engine.Target) ([]engine.RemoteSocket, error) {
	return nil, errNoServer()
}

func (b *broadcaster) SocketsJoin(string, engine.Target, []string) error  { return errNoServer() }
func (b *broadcaster) SocketsLeave(string, engine.Target, []string) error { return errNoServer() }
func (b *broadcaster) DisconnectSockets(string, engine.Target, bool) error {
	return errNoServer()
}
func (b *broadcaster) ServerSideEmit(string, string, []any) error { return errNoServer() }
func (b *broadcaster) ServerSideEmitWithAck(context.Context, string, time.Duration, string, []any) ([]any, error) {
	return nil, errNoServer()
}
func (b *broadcaster) ServerCount(string) (int, error) { return 0, errNoServer() }

func errNoServer() error {
	return fmt.Errorf("%w (a test socket only records emits)", socketservice.ErrNotRunning)
}
