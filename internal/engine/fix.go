// Workarounds for measured defects of the zishang520 engine that need its
// unexported state: they read the engine's queues and timers and fix their
// lifecycle from the outside, without copying or patching engine code.
// docs/engine.md lists every defect, its spec, and its status in v3.0.6.
//
//   - Memory leak (v3.0.2; fixed in v3.0.6, kept as a no-op guard): each
//     pkg/queue.Queue set a finalizer on an object on a reference cycle, so
//     the runtime never collected it. Finalizers are cleared as soon as a
//     queue is seen.
//   - Goroutine leak: when the client closes a websocket, the transport is
//     marked closed before the engine calls Close on it, so its write queue
//     is never closed. fixTransport wraps the engine's transport
//     constructors to close the write queue of every transport when it
//     closes.
//   - Timer goroutine leak: utils.SetTimeout starts a goroutine that waits
//     on the timer or on an unbuffered stop channel, and ClearTimeout sends
//     on that channel without blocking. A timer cleared before its goroutine
//     reached its select leaves the goroutine waiting forever. A reaper
//     retries that stop, without blocking, for a while after the engine
//     cleared the timer.

package engine

import (
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/queue"
	"github.com/zishang520/socket.io/v3/pkg/types"
	"github.com/zishang520/socket.io/v3/pkg/utils"
)

// fixTransport wraps an engine transport constructor so that every transport
// it makes (the first one, an upgrade, an upgrade probe that never
// completes) has its queue's finalizer cleared, and its write queue closed
// when the transport closes, however it closes.
func fixTransport(c transports.TransportCtor) transports.TransportCtor {
	return transportCtor{c}
}

type transportCtor struct{ transports.TransportCtor }

func (c transportCtor) New(ctx *types.HttpContext) transports.Transport {
	t := c.TransportCtor.New(ctx)
	if q := transportQueue(t); q != nil {
		releaseQueue(q)
		_ = t.Once("close", func(...any) { q.TryClose() })
	}
	return t
}

// releaseSocket clears the finalizer of a socket's task queue. The engine
// closes the queue itself when the socket is cleaned up.
func releaseSocket(s *socket.Socket) {
	releaseQueue(fieldQueue(reflect.ValueOf(s), "taskQueue"))
}

// transportQueue returns a transport's write queue, or nil if the transport
// has none (or the engine's layout changed; the specs would notice).
func transportQueue(t transports.Transport) *queue.Queue {
	if t == nil {
		return nil
	}
	return fieldQueue(reflect.ValueOf(t), "writeQueue")
}

// fieldQueue finds a *queue.Queue field named name in the struct v points
// to, looking through embedded interfaces and structs (the polling-JSONP
// transport embeds the polling one).
func fieldQueue(v reflect.Value, name string) *queue.Queue {
	for depth := 0; depth < 4; depth++ {
		for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return nil
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct || !v.CanAddr() {
			return nil
		}
		if f := v.FieldByName(name); f.IsValid() && f.Type() == reflect.TypeFor[*queue.Queue]() {
			return *(**queue.Queue)(unsafe.Pointer(f.UnsafeAddr()))
		}
		next := reflect.Value{}
		for i := 0; i < v.NumField(); i++ {
			if sf := v.Type().Field(i); sf.Anonymous && sf.Type.Kind() == reflect.Interface {
				next = v.Field(i)
				break
			}
		}
		if !next.IsValid() {
			return nil
		}
		v = reflect.NewAt(next.Type(), unsafe.Pointer(next.UnsafeAddr())).Elem()
	}
	return nil
}

func releaseQueue(q *queue.Queue) {
	if q != nil {
		runtime.SetFinalizer(q, nil)
	}
}

// clientConnectTimer returns the connect timeout timer of a socket.io client
// (nil once the engine cleared it, or if the layout changed).
func clientConnectTimer(c *socket.Client) *utils.Timer {
	if c == nil {
		return nil
	}
	v := reflect.ValueOf(c).Elem()
	f := v.FieldByName("connectTimeout")
	if !f.IsValid() || f.Type() != reflect.TypeFor[atomic.Pointer[utils.Timer]]() {
		return nil
	}
	return (*atomic.Pointer[utils.Timer])(unsafe.Pointer(f.UnsafeAddr())).Load()
}

// connTimers returns the ping timers of an engine connection. Hand them to
// a Reaper from the connection's close event: the engine clears them first.
func connTimers(conn engine.Socket) []*utils.Timer {
	v := reflect.ValueOf(conn)
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	var out []*utils.Timer
	for _, name := range []string{"pingIntervalTimer", "pingTimeoutTimer"} {
		f := v.FieldByName(name)
		if !f.IsValid() || f.Type() != reflect.TypeFor[atomic.Pointer[utils.Timer]]() || !f.CanAddr() {
			continue
		}
		if t := (*atomic.Pointer[utils.Timer])(unsafe.Pointer(f.UnsafeAddr())).Load(); t != nil {
			out = append(out, t)
		}
	}
	return out
}

func timerStop(t *utils.Timer) chan struct{} {
	if t == nil {
		return nil
	}
	f := reflect.ValueOf(t).Elem().FieldByName("stopCh")
	if !f.IsValid() || f.Type() != reflect.TypeFor[chan struct{}]() {
		return nil
	}
	return *(*chan struct{})(unsafe.Pointer(f.UnsafeAddr()))
}

// reaper wakes the goroutines of engine timers that missed their stop. It
// owns one goroutine, from newReaper to Close.
type reaper struct {
	mu      sync.Mutex
	closed  bool
	pending []reapEntry
	stop    chan struct{}
	done    chan struct{}
}

type reapEntry struct {
	ch    chan struct{}
	until time.Time
}

// reapFor is how long a cleared timer's goroutine is given to show up;
// drainFor bounds the extra passes at Close, drainStep spaces them.
const (
	reapFor   = 2 * time.Second
	drainFor  = 50 * time.Millisecond
	drainStep = 5 * time.Millisecond
)

// newReaper starts a reaper that retries every interval.
func newReaper(interval time.Duration) *reaper {
	r := &reaper{stop: make(chan struct{}), done: make(chan struct{})}
	go r.loop(interval)
	return r
}

// Add hands over timers the engine has cleared or that have fired; never a
// pending one, whose goroutine a stop would end before it fires.
func (r *reaper) Add(timers ...*utils.Timer) {
	until := time.Now().Add(reapFor)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range timers {
		ch := timerStop(t)
		switch {
		case ch == nil:
		case r.closed:
			select { // one last try
			case ch <- struct{}{}:
			default:
			}
		default:
			r.pending = append(r.pending, reapEntry{ch: ch, until: until})
		}
	}
}

func (r *reaper) loop(interval time.Duration) {
	defer close(r.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			// Timers handed over just now may belong to goroutines that
			// have not parked yet: keep trying a little longer.
			end := time.Now().Add(drainFor)
			for time.Now().Before(end) && r.pass(false) > 0 {
				time.Sleep(drainStep)
			}
			r.pass(true)
			return
		case <-t.C:
			r.pass(false)
		}
	}
}

// pass tries every pending timer once and returns how many remain.
func (r *reaper) pass(final bool) int {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if final {
		r.closed = true
	}
	keep := r.pending[:0]
	for _, e := range r.pending {
		select {
		case e.ch <- struct{}{}:
			continue // woke a stuck goroutine
		default:
		}
		if !final && now.Before(e.until) {
			keep = append(keep, e)
		}
	}
	clear(r.pending[len(keep):])
	r.pending = keep
	return len(keep)
}

// Close makes a last pass and stops the reaper's goroutine.
func (r *reaper) Close() {
	close(r.stop)
	<-r.done
}

// privateID returns a socket's private session id (the engine keeps it
// unexported), or "" if there is none or the layout changed.
func privateID(s *socket.Socket) string {
	if s == nil {
		return ""
	}
	f := reflect.ValueOf(s).Elem().FieldByName("pid")
	if !f.IsValid() || f.Kind() != reflect.String {
		return ""
	}
	return f.String()
}
