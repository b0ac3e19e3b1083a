package recovery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// MemoryLog keeps a namespace's recent broadcasts in memory for the
// recovery window (and at most MaxEntries of them). Offsets carry a prefix
// unique to the process, so an offset from before a restart is unknown
// rather than wrong.
type MemoryLog struct {
	window time.Duration
	max    int
	prefix string

	mu      sync.Mutex
	seq     uint64
	entries []Entry // in offset order
	seqs    []uint64
}

// MaxEntries bounds a MemoryLog.
const MaxEntries = 100_000

// NewMemoryLog returns an empty log keeping entries for window.
func NewMemoryLog(window time.Duration) *MemoryLog {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &MemoryLog{window: window, max: MaxEntries, prefix: hex.EncodeToString(b[:]) + "-"}
}

// Append implements Log.
func (l *MemoryLog) Append(_ context.Context, data []any, rooms, except []string) (string, error) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.trim(now)
	l.seq++
	offset := l.prefix + strconv.FormatUint(l.seq, 10)
	full := append(data[:len(data):len(data)], offset)
	l.entries = append(l.entries, Entry{Offset: offset, At: now, Data: full, Rooms: rooms, Except: except})
	l.seqs = append(l.seqs, l.seq)
	return offset, nil
}

func (l *MemoryLog) trim(now time.Time) {
	cut := 0
	for cut < len(l.entries) && (now.Sub(l.entries[cut].At) > l.window || len(l.entries)-cut >= l.max) {
		cut++
	}
	if cut > 0 {
		l.entries = append(l.entries[:0:0], l.entries[cut:]...)
		l.seqs = append(l.seqs[:0:0], l.seqs[cut:]...)
	}
}

// After implements Log.
func (l *MemoryLog) After(_ context.Context, offset string, since time.Time) ([]Entry, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.trim(time.Now())
	if offset == NoOffset {
		i := sort.Search(len(l.entries), func(i int) bool { return !l.entries[i].At.Before(since) })
		return append([]Entry(nil), l.entries[i:]...), true, nil
	}
	n, ok := strings.CutPrefix(offset, l.prefix)
	if !ok {
		return nil, false, nil
	}
	seq, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		return nil, false, nil
	}
	i := sort.Search(len(l.seqs), func(i int) bool { return l.seqs[i] >= seq })
	if i == len(l.seqs) || l.seqs[i] != seq {
		return nil, false, nil // trimmed away
	}
	return append([]Entry(nil), l.entries[i+1:]...), true, nil
}

// Builder makes single-node recovery adapters: the engine's in-memory
// adapter, a MemoryLog per namespace and the session store.
type Builder struct{ Options Options }

// New implements socket.AdapterConstructor.
func (b Builder) New(nsp socket.Namespace) socket.Adapter {
	a := &adapter{Adapter: socket.MakeAdapter(), o: b.Options, name: nsp.Name(), log: NewMemoryLog(b.Options.Window)}
	a.Prototype(a)
	a.Construct(nsp)
	return a
}

type adapter struct {
	socket.Adapter
	o    Options
	name string
	log  *MemoryLog
	gate Gate
}

func (a *adapter) Broadcast(p *parser.Packet, opts *socket.BroadcastOptions) {
	if Eligible(p, opts) {
		Stamp(a.o, a.log, a.name, p, opts)
	}
	a.gate.Deliver(p, opts, a.Adapter.Broadcast)
}

// Recovered implements Recoverer.
func (a *adapter) Recovered(sid string) { a.gate.Finish(sid, a.Adapter.Broadcast) }

// Abandoned implements Recoverer.
func (a *adapter) Abandoned(sid string) { a.gate.Forget(sid) }

func (a *adapter) PersistSession(s *socket.SessionToPersist) { Persist(a.o, a.name, s) }

func (a *adapter) RestoreSession(pid socket.PrivateSessionId, offset string) (*socket.Session, error) {
	return Restore(a.o, a.name, a.log, &a.gate, string(pid), offset)
}
