package recovery

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Gate closes a window of the engine's recovery. Restore reads the log of
// missed packets, but the engine registers the socket (so that local
// deliveries reach it) only after its connect middleware: a broadcast
// delivered in between was lost (stamped after the read), or came twice
// (stamped before the read, delivered after the registration; from another
// node, a broadcast can arrive after the registration that the read held
// already). The rolling-deploy spec measured one tick lost or doubled in
// most runs.
//
// From Begin (before the log is read) to Finish (the socket is
// registered), deliveries that would reach the socket are held for it;
// Finish delivers them in order. Each recovering socket has a floor, the
// newest offset it has (the replay's last, or the offset the client sent):
// a packet at or below it is not delivered to it again, during the window
// and for floorFor after it.
type Gate struct {
	mu      sync.RWMutex
	bufMu   sync.Mutex // pending's buffers, appended to by concurrent deliveries
	pending map[string]*catchUp
	floors  map[string]floor // after Finish
}

type catchUp struct {
	rooms *types.Set[socket.Room]
	floor string
	held  []held
	since time.Time
}

type floor struct {
	offset string
	until  time.Time
}

type held struct {
	p    *parser.Packet
	opts *socket.BroadcastOptions
}

const (
	// abandonAfter forgets a recovery whose socket never registered
	// (refused, or its connection closed first).
	abandonAfter = 30 * time.Second
	// floorFor is how long after the registration packets at or below the
	// floor are still kept from the socket (broadcasts of other nodes in
	// flight through Redis).
	floorFor = 10 * time.Second
)

// Begin starts holding deliveries for socket sid, in rooms; offset is what
// the client says it has.
func (g *Gate) Begin(sid string, rooms *types.Set[socket.Room], offset string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pending == nil {
		g.pending, g.floors = map[string]*catchUp{}, map[string]floor{}
	}
	now := time.Now()
	for id, c := range g.pending {
		if now.Sub(c.since) > abandonAfter {
			delete(g.pending, id)
		}
	}
	for id, f := range g.floors {
		if now.After(f.until) {
			delete(g.floors, id)
		}
	}
	if offset == NoOffset {
		offset = ""
	}
	g.pending[sid] = &catchUp{rooms: rooms, floor: offset, since: now}
}

// Replayed raises sid's floor to the newest of the missed packets Restore
// returned.
func (g *Gate) Replayed(sid string, entries []Entry) {
	if len(entries) == 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if c := g.pending[sid]; c != nil {
		c.floor = entries[len(entries)-1].Offset
	}
}

// Forget stops holding deliveries for sid (its recovery failed).
func (g *Gate) Forget(sid string) {
	g.mu.Lock()
	delete(g.pending, sid)
	g.mu.Unlock()
}

// Deliver delivers p locally with deliver, except to the recovering
// sockets it would reach, which hold it for Finish, and to those that have
// it already.
func (g *Gate) Deliver(p *parser.Packet, opts *socket.BroadcastOptions, deliver func(*parser.Packet, *socket.BroadcastOptions)) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if len(g.pending) == 0 && len(g.floors) == 0 {
		deliver(p, opts)
		return
	}
	off := offsetOf(p)
	var skip []socket.Room
	if len(g.pending) > 0 {
		var rooms, except []string
		if opts != nil {
			rooms, except = keys(opts.Rooms), keys(opts.Except)
		}
		e := Entry{Rooms: rooms, Except: except}
		for sid, c := range g.pending {
			if !include(c.rooms, e) {
				continue
			}
			skip = append(skip, socket.Room(sid))
			if !atOrBelow(off, c.floor) {
				g.bufMu.Lock()
				c.held = append(c.held, held{p, opts})
				g.bufMu.Unlock()
			}
		}
	}
	if off != "" && len(g.floors) > 0 {
		now := time.Now()
		for sid, f := range g.floors {
			if now.Before(f.until) && atOrBelow(off, f.offset) {
				skip = append(skip, socket.Room(sid))
			}
		}
	}
	if len(skip) > 0 {
		o := &socket.BroadcastOptions{Rooms: types.NewSet[socket.Room](), Except: types.NewSet(skip...)}
		if opts != nil {
			if opts.Rooms != nil {
				o.Rooms.Add(opts.Rooms.Keys()...)
			}
			if opts.Except != nil {
				o.Except.Add(opts.Except.Keys()...)
			}
			o.Flags = opts.Flags
		}
		opts = o
	}
	deliver(p, opts)
}

// Finish delivers what was held for sid (now registered) with deliver,
// to sid alone, and stops holding; its floor stays for floorFor.
func (g *Gate) Finish(sid string, deliver func(*parser.Packet, *socket.BroadcastOptions)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.pending[sid]
	if c == nil {
		return
	}
	delete(g.pending, sid)
	if c.floor != "" {
		g.floors[sid] = floor{offset: c.floor, until: time.Now().Add(floorFor)}
	}
	for _, h := range c.held {
		if atOrBelow(offsetOf(h.p), c.floor) {
			continue // the replay had it (the floor rose after it was held)
		}
		o := &socket.BroadcastOptions{Rooms: types.NewSet(socket.Room(sid))}
		if h.opts != nil {
			o.Flags = h.opts.Flags
		}
		deliver(h.p, o)
	}
}

// offsetOf is a stamped packet's offset, its last argument.
func offsetOf(p *parser.Packet) string {
	data, ok := p.Data.([]any)
	if !ok || len(data) == 0 {
		return ""
	}
	s, _ := data[len(data)-1].(string)
	return s
}

// atOrBelow reports whether offset off is at or below floor: both of one
// log, "<ms>-<seq>" (a Redis stream) or "<prefix>-<seq>" (a MemoryLog).
// Offsets that cannot be compared are not.
func atOrBelow(off, floor string) bool {
	if off == "" || floor == "" {
		return false
	}
	oh, os, ok1 := splitOffset(off)
	fh, fs, ok2 := splitOffset(floor)
	if !ok1 || !ok2 {
		return false
	}
	if oh != fh {
		a, errA := strconv.ParseUint(oh, 10, 64)
		b, errB := strconv.ParseUint(fh, 10, 64)
		if errA != nil || errB != nil {
			return false
		}
		return a < b
	}
	return os <= fs
}

func splitOffset(s string) (head string, seq uint64, ok bool) {
	i := strings.LastIndexByte(s, '-')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.ParseUint(s[i+1:], 10, 64)
	if err != nil {
		return "", 0, false
	}
	return s[:i], n, true
}
