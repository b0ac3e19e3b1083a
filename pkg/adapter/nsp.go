package adapter

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"github.com/socketfx/socketfx/internal/engine/recovery"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// nspAdapter is the engine adapter of one namespace: the engine's in-memory
// adapter for local sockets, with cross-node delivery on top.
type nspAdapter struct {
	socket.Adapter // local rooms and delivery

	r    *Redis
	name string

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

	rec *recovery.Options // nil without connection-state recovery
	log *streamLog
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

func newNspAdapter(r *Redis, nsp socket.Namespace, rec *recovery.Options) *nspAdapter {
	a := &nspAdapter{
		Adapter: socket.MakeAdapter(),
		r:       r,
		name:    nsp.Name(),
		peers:   map[string]time.Time{},
		pending: map[string]*pending{},
		acks:    map[string]*ackWait{},
	}
	p := r.cfg.Prefix
	a.broadcastPrefix = p + "#" + a.name + "#"
	a.broadcastPattern = globEscape(a.broadcastPrefix) + "*"
	a.requestChannel = p + "-request#" + a.name + "#"
	a.responseChannel = p + "-response#" + a.name + "#"
	a.ownResponseChannel = a.responseChannel + r.uid + "#"
	a.heartbeatChannel = p + "-heartbeat#" + a.name + "#"
	if rec != nil {
		a.rec = rec
		a.log = &streamLog{r: r, key: p + "-stream#" + a.name + "#"}
	}
	a.Prototype(a)
	a.Construct(nsp)
	return a
}

// Init subscribes to the namespace's channels and announces the node.
func (a *nspAdapter) Init() {
	a.Adapter.Init()
	if err := a.r.register(a); err != nil {
		a.r.log.Warn("adapter: namespace not joined to the cluster yet (go-redis subscribes again when Redis returns)", "namespace", a.name, "error", err)
	}
	a.beat(beatInitial)
}

// Close leaves the cluster for this namespace.
func (a *nspAdapter) Close() {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.closed = true
	a.mu.Unlock()
	if !a.r.closedNow() {
		a.beat(beatGoodbye)
	}
	a.failPending(ErrClosed)
	a.r.unregister(a)
	a.Adapter.Close()
}

func (a *nspAdapter) sayGoodbye(ctx context.Context) {
	b, _ := encode(heartbeat{UID: a.r.uid, Type: beatGoodbye})
	_ = a.r.client.Publish(ctx, a.heartbeatChannel, b).Err()
}

// ServerCount is this node, the socketfx nodes whose heartbeats are
// current, and the Node servers subscribed to the namespace.
func (a *nspAdapter) ServerCount() int64 {
	a.mu.Lock()
	n := int64(1 + len(a.peers))
	a.mu.Unlock()
	return n + a.foreign.Load()
}

func (a *nspAdapter) remote(opts *socket.BroadcastOptions) bool {
	return opts == nil || opts.Flags == nil || !opts.Flags.Local
}

// Broadcast delivers to local sockets and publishes for the other nodes
// (on the room's own channel when there is exactly one room, as Node does,
// so that nodes without that room skip the message unread).
func (a *nspAdapter) Broadcast(p *parser.Packet, opts *socket.BroadcastOptions) {
	if a.rec != nil && recovery.Eligible(p, opts) {
		if a.r.healthy() {
			recovery.Stamp(*a.rec, a.log, a.name, p, opts)
		} else {
			a.r.dropped.Add(1) // not kept for recovery while Redis is away
		}
	}
	if a.remote(opts) {
		a.publishBroadcast(p, opts)
	}
	a.Adapter.Broadcast(p, opts)
}

func (a *nspAdapter) publishBroadcast(p *parser.Packet, opts *socket.BroadcastOptions) {
	p.Nsp = a.name
	wp, err := packetToWire(p)
	if err != nil {
		a.r.log.Error("adapter: cannot encode a broadcast for the other nodes; only local sockets get it", "namespace", a.name, "error", err)
		return
	}
	wo := optsToWire(opts)
	b, err := encodeBroadcast(a.r.uid, wp, wo)
	if err != nil {
		a.r.log.Error("adapter: cannot encode a broadcast for the other nodes; only local sockets get it", "namespace", a.name, "error", err)
		return
	}
	ch := a.broadcastPrefix
	if len(wo.Rooms) == 1 {
		ch += wo.Rooms[0] + "#"
	}
	_ = a.r.publish(ch, b)
}

// BroadcastWithAck asks the other nodes to broadcast too; each reports how
// many clients it reached and forwards their acks.
func (a *nspAdapter) BroadcastWithAck(p *parser.Packet, opts *socket.BroadcastOptions, count func(uint64), ack socket.Ack) {
	if a.remote(opts) {
		p.Nsp = a.name
		if err := a.publishBroadcastWithAck(p, opts, count, ack); err != nil {
			a.r.log.Debug("adapter: broadcast with ack reaches local sockets only", "namespace", a.name, "error", err)
		}
	}
	a.Adapter.BroadcastWithAck(p, opts, count, ack)
}

func (a *nspAdapter) publishBroadcastWithAck(p *parser.Packet, opts *socket.BroadcastOptions, count func(uint64), ack socket.Ack) error {
	wp, err := packetToWire(p)
	if err != nil {
		return err
	}
	id := newRequestID()
	b, err := encode(message{UID: a.r.uid, RequestID: id, Type: reqBroadcast, Packet: wp, Opts: ptr(optsToWire(opts))})
	if err != nil {
		return err
	}
	timeout := a.r.cfg.RequestTimeout
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
	return a.r.publish(a.requestChannel, b)
}

// FetchSockets returns the local sockets and those of every other node.
func (a *nspAdapter) FetchSockets(opts *socket.BroadcastOptions) func(func([]socket.SocketDetails, error)) {
	local := a.Adapter.FetchSockets(opts)
	return func(cb func([]socket.SocketDetails, error)) {
		local(func(mine []socket.SocketDetails, err error) {
			if err != nil || !a.remote(opts) {
				cb(mine, err)
				return
			}
			if !a.r.healthy() {
				cb(nil, fmt.Errorf("adapter: fetch sockets of %s: %w", a.name, a.r.Health()))
				return
			}
			others := a.ServerCount() - 1
			if others <= 0 {
				cb(mine, nil)
				return
			}
			id := newRequestID()
			b, err := encode(message{UID: a.r.uid, RequestID: id, Type: reqRemoteFetch, Opts: ptr(optsToWire(opts))})
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
func (a *nspAdapter) request(id string, p *pending, payload []byte) {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		p.done(ErrClosed)
		return
	}
	a.pending[id] = p
	p.timer = time.AfterFunc(a.r.cfg.RequestTimeout, func() {
		if p := a.take(id); p != nil {
			p.done(fmt.Errorf("%w (%d of %d answered within %v)", ErrTimeout, p.got, p.expect, a.r.cfg.RequestTimeout))
		}
	})
	a.mu.Unlock()
	if err := a.r.publish(a.requestChannel, payload); err != nil {
		if p := a.take(id); p != nil {
			p.done(err)
		}
	}
}

func (a *nspAdapter) take(id string) *pending {
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

func (a *nspAdapter) failPending(err error) {
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

// AddSockets, DelSockets and DisconnectSockets apply here and on every
// other node (no answer is awaited, as in Node).
func (a *nspAdapter) AddSockets(opts *socket.BroadcastOptions, rooms []socket.Room) {
	a.Adapter.AddSockets(opts, rooms)
	if a.remote(opts) {
		a.publishRequest(message{Type: reqRemoteJoin, Opts: ptr(optsToWire(opts)), Rooms: fromRooms(rooms)})
	}
}

func (a *nspAdapter) DelSockets(opts *socket.BroadcastOptions, rooms []socket.Room) {
	a.Adapter.DelSockets(opts, rooms)
	if a.remote(opts) {
		a.publishRequest(message{Type: reqRemoteLeave, Opts: ptr(optsToWire(opts)), Rooms: fromRooms(rooms)})
	}
}

func (a *nspAdapter) DisconnectSockets(opts *socket.BroadcastOptions, close bool) {
	if a.remote(opts) {
		a.publishRequest(message{Type: reqRemoteDisconnect, Opts: ptr(optsToWire(opts)), Close: close})
	}
	a.Adapter.DisconnectSockets(opts, close)
}

func (a *nspAdapter) publishRequest(m message) {
	m.UID = a.r.uid
	b, err := encode(m)
	if err == nil {
		err = a.r.publish(a.requestChannel, b)
	}
	if err != nil {
		a.r.log.Debug("adapter: request reaches this node only", "namespace", a.name, "type", m.Type, "error", err)
	}
}

// ServerSideEmit sends [event, args…] to the other nodes; when the last
// element is a socket.Ack, it is called once with every node's answer, or
// with ErrTimeout and the answers that came.
func (a *nspAdapter) ServerSideEmit(packet []any) error {
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
		b, err := encode(message{UID: a.r.uid, Type: reqServerSideEmit, Data: data})
		if err != nil {
			return err
		}
		return a.r.publish(a.requestChannel, b)
	}
	if !a.r.healthy() {
		return a.r.Health()
	}
	others := a.ServerCount() - 1
	if others <= 0 {
		ack([]any{}, nil)
		return nil
	}
	id := newRequestID()
	b, err := encode(message{UID: a.r.uid, RequestID: id, Type: reqServerSideEmit, Data: data})
	if err != nil {
		return err
	}
	p := &pending{kind: reqServerSideEmit, expect: int(others)}
	p.done = func(err error) { ack(p.replies, err) }
	a.request(id, p, b)
	return nil
}

// PersistSession keeps a dropped socket's session in the shared store.
func (a *nspAdapter) PersistSession(s *socket.SessionToPersist) {
	if a.rec != nil {
		recovery.Persist(*a.rec, a.name, s)
	}
}

// RestoreSession takes a session from the shared store and reads the
// packets its socket missed from the namespace's stream.
func (a *nspAdapter) RestoreSession(pid socket.PrivateSessionId, offset string) (*socket.Session, error) {
	if a.rec == nil {
		return nil, nil
	}
	return recovery.Restore(*a.rec, a.name, a.log, string(pid), offset)
}

// onMessage handles what Redis delivered on one of the namespace's channels.
func (a *nspAdapter) onMessage(kind routeKind, channel string, payload []byte) {
	switch kind {
	case routeBroadcast:
		a.onBroadcast(channel, payload)
	case routeRequest:
		a.onRequest(payload)
	case routeResponse:
		a.onResponse(payload)
	case routeHeartbeat:
		a.onHeartbeat(payload)
	}
}

func (a *nspAdapter) onBroadcast(channel string, payload []byte) {
	room := strings.TrimSuffix(strings.TrimPrefix(channel, a.broadcastPrefix), "#")
	if room != "" {
		if _, ok := a.Rooms().Load(socket.Room(room)); !ok {
			return // no local socket is in that room
		}
	}
	uid, wp, wo, err := decodeBroadcast(payload)
	if err != nil {
		a.r.warn("adapter: malformed broadcast from Redis ignored", "namespace", a.name, "channel", channel, "error", err)
		return
	}
	if uid == a.r.uid {
		return
	}
	if wp.Nsp == "" {
		wp.Nsp = "/"
	}
	if wp.Nsp != a.name {
		return
	}
	a.Adapter.Broadcast(wp.packet(a.name), wo.options())
}

func (a *nspAdapter) onRequest(payload []byte) {
	var m message
	if err := decodeMessage(payload, &m); err != nil {
		a.r.warn("adapter: malformed request from Redis ignored", "namespace", a.name, "error", err)
		return
	}
	if m.UID == a.r.uid {
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

func (a *nspAdapter) onServerSideEmit(m message) {
	args, ok := m.Data.([]any)
	if !ok || len(args) == 0 {
		return
	}
	if m.RequestID != "" {
		var once sync.Once
		var reply socket.Ack = func(res []any, _ error) {
			once.Do(func() {
				var v any
				if len(res) > 0 {
					v, _ = toWire(res[0])
				}
				a.respond(m, message{RequestID: m.RequestID, Type: reqServerSideEmit, Data: v})
			})
		}
		args = append(args, reply)
	}
	// Handlers may block: they run off the receive loop, owned by Redis.
	a.r.workers.Add(1)
	go func() {
		defer a.r.workers.Done()
		a.Nsp().OnServerSideEmit(args)
	}()
}

func (a *nspAdapter) onBroadcastWithAck(m message) {
	if m.Packet == nil {
		return
	}
	var wp wirePacket
	if err := remarshal(m.Packet, &wp); err != nil {
		a.r.warn("adapter: malformed broadcast request ignored", "namespace", a.name, "error", err)
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
func (a *nspAdapter) respond(req message, res message) {
	b, err := encode(res)
	if err != nil {
		a.r.log.Error("adapter: cannot encode an answer", "namespace", a.name, "error", err)
		return
	}
	ch := a.responseChannel
	if req.UID != "" && req.UID != "emitter" {
		ch += req.UID + "#"
	}
	_ = a.r.publish(ch, b)
}

func (a *nspAdapter) onResponse(payload []byte) {
	var m message
	if err := decodeMessage(payload, &m); err != nil {
		a.r.warn("adapter: malformed response from Redis ignored", "namespace", a.name, "error", err)
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
func (a *nspAdapter) beat(kind int) {
	b, err := encode(heartbeat{UID: a.r.uid, Type: kind})
	if err == nil {
		_ = a.r.publish(a.heartbeatChannel, b)
	}
}

func (a *nspAdapter) onHeartbeat(payload []byte) {
	var h heartbeat
	if err := msgpackUnmarshal(payload, &h); err != nil || h.UID == a.r.uid || h.UID == "" {
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

func (a *nspAdapter) expirePeers() {
	cutoff := time.Now().Add(-a.r.cfg.HeartbeatTimeout)
	a.mu.Lock()
	defer a.mu.Unlock()
	for uid, seen := range a.peers {
		if seen.Before(cutoff) {
			delete(a.peers, uid)
			a.r.log.Warn("adapter: node stopped answering; no longer counted", "namespace", a.name, "node", uid)
		}
	}
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func ptr[T any](v T) *T { return &v }
