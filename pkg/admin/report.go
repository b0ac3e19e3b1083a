package admin

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/socketfx/socketfx/pkg/socketservice"
)

// adminKey is the session key under which the UI keeps what another node
// needs to list a socket (its connection id and transport), as the Node
// package keeps socket.data._admin. Serialized sockets leave it out.
const adminKey = "_admin"

// report is one live event for the admin namespace.
type report struct {
	event string
	args  []any
}

// isoTime is the UI's timestamp: an ISO 8601 string in UTC with
// milliseconds, what JavaScript's Date.prototype.toISOString gives.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// jsTime is JavaScript's Date.prototype.toString form, which the UI shows
// as a handshake's time.
func jsTime(t time.Time) string {
	return t.Format("Mon Jan 02 2006 15:04:05 GMT-0700 (MST)")
}

// aggKey is one bucket of the aggregated events: a second, a type and a
// subtype.
type aggKey struct {
	second  int64
	typ     string
	subType string
}

// eventBuffer counts the aggregated events per second until the next
// server_stats takes them.
type eventBuffer struct {
	mu     sync.Mutex
	counts map[aggKey]int64
}

func (b *eventBuffer) push(typ, subType string, n int64) {
	k := aggKey{second: time.Now().Unix(), typ: typ, subType: subType}
	b.mu.Lock()
	if b.counts == nil {
		b.counts = map[aggKey]int64{}
	}
	b.counts[k] += n
	b.mu.Unlock()
}

// take returns the buckets, oldest first, and empties the buffer.
func (b *eventBuffer) take() []map[string]any {
	b.mu.Lock()
	counts := b.counts
	b.counts = nil
	b.mu.Unlock()
	keys := make([]aggKey, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].second != keys[j].second {
			return keys[i].second < keys[j].second
		}
		if keys[i].typ != keys[j].typ {
			return keys[i].typ < keys[j].typ
		}
		return keys[i].subType < keys[j].subType
	})
	out := make([]map[string]any, len(keys))
	for i, k := range keys {
		e := map[string]any{"timestamp": k.second * 1000, "type": k.typ, "count": counts[k]}
		if k.subType != "" {
			e["subType"] = k.subType
		}
		out[i] = e
	}
	return out
}

// run sends the server stats every interval (and once at once) and the
// queued live reports, until stop.
func (u *UI) run(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(u.cfg.interval)
	defer tick.Stop()
	u.sendStats()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			u.sendStats()
		case r := <-u.queue:
			u.send(r)
		}
	}
}

func (u *UI) send(r report) {
	srv := u.srv.Load()
	if srv == nil {
		return
	}
	if err := srv.Of(u.cfg.namespace).Emit(r.event, r.args...); err != nil {
		u.cfg.log.Debug("admin: Admin UI report not sent", "event", r.event, "error", err)
	}
}

// serverStats is this node's server_stats.
func (u *UI) serverStats() map[string]any {
	nsps := []map[string]any{}
	if srv := u.srv.Load(); srv != nil {
		for _, ns := range srv.Namespaces() {
			nsps = append(nsps, map[string]any{"name": ns.Name, "socketsCount": ns.Sockets})
		}
	}
	return map[string]any{
		"serverId":            u.cfg.serverID,
		"hostname":            u.hostname,
		"pid":                 os.Getpid(),
		"uptime":              time.Since(u.started).Seconds(),
		"clientsCount":        u.clients.Load(),
		"pollingClientsCount": u.polling.Load(),
		"aggregatedEvents":    u.stats.take(),
		"namespaces":          nsps,
	}
}

func (u *UI) sendStats() { u.send(report{event: "server_stats", args: []any{u.serverStats()}}) }

// watched reports whether a live report can reach a UI: one is connected
// here, or (through the adapter) maybe to another node.
func (u *UI) watched() bool {
	return !u.cfg.production && (u.admins.Load() > 0 || u.clustered.Load()) && u.srv.Load() != nil
}

// enqueue queues a live report, or drops it when the queue is full.
func (u *UI) enqueue(event string, args ...any) {
	select {
	case u.queue <- report{event: event, args: args}:
	default:
		if u.dropped.Add(1)&(1<<10-1) == 1 {
			u.cfg.log.Warn("admin: Admin UI reports dropped: the queue is full", "dropped", u.dropped.Load())
		}
	}
}

func (u *UI) own(nsp string) bool { return nsp == u.cfg.namespace }

// ConnOpened implements socketservice.WireObserver.
func (u *UI) ConnOpened(transport string) {
	u.clients.Add(1)
	if transport == "polling" {
		u.polling.Add(1)
	}
	u.stats.push("rawConnection", "", 1)
}

// ConnUpgraded implements socketservice.WireObserver.
func (u *UI) ConnUpgraded(from, to string) {
	if from == "polling" && to != "polling" {
		u.polling.Add(-1)
	}
}

// ConnClosed implements socketservice.WireObserver.
func (u *UI) ConnClosed(transport, reason string) {
	u.clients.Add(-1)
	if transport == "polling" {
		u.polling.Add(-1)
	}
	u.stats.push("rawDisconnection", reason, 1)
}

// PacketIn implements socketservice.WireObserver.
func (u *UI) PacketIn(_ string, n int) {
	if n > 0 {
		u.stats.push("packetsIn", "", 1)
		u.stats.push("bytesIn", "", int64(n))
	}
}

// PacketOut implements socketservice.WireObserver.
func (u *UI) PacketOut(_ string, n int) {
	if n > 0 {
		u.stats.push("packetsOut", "", 1)
		u.stats.push("bytesOut", "", int64(n))
	}
}

// SocketConnected implements socketservice.Monitor.
func (u *UI) SocketConnected(s *socketservice.Socket) {
	if u.own(s.Namespace()) {
		u.admins.Add(1)
		return
	}
	if u.cfg.production {
		return
	}
	if sess := s.Session(); sess != nil {
		sess.Set(adminKey, adminData{ClientID: clientID(s.ConnID()), Transport: s.Transport()})
	}
	if u.watched() {
		u.enqueue("socket_connected", u.serialize(s), isoTime(time.Now()))
	}
}

// SocketUpgraded implements socketservice.Monitor.
func (u *UI) SocketUpgraded(s *socketservice.Socket, transport string) {
	if u.own(s.Namespace()) || u.cfg.production {
		return
	}
	if sess := s.Session(); sess != nil {
		sess.Set(adminKey, adminData{ClientID: clientID(s.ConnID()), Transport: transport})
	}
	if u.watched() {
		u.enqueue("socket_updated", map[string]any{"id": s.ID(), "nsp": s.Namespace(), "transport": transport})
	}
}

// SocketDisconnected implements socketservice.Monitor.
func (u *UI) SocketDisconnected(s *socketservice.Socket, reason string) {
	if u.own(s.Namespace()) {
		u.admins.Add(-1)
		return
	}
	if u.watched() {
		u.enqueue("socket_disconnected", s.Namespace(), s.ID(), reason, isoTime(time.Now()))
	}
}

// RoomJoined implements socketservice.Monitor.
func (u *UI) RoomJoined(nsp, room, id string) {
	if !u.own(nsp) && u.watched() {
		u.enqueue("room_joined", nsp, room, id, isoTime(time.Now()))
	}
}

// RoomLeft implements socketservice.Monitor.
func (u *UI) RoomLeft(nsp, room, id string) {
	if !u.own(nsp) && u.watched() {
		u.enqueue("room_left", nsp, room, id, isoTime(time.Now()))
	}
}

// EventReceived implements socketservice.Monitor.
func (u *UI) EventReceived(s *socketservice.Socket, event string, args []any) {
	if !u.own(s.Namespace()) && u.watched() {
		u.enqueue("event_received", s.Namespace(), s.ID(), eventArgs(event, args), isoTime(time.Now()))
	}
}

// EventSent implements socketservice.Monitor.
func (u *UI) EventSent(s *socketservice.Socket, event string, args []any) {
	if !u.own(s.Namespace()) && u.watched() {
		u.enqueue("event_sent", s.Namespace(), s.ID(), eventArgs(event, args), isoTime(time.Now()))
	}
}

// eventArgs is [event, ...args], copied: the handlers keep using args
// while the report waits in the queue. Binary arguments stay binary.
func eventArgs(event string, args []any) []any {
	out := make([]any, 0, len(args)+1)
	out = append(out, event)
	for _, a := range args {
		out = append(out, deepCopy(a))
	}
	return out
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	case []byte:
		return bytes.Clone(x)
	case json.RawMessage:
		return bytes.Clone(x)
	}
	return v
}

// adminData is what the UI keeps in a socket's session for other nodes.
type adminData struct {
	ClientID  string `json:"clientId"`
	Transport string `json:"transport"`
}

// clientID is the connection id as the UI shows it: cut to 12 characters.
func clientID(connID string) string {
	if len(connID) > 12 {
		return connID[:12]
	}
	return connID
}

// serialize is a socket of this node as the UI lists it.
func (u *UI) serialize(s *socketservice.Socket) map[string]any {
	data := map[string]any{}
	if sess := s.Session(); sess != nil {
		// A snapshot, decoded: a copy the handlers cannot change while the
		// report waits, in the JSON form other nodes see too.
		snap, _ := sess.Snapshot()
		for k, raw := range snap {
			var v any
			if k != adminKey && json.Unmarshal(raw, &v) == nil {
				data[k] = v
			}
		}
	}
	return socketJSON(s.ID(), clientID(s.ConnID()), s.Transport(), s.Namespace(), data, s.Handshake(), s.Rooms())
}

// serializeRemote is a socket of any node, from FetchSockets.
func serializeRemote(rs socketservice.RemoteSocket) map[string]any {
	var cid, transport string
	data := map[string]any{}
	if m, ok := rs.Data.(map[string]any); ok {
		for k, v := range m {
			if k != adminKey {
				data[k] = v
			}
		}
		if a, ok := m[adminKey].(map[string]any); ok {
			cid, _ = a["clientId"].(string)
			transport, _ = a["transport"].(string)
		}
	}
	return socketJSON(rs.ID, cid, transport, rs.Namespace, data, rs.Handshake, rs.Rooms)
}

func socketJSON(id, cid, transport, nsp string, data map[string]any, h socketservice.Handshake, rooms []string) map[string]any {
	if data == nil {
		data = map[string]any{}
	}
	if rooms == nil {
		rooms = []string{}
	}
	return map[string]any{
		"id":        id,
		"clientId":  cid,
		"transport": transport,
		"nsp":       nsp,
		"data":      data,
		"handshake": handshakeJSON(h),
		"rooms":     rooms,
	}
}

// handshakeJSON is a handshake as Node's socket.handshake, which the UI
// shows: headers with lower-case names, query values as strings (arrays
// when repeated), times in milliseconds and as JavaScript prints them.
func handshakeJSON(h socketservice.Handshake) map[string]any {
	headers := make(map[string]any, len(h.Headers))
	for k, v := range h.Headers {
		headers[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	query := make(map[string]any, len(h.Query))
	for k, v := range h.Query {
		if len(v) == 1 {
			query[k] = v[0]
		} else {
			query[k] = append([]string(nil), v...)
		}
	}
	addr := h.Headers.Get("Cf-Connecting-Ip")
	if addr == "" {
		addr = h.Headers.Get("X-Forwarded-For")
	}
	if addr == "" {
		addr = h.Address
		if host, _, err := net.SplitHostPort(addr); err == nil {
			addr = host
		}
	}
	t := h.Time
	if t.IsZero() {
		t = time.Now()
	}
	return map[string]any{
		"address": addr,
		"headers": headers,
		"query":   query,
		"issued":  t.UnixMilli(),
		"secure":  h.Secure,
		"time":    jsTime(t),
		"url":     h.URL,
		"xdomain": h.CrossDomain,
	}
}
