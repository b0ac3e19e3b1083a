package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socketfx/socketfx/internal/engine/recovery"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Namespace is the engine adapter of one namespace: the engine's in-memory
// adapter for local sockets, with cross-node delivery on top.
type Namespace struct {
	socket.Adapter // local rooms and delivery

	bus              Bus
	uid              string
	logger           *slog.Logger
	name             string
	requestTimeout   time.Duration
	heartbeatTimeout time.Duration

	broadcastPrefix    string // <prefix>#<nsp>#
	broadcastPattern   string
	requestChannel     string
	responseChannel    string
	ownResponseChannel string
	heartbeatChannel   string

	mu      sync.Mutex
	peers   map[string]time.Time // socketfx node uid → last heartbeat
	pending map[string]*pending  // requestId → request waiting for answers
	acks    map[string]*ackWait  // requestId → broadcast with ack
	closed  bool
	foreign atomic.Int64 // Node servers on this namespace

	rec    *recovery.Options // nil without connection-state recovery
	stream recovery.Log
	gate   recovery.Gate
}

type pending struct {
	kind    int
	expect  int
	got     int
	sockets []socket.SocketDetails
	replies []any
	done    func(error)
	timer   *time.Timer
}

type ackWait struct {
	count func(uint64)
	ack   socket.Ack
	timer *time.Timer
}

func newNamespace(bus Bus, nsp socket.Namespace, rec *recovery.Options) *Namespace {
	a := &Namespace{
		Adapter: socket.MakeAdapter(),
		bus:     bus,
		uid:     bus.UID(),
		logger:  bus.Logger(),
		name:    nsp.Name(),
		peers:   map[string]time.Time{},
		pending: map[string]*pending{},
		acks:    map[string]*ackWait{},
	}
	a.requestTimeout, a.heartbeatTimeout = bus.Timeouts()
	p := bus.Prefix()
	a.broadcastPrefix = p + "#" + a.name + "#"
	a.broadcastPattern = globEscape(a.broadcastPrefix) + "*"
	a.requestChannel = p + "-request#" + a.name + "#"
	a.responseChannel = p + "-response#" + a.name + "#"
	a.ownResponseChannel = a.responseChannel + a.uid + "#"
	a.heartbeatChannel = p + "-heartbeat#" + a.name + "#"
	if rec != nil {
		a.rec = rec
		a.stream = bus.Stream(p + "-stream#" + a.name + "#")
	}
	a.Prototype(a)
	a.Construct(nsp)
	return a
}

// Init subscribes to the namespace's channels and announces the node.
func (a *Namespace) Init() {
	a.Adapter.Init()
	if err := a.bus.Register(a); err != nil {
		a.logger.Warn("adapter: namespace not joined to the cluster yet (go-redis subscribes again when Redis returns)", "namespace", a.name, "error", err)
	}
	a.beat(beatInitial)
}

// Close leaves the cluster for this namespace.
func (a *Namespace) Close() {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.closed = true
	a.mu.Unlock()
	if !a.bus.Closed() {
		a.beat(beatGoodbye)
	}
	a.FailPending(ErrClosed)
	a.bus.Unregister(a)
	a.Adapter.Close()
}

// SayGoodbye tells the other nodes at once that this one leaves.
func (a *Namespace) SayGoodbye(ctx context.Context) {
	b, _ := encode(heartbeat{UID: a.uid, Type: beatGoodbye})
	_ = a.bus.PublishNow(ctx, a.heartbeatChannel, b)
}

// ServerCount is this node, the socketfx nodes whose heartbeats are
// current, and the Node servers subscribed to the namespace.
func (a *Namespace) ServerCount() int64 {
	a.mu.Lock()
	n := int64(1 + len(a.peers))
	a.mu.Unlock()
	return n + a.foreign.Load()
}

func (a *Namespace) remote(opts *socket.BroadcastOptions) bool {
	return opts == nil || opts.Flags == nil || !opts.Flags.Local
}

// Broadcast delivers to local sockets and publishes for the other nodes
// (on the room's own channel when there is exactly one room, as Node does,
// so that nodes without that room skip the message unread).
func (a *Namespace) Broadcast(p *parser.Packet, opts *socket.BroadcastOptions) {
	if a.rec != nil && recovery.Eligible(p, opts) {
		if a.bus.Healthy() {
			recovery.Stamp(*a.rec, a.stream, a.name, p, opts)
		} else {
			a.bus.Dropped(1) // not kept for recovery while Redis is away
		}
	}
	if a.remote(opts) {
		a.publishBroadcast(p, opts)
	}
	a.gate.Deliver(p, opts, a.Adapter.Broadcast)
}

// Recovered implements recovery.Recoverer.
func (a *Namespace) Recovered(sid string) { a.gate.Finish(sid, a.Adapter.Broadcast) }

// Abandoned implements recovery.Recoverer.
func (a *Namespace) Abandoned(sid string) { a.gate.Forget(sid) }

func (a *Namespace) publishBroadcast(p *parser.Packet, opts *socket.BroadcastOptions) {
	p.Nsp = a.name
	wp, err := packetToWire(p)
	if err != nil {
		a.logger.Error("adapter: cannot encode a broadcast for the other nodes; only local sockets get it", "namespace", a.name, "error", err)
		return
	}
	wo := optsToWire(opts)
	b, err := encodeBroadcast(a.uid, wp, wo)
	if err != nil {
		a.logger.Error("adapter: cannot encode a broadcast for the other nodes; only local sockets get it", "namespace", a.name, "error", err)
		return
	}
	ch := a.broadcastPrefix
	if len(wo.Rooms) == 1 {
		ch += wo.Rooms[0] + "#"
	}
	_ = a.bus.Publish(ch, b)
}

// BroadcastWithAck asks the other nodes to broadcast too; each reports how
// many clients it reached and forwards their acks.
func (a *Namespace) BroadcastWithAck(p *parser.Packet, opts *socket.BroadcastOptions, count func(uint64), ack socket.Ack) {
	if a.remote(opts) {
		p.Nsp = a.name
		if err := a.publishBroadcastWithAck(p, opts, count, ack); err != nil {
			a.logger.Debug("adapter: broadcast with ack reaches local sockets only", "namespace", a.name, "error", err)
		}
	}
	a.Adapter.BroadcastWithAck(p, opts, count, ack)
}

func (a *Namespace) publishBroadcastWithAck(p *parser.Packet, opts *socket.BroadcastOptions, count func(uint64), ack socket.Ack) error {
	wp, err := packetToWire(p)
	if err != nil {
		return err
	}
	id := newRequestID()
	b, err := encode(message{UID: a.uid, RequestID: id, Type: reqBroadcast, Packet: wp, Opts: ptr(optsToWire(opts))})
	if err != nil {
		return err
	}
	timeout := a.requestTimeout
	if opts != nil && opts.Flags != nil && opts.Flags.Timeout != nil {
		timeout = *opts.Flags.Timeout
	}
	w := &ackWait{count: count, ack: ack}
	a.mu.Lock()
	a.acks[id] = w
	w.timer = time.AfterFunc(timeout, func() {
		a.mu.Lock()
		delete(a.acks, id)
		a.mu.Unlock()
	})
	a.mu.Unlock()
	return a.bus.Publish(a.requestChannel, b)
}

// FetchSockets returns the local sockets and those of every other node.
func (a *Namespace) FetchSockets(opts *socket.BroadcastOptions) func(func([]socket.SocketDetails, error)) {
	local := a.Adapter.FetchSockets(opts)
	return func(cb func([]socket.SocketDetails, error)) {
		local(func(mine []socket.SocketDetails, err error) {
			if err != nil || !a.remote(opts) {
				cb(mine, err)
				return
			}
			if !a.bus.Healthy() {
				cb(nil, fmt.Errorf("adapter: fetch sockets of %s: %w", a.name, a.bus.Health()))
				return
			}
			others := a.ServerCount() - 1
			if others <= 0 {
				cb(mine, nil)
				return
			}
			id := newRequestID()
			b, err := encode(message{UID: a.uid, RequestID: id, Type: reqRemoteFetch, Opts: ptr(optsToWire(opts))})
			if err != nil {
				cb(nil, err)
				return
			}
			p := &pending{kind: reqRemoteFetch, expect: int(others), sockets: mine}
			p.done = func(err error) {
				if err != nil {
					cb(nil, fmt.Errorf("adapter: fetch sockets of %s: %w", a.name, err))
					return
				}
				cb(p.sockets, nil)
			}
			a.request(id, p, b)
		})
	}
}

// request registers p, publishes the request and fails p after the
// request timeout.
func (a *Namespace) request(id string, p *pending, payload []byte) {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		p.done(ErrClosed)
		return
	}
	a.pending[id] = p
	p.timer = time.AfterFunc(a.requestTimeout, func() {
		if p := a.take(id); p != nil {
			p.done(fmt.Errorf("%w (%d of %d answered within %v)", ErrTimeout, p.got, p.expect, a.requestTimeout))
		}
	})
	a.mu.Unlock()
	if err := a.bus.Publish(a.requestChannel, payload); err != nil {
		if p := a.take(id); p != nil {
			p.done(err)
		}
	}
}

func (a *Namespace) take(id string) *pending {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.pending[id]
	if !ok {
		return nil
	}
	delete(a.pending, id)
	p.timer.Stop()
	return p
}

// FailPending ends every request waiting for other nodes with err.
func (a *Namespace) FailPending(err error) {
	a.mu.Lock()
	ps := a.pending
	a.pending = map[string]*pending{}
	for id, w := range a.acks {
		w.timer.Stop()
		delete(a.acks, id)
	}
	a.mu.Unlock()
	for _, p := range ps {
		p.timer.Stop()
		p.done(err)
	}
}

// AddSockets makes the sockets opts selects join rooms, here and on every
// other node (no answer is awaited, as in Node).
func (a *Namespace) AddSockets(opts *socket.BroadcastOptions, rooms []socket.Room) {
	a.Adapter.AddSockets(opts, rooms)
	if a.remote(opts) {
		a.publishRequest(message{Type: reqRemoteJoin, Opts: ptr(optsToWire(opts)), Rooms: fromRooms(rooms)})
	}
}

// DelSockets is AddSockets for leaving rooms.
func (a *Namespace) DelSockets(opts *socket.BroadcastOptions, rooms []socket.Room) {
	a.Adapter.DelSockets(opts, rooms)
	if a.remote(opts) {
		a.publishRequest(message{Type: reqRemoteLeave, Opts: ptr(optsToWire(opts)), Rooms: fromRooms(rooms)})
	}
}

// DisconnectSockets disconnects the sockets opts selects, here and on
// every other node.
func (a *Namespace) DisconnectSockets(opts *socket.BroadcastOptions, closeConn bool) {
	if a.remote(opts) {
		a.publishRequest(message{Type: reqRemoteDisconnect, Opts: ptr(optsToWire(opts)), Close: closeConn})
	}
	a.Adapter.DisconnectSockets(opts, closeConn)
}

func (a *Namespace) publishRequest(m message) {
	m.UID = a.uid
	b, err := encode(m)
	if err == nil {
		err = a.bus.Publish(a.requestChannel, b)
	}
	if err != nil {
		a.logger.Debug("adapter: request reaches this node only", "namespace", a.name, "type", m.Type, "error", err)
	}
}

// ServerSideEmit sends [event, args…] to the other nodes; when the last
// element is a socket.Ack, it is called once with every node's answer, or
// with ErrTimeout and the answers that came.
func (a *Namespace) ServerSideEmit(packet []any) error {
	if len(packet) == 0 {
		return fmt.Errorf("adapter: server side emit without an event")
	}
	ack, withAck := packet[len(packet)-1].(socket.Ack)
	if withAck {
		packet = packet[:len(packet)-1]
	}
	data, err := toWire(packet)
	if err != nil {
		return fmt.Errorf("adapter: server side emit: %w", err)
	}
	if !withAck {
		b, err := encode(message{UID: a.uid, Type: reqServerSideEmit, Data: data})
		if err != nil {
			return err
		}
		return a.bus.Publish(a.requestChannel, b)
	}
	if !a.bus.Healthy() {
		return a.bus.Health()
	}
	others := a.ServerCount() - 1
	if others <= 0 {
		ack([]any{}, nil)
		return nil
	}
	id := newRequestID()
	b, err := encode(message{UID: a.uid, RequestID: id, Type: reqServerSideEmit, Data: data})
	if err != nil {
		return err
	}
	p := &pending{kind: reqServerSideEmit, expect: int(others)}
	p.done = func(err error) { ack(p.replies, err) }
	a.request(id, p, b)
	return nil
}

// PersistSession keeps a dropped socket's session in the shared store.
func (a *Namespace) PersistSession(s *socket.SessionToPersist) {
	if a.rec != nil {
		recovery.Persist(*a.rec, a.name, s)
	}
}

// RestoreSession takes a session from the shared store and reads the
// packets its socket missed from the namespace's stream.
func (a *Namespace) RestoreSession(pid socket.PrivateSessionId, offset string) (*socket.Session, error) {
	if a.rec == nil {
		return nil, nil
	}
	return recovery.Restore(*a.rec, a.name, a.stream, &a.gate, string(pid), offset)
}

// OnMessage handles what the bus delivered on one of the namespace's channels.
func (a *Namespace) OnMessage(kind Kind, channel string, payload []byte) {
	switch kind {
	case KindBroadcast:
		a.onBroadcast(channel, payload)
	case KindRequest:
		a.onRequest(payload)
	case KindResponse:
		a.onResponse(payload)
	case KindHeartbeat:
		a.onHeartbeat(payload)
	}
}

func (a *Namespace) onBroadcast(channel string, payload []byte) {
	room := strings.TrimSuffix(strings.TrimPrefix(channel, a.broadcastPrefix), "#")
	if room != "" {
		if _, ok := a.Rooms().Load(socket.Room(room)); !ok {
			return // no local socket is in that room
		}
	}
	uid, wp, wo, err := decodeBroadcast(payload)
	if err != nil {
		a.bus.Warn("adapter: malformed broadcast from Redis ignored", "namespace", a.name, "channel", channel, "error", err)
		return
	}
	if uid == a.uid {
		return
	}
	if wp.Nsp == "" {
		wp.Nsp = "/"
	}
	if wp.Nsp != a.name {
		return
	}
	a.gate.Deliver(wp.packet(a.name), wo.options(), a.Adapter.Broadcast)
}

func (a *Namespace) onRequest(payload []byte) {
	var m message
	if err := decodeMessage(payload, &m); err != nil {
		a.bus.Warn("adapter: malformed request from Redis ignored", "namespace", a.name, "error", err)
		return
	}
	if m.UID == a.uid {
		return // applied locally already
	}
	opts := func() *socket.BroadcastOptions {
		if m.Opts == nil {
			return &socket.BroadcastOptions{Rooms: types.NewSet[socket.Room](), Except: types.NewSet[socket.Room]()}
		}
		return m.Opts.options()
	}
	switch m.Type {
	case reqRemoteJoin:
		if m.Opts != nil {
			a.Adapter.AddSockets(opts(), toRooms(m.Rooms))
		}
	case reqRemoteLeave:
		if m.Opts != nil {
			a.Adapter.DelSockets(opts(), toRooms(m.Rooms))
		}
	case reqRemoteDisconnect:
		if m.Opts != nil {
			a.Adapter.DisconnectSockets(opts(), m.Close)
		}
	case reqRemoteFetch:
		a.Adapter.FetchSockets(opts())(func(socks []socket.SocketDetails, _ error) {
			out := make([]wireSocket, 0, len(socks))
			for _, s := range socks {
				data, _ := toWire(s.Data())
				out = append(out, wireSocket{ID: string(s.Id()), Handshake: s.Handshake(), Rooms: fromRooms(s.Rooms().Keys()), Data: data})
			}
			a.respond(m, message{RequestID: m.RequestID, Type: reqRemoteFetch, Sockets: out})
		})
	case reqAllRooms:
		rooms := []string{}
		a.Rooms().Range(func(r socket.Room, _ *types.Set[socket.SocketId]) bool {
			rooms = append(rooms, string(r))
			return true
		})
		a.respond(m, message{RequestID: m.RequestID, Type: reqAllRooms, Rooms: rooms})
	case reqServerSideEmit:
		a.onServerSideEmit(m)
	case reqBroadcast:
		a.onBroadcastWithAck(m)
	}
}

func (a *Namespace) onServerSideEmit(m message) {
	args, ok := m.Data.([]any)
	if !ok || len(args) == 0 {
		return
	}
	if m.RequestID != "" {
		var once sync.Once
		reply := socket.Ack(func(res []any, _ error) {
			once.Do(func() {
				var v any
				if len(res) > 0 {
					v, _ = toWire(res[0])
				}
				a.respond(m, message{RequestID: m.RequestID, Type: reqServerSideEmit, Data: v})
			})
		})
		args = append(args, reply)
	}
	// Handlers may block: they run off the receive loop, owned by Redis.
	a.bus.Go(func() { a.Nsp().OnServerSideEmit(args) })
}

func (a *Namespace) onBroadcastWithAck(m message) {
	if m.Packet == nil {
		return
	}
	var wp wirePacket
	if err := remarshal(m.Packet, &wp); err != nil {
		a.bus.Warn("adapter: malformed broadcast request ignored", "namespace", a.name, "error", err)
		return
	}
	var opts *socket.BroadcastOptions
	if m.Opts != nil {
		opts = m.Opts.options()
	}
	a.Adapter.BroadcastWithAck(wp.packet(a.name), opts,
		func(n uint64) {
			a.respond(m, message{RequestID: m.RequestID, Type: reqBroadcastCount, ClientCount: &n})
		},
		func(args []any, _ error) {
			wargs, _ := toWire(args)
			w, _ := wargs.([]any)
			var first any
			if len(w) > 0 {
				first = w[0]
			}
			a.respond(m, message{RequestID: m.RequestID, Type: reqBroadcastAck, Packet: first, Args: w})
		})
}

// respond answers on the requester's own response channel, which both
// Node servers and socketfx nodes subscribe to.
func (a *Namespace) respond(req message, res message) {
	b, err := encode(res)
	if err != nil {
		a.logger.Error("adapter: cannot encode an answer", "namespace", a.name, "error", err)
		return
	}
	ch := a.responseChannel
	if req.UID != "" && req.UID != "emitter" {
		ch += req.UID + "#"
	}
	_ = a.bus.Publish(ch, b)
}

func (a *Namespace) onResponse(payload []byte) {
	var m message
	if err := decodeMessage(payload, &m); err != nil {
		a.bus.Warn("adapter: malformed response from Redis ignored", "namespace", a.name, "error", err)
		return
	}
	if m.RequestID == "" {
		return
	}
	a.mu.Lock()
	w, isAck := a.acks[m.RequestID]
	a.mu.Unlock()
	if isAck {
		switch m.Type {
		case reqBroadcastCount:
			if m.ClientCount != nil {
				w.count(*m.ClientCount)
			}
		case reqBroadcastAck:
			if m.Args != nil {
				w.ack(m.Args, nil)
			} else {
				w.ack([]any{m.Packet}, nil)
			}
		}
		return
	}
	a.mu.Lock()
	p, ok := a.pending[m.RequestID]
	if !ok {
		a.mu.Unlock()
		return
	}
	p.got++
	switch p.kind {
	case reqRemoteFetch:
		for _, s := range m.Sockets {
			p.sockets = append(p.sockets, remoteSocket{s})
		}
	case reqServerSideEmit:
		p.replies = append(p.replies, m.Data)
	}
	complete := p.got >= p.expect
	a.mu.Unlock()
	if complete {
		if p := a.take(m.RequestID); p != nil {
			p.done(nil)
		}
	}
}

// beat publishes a heartbeat of the given type.
func (a *Namespace) beat(kind int) {
	b, err := encode(heartbeat{UID: a.uid, Type: kind})
	if err == nil {
		_ = a.bus.Publish(a.heartbeatChannel, b)
	}
}

func (a *Namespace) onHeartbeat(payload []byte) {
	var h heartbeat
	if err := msgpackUnmarshal(payload, &h); err != nil || h.UID == a.uid || h.UID == "" {
		return
	}
	a.mu.Lock()
	if h.Type == beatGoodbye {
		delete(a.peers, h.UID)
	} else {
		a.peers[h.UID] = time.Now()
	}
	a.mu.Unlock()
	if h.Type == beatInitial {
		a.beat(beatAlive)
	}
}

// ExpirePeers stops counting the nodes whose heartbeats are overdue.
func (a *Namespace) ExpirePeers() {
	cutoff := time.Now().Add(-a.heartbeatTimeout)
	a.mu.Lock()
	defer a.mu.Unlock()
	for uid, seen := range a.peers {
		if seen.Before(cutoff) {
			delete(a.peers, uid)
			a.logger.Warn("adapter: node stopped answering; no longer counted", "namespace", a.name, "node", uid)
		}
	}
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func ptr[T any](v T) *T { return &v }
