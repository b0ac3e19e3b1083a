package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	eio "github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// connState works around two engine races, per engine connection. It
// watches the connection's incoming packets on the "packet" event, which
// the engine emits on the reader before the socket.io layer decodes them,
// so it sees them in wire order and can hold them back.
//
//   - The engine writes a namespace's CONNECT packet before it records the
//     socket in the client's namespace map; a packet the client sends in
//     between (an event right after connecting) makes the engine close the
//     whole connection ("invalid state"). Packets for a namespace whose
//     connect is under way wait until it is complete.
//   - A client that sends DISCONNECT and closes at once races the engine's
//     two paths for them: the socket may disconnect twice, first with
//     "transport close", a reason connection-state recovery treats as
//     recoverable. DISCONNECT packets are noted here, in wire order, and
//     the reason the client meant is reported (see Driver.onDisconnect).
type connState struct {
	mu          sync.Mutex
	connecting  map[string]chan struct{}
	nConnecting atomic.Int32
	left        map[string]bool
	transport   atomic.Pointer[string] // the connection's transport, for the Observer
}

// packetSize is the size of an Engine.IO packet's payload.
func packetSize(p *packet.Packet) int {
	if l, ok := p.Data.(interface{ Len() int }); ok {
		return l.Len()
	}
	return 0
}

// connectWait bounds how long a packet waits for its namespace's connect.
const connectWait = 5 * time.Second

func (d *Driver) onEngineConnection(args ...any) {
	conn, ok := args[0].(eio.Socket)
	if !ok {
		return
	}
	// What socket.io's own connection listener does (EIO3 clients, the only
	// case it does more, are not allowed); the socket.io client's listeners
	// come first, so that ours see its state.
	socket.NewClient(d.io, conn)
	if track := d.opts.Conns; track != nil {
		var req *http.Request
		if hc := conn.Request(); hc != nil {
			req = hc.Request()
		}
		if req != nil {
			release := sync.OnceFunc(track(req))
			_ = conn.Once("close", func(...any) { release() })
			if conn.ReadyState() == "closed" { // closed before the listener was on
				release()
			}
		}
	}
	cs := &connState{}
	d.conns.Store(conn, cs)
	obs := d.opts.Observer
	if obs != nil {
		name := conn.Transport().Name()
		cs.transport.Store(&name)
		obs.ConnOpened(name)
	}
	d.watchPackets(conn, cs, obs)
	if obs != nil {
		d.observeUpgrades(conn, cs, obs)
	}
	// A poll pending on the polling transport is answered when it goes
	// (see pollSet).
	_ = conn.Once("upgrade", func(...any) { d.polls.answer(conn.Id(), true) })
	_ = conn.Once("close", func(args ...any) {
		if len(args) > 1 && args[1] != nil {
			reason, _ := args[0].(string)
			// The engine formats a nil cause into its transport errors.
			cause := strings.ReplaceAll(fmt.Sprint(args[1]), " (%!w(<nil>))", "")
			d.log.Warn("socketfx: connection closed", "reason", reason, "error", cause, "remote", conn.RemoteAddress())
		}
		if obs != nil {
			var reason string
			if len(args) > 0 {
				reason, _ = args[0].(string)
			}
			obs.ConnClosed(*cs.transport.Load(), reason)
		}
		cs.endAll()
		d.polls.answer(conn.Id(), false)
		if tr := conn.Transport(); tr != nil && tr.Name() == "polling" {
			finishPollingClose(tr)
		}
		d.conns.Delete(conn)
	})
}

// packetArg is the packet of a "packet" or "packetCreate" event.
func packetArg(args []any) *packet.Packet {
	if len(args) == 0 {
		return nil
	}
	p, _ := args[0].(*packet.Packet)
	return p
}

// watchPackets listens to the connection's packets both ways: incoming
// messages go to cs (see connState), outgoing ones get the invalid
// namespace data; obs, if any, sees them all.
func (d *Driver) watchPackets(conn eio.Socket, cs *connState, obs Observer) {
	_ = conn.On("packet", func(args ...any) {
		p := packetArg(args)
		if p == nil {
			return
		}
		if obs != nil {
			obs.PacketIn(*cs.transport.Load(), packetSize(p))
		}
		if p.Type == packet.MESSAGE {
			cs.onMessage(d, p)
		}
	})
	limit := d.opts.WriteLimit
	if d.invalidNSData == "" && obs == nil && !limit.on() {
		return
	}
	var wb *writeBacklog
	if limit.on() {
		wb = &writeBacklog{}
		_ = conn.On("flush", func(args ...any) {
			if len(args) > 0 {
				if ps, ok := args[0].([]*packet.Packet); ok {
					wb.flushed(ps)
				}
			}
		})
	}
	// One listener for all: the engine copies its listener list for every
	// packet it writes.
	_ = conn.On("packetCreate", func(args ...any) {
		p := packetArg(args)
		if p == nil {
			return
		}
		if d.invalidNSData != "" {
			d.tagInvalidNamespace(p)
		}
		size := packetSize(p)
		if obs != nil {
			obs.PacketOut(*cs.transport.Load(), size)
		}
		if wb != nil {
			if bytes, packets, over := wb.queued(size, limit); over {
				d.dropSlowConsumer(conn, bytes, packets)
			}
		}
	})
}

// WriteLimit bounds a connection's backlog: the packets the engine holds
// for it because its transport is still writing earlier ones (a client that
// stops reading). Past either bound the connection is closed.
type WriteLimit struct {
	Bytes   int64
	Packets int
}

func (l WriteLimit) on() bool { return l.Bytes > 0 || l.Packets > 0 }

// writeBacklog counts a connection's packets between their creation and
// the flush that hands them to the transport.
type writeBacklog struct {
	mu      sync.Mutex
	bytes   int64
	packets int
	dropped bool
}

func (w *writeBacklog) queued(size int, l WriteLimit) (bytes int64, packets int, over bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.bytes += int64(size)
	w.packets++
	over = !w.dropped && (l.Bytes > 0 && w.bytes > l.Bytes || l.Packets > 0 && w.packets > l.Packets)
	if over {
		w.dropped = true
	}
	return w.bytes, w.packets, over
}

func (w *writeBacklog) flushed(ps []*packet.Packet) {
	var n int64
	for _, p := range ps {
		n += int64(packetSize(p))
	}
	w.mu.Lock()
	w.bytes -= n
	w.packets -= len(ps)
	w.mu.Unlock()
}

// SlowConsumer is the close reason of a connection whose backlog passed
// Options.WriteLimit; its sockets' disconnect hooks see it.
const SlowConsumer = "slow consumer"

// dropSlowConsumer closes a connection whose backlog passed the limit. It
// runs apart from the engine's write (which may hold the adapter while it
// broadcasts): the transport is discarded and the session closed with the
// reason SlowConsumer; a write blocked on the client returns when its
// connection closes.
func (d *Driver) dropSlowConsumer(conn eio.Socket, bytes int64, packets int) {
	d.log.Warn("socketfx: slow consumer: closing a connection that does not read what it is sent",
		"remote", conn.RemoteAddress(), "sid", conn.Id(), "buffered_bytes", bytes, "buffered_packets", packets)
	closer, ok := conn.(interface{ OnClose(string, ...error) })
	go func() {
		if tr := conn.Transport(); tr != nil {
			tr.Discard()
		}
		if ok {
			closer.OnClose(SlowConsumer, fmt.Errorf("%d bytes in %d packets waiting to be written", bytes, packets))
			return
		}
		conn.Close(true)
	}()
}

// observeUpgrades reports the connection's transport upgrades.
func (d *Driver) observeUpgrades(conn eio.Socket, cs *connState, obs Observer) {
	_ = conn.On("upgrade", func(...any) {
		from := *cs.transport.Load()
		to := conn.Transport().Name()
		cs.transport.Store(&to)
		obs.ConnUpgraded(from, to)
	})
}

func (d *Driver) connState(raw *socket.Socket) *connState {
	if v, ok := d.conns.Load(raw.Conn()); ok {
		return v.(*connState)
	}
	return nil
}

// connectBegin marks the socket's namespace as connecting on its
// connection.
func (d *Driver) connectBegin(raw *socket.Socket) {
	cs := d.connState(raw)
	if cs == nil {
		return
	}
	nsp := raw.Nsp().Name()
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.connecting == nil {
		cs.connecting = map[string]chan struct{}{}
	}
	if _, ok := cs.connecting[nsp]; !ok {
		cs.connecting[nsp] = make(chan struct{})
		cs.nConnecting.Add(1)
	}
}

// connectDone releases packets held for the socket's namespace: it is
// connected (the engine has recorded it) or refused.
func (d *Driver) connectDone(raw *socket.Socket) {
	cs := d.connState(raw)
	if cs == nil {
		return
	}
	nsp := raw.Nsp().Name()
	cs.mu.Lock()
	cs.endLocked(nsp)
	cs.mu.Unlock()
}

func (cs *connState) endAll() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for nsp := range cs.connecting {
		cs.endLocked(nsp)
	}
}

// endLocked releases the packets held for nsp; cs.mu is held.
func (cs *connState) endLocked(nsp string) {
	if ch, ok := cs.connecting[nsp]; ok {
		close(ch)
		delete(cs.connecting, nsp)
		cs.nConnecting.Add(-1)
	}
}

// onMessage runs on the connection's reader for every Socket.IO packet.
func (cs *connState) onMessage(d *Driver, p *packet.Packet) {
	data, ok := p.Data.(interface{ Bytes() []byte })
	if !ok {
		return // binary attachment
	}
	b := data.Bytes() // does not consume: the socket.io layer reads it next
	if len(b) == 0 {
		return
	}
	if b[0] == '0' {
		if d.opts.Recovery != nil {
			presentNoOffset(p)
		}
		return // CONNECT
	}
	nsp := packetNamespace(b[1:])
	if b[0] == '3' {
		d.takeAck(b[1:])
	}
	if b[0] == '1' {
		cs.mu.Lock()
		if cs.left == nil {
			cs.left = map[string]bool{}
		}
		cs.left[nsp] = true
		cs.mu.Unlock()
	}
	if cs.nConnecting.Load() == 0 {
		return
	}
	cs.mu.Lock()
	ch := cs.connecting[nsp]
	cs.mu.Unlock()
	if ch != nil {
		t := time.NewTimer(connectWait)
		select {
		case <-ch:
		case <-t.C:
		}
		t.Stop()
	}
}

// takeAck delivers a text ACK packet ("3[/nsp,]<id>[…]") for one of
// socketfx's own ack ids straight from the connection's reader, so that a
// handler waiting for its own client's ack does not wait for the socket's
// queue, which it holds.
func (d *Driver) takeAck(b []byte) {
	if len(b) > 0 && b[0] == '/' {
		i := bytes.IndexByte(b, ',')
		if i < 0 {
			return
		}
		b = b[i+1:]
	}
	j := 0
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	id, err := strconv.ParseUint(string(b[:j]), 10, 64)
	if err != nil || id <= ackBase {
		return
	}
	if _, ok := d.acks.Load(id); !ok {
		return
	}
	var args []any
	if json.Unmarshal(b[j:], &args) != nil {
		return // let the engine deal with it
	}
	d.deliverAck(id, args)
}

// packetNamespace reads the namespace of a Socket.IO packet after its type
// digit: "/chat,…" or anything else for "/". Attachment counts ("1-") come
// first for binary packets. It copies only the namespace, not the packet.
func packetNamespace(b []byte) string {
	if i := bytes.IndexByte(b, '-'); i > 0 && allDigits(b[:i]) {
		b = b[i+1:]
	}
	if len(b) == 0 || b[0] != '/' {
		return "/"
	}
	if i := bytes.IndexByte(b, ','); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// leftCleanly reports (once) whether the client sent DISCONNECT for the
// socket's namespace.
func (c *Conn) leftCleanly() bool {
	cs := c.cs
	if cs == nil {
		return false
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.left[c.nsp] {
		delete(cs.left, c.nsp)
		return true
	}
	return false
}
