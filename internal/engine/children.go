package engine

import (
	"reflect"
	"regexp"
	"sync"
	"time"
	"unsafe"

	"github.com/zishang520/socket.io/servers/socket/v3"
)

// ChildLimit bounds the child namespaces of one pattern (Options.Patterns,
// by index in Options.ChildLimits).
type ChildLimit struct {
	// Max is the most children the pattern may have at once; a client
	// asking for one more is refused as for an unknown namespace. Zero is
	// no limit.
	Max int
	// Idle is how long a child stays once its last socket left; then it is
	// removed (its adapter closed). Zero removes it at once. A limit is on
	// when Max or Idle is set; without one, children stay for good.
	Idle time.Duration
}

func (l ChildLimit) on() bool { return l.Max > 0 || l.Idle > 0 }

// children counts the live children of the limited patterns and removes
// idle ones. The engine's own removal (its cleanupEmptyChildNamespaces
// option, on when any pattern is limited) is what runs, later for Idle.
type children struct {
	mu      sync.Mutex
	count   map[int]int            // by pattern index
	logged  map[int]time.Time      // last refusal logged, by pattern index
	pending map[string]*time.Timer // idle children waiting for removal, by name
	stopped bool
}

func (d *Driver) limitsOn() bool {
	for _, l := range d.opts.ChildLimits {
		if l.on() {
			return true
		}
	}
	return false
}

func (d *Driver) childLimit(i int) ChildLimit {
	if i < len(d.opts.ChildLimits) {
		return d.opts.ChildLimits[i]
	}
	return ChildLimit{}
}

// bindPattern binds pattern i, limited or not.
func (d *Driver) bindPattern(i int, p *regexp.Regexp) {
	l := d.childLimit(i)
	if l.Max <= 0 {
		d.bind(d.io.Of(p, nil), false)
		return
	}
	match := func(name string, _ map[string]any, next func(error, bool)) {
		if !p.MatchString(name) {
			next(nil, false)
			return
		}
		now := time.Now()
		d.kids.mu.Lock()
		full := d.kids.count[i] >= l.Max
		logIt := full && now.Sub(d.kids.logged[i]) >= time.Minute
		if logIt {
			d.kids.logged[i] = now
		}
		d.kids.mu.Unlock()
		if logIt {
			d.log.Warn("socketfx: namespace refused: its pattern has as many children as it may (logged once a minute per pattern)",
				"namespace", name, "pattern", p.String(), "max", l.Max)
		}
		next(nil, !full)
	}
	d.bind(d.io.Of(socket.ParentNspNameMatchFn(&match), nil), false)
}

// adoptChild takes over the removal of a new child of pattern i.
func (d *Driver) adoptChild(i int, nsp socket.Namespace) {
	if !d.limitsOn() {
		return
	}
	l := d.childLimit(i)
	if !l.on() {
		nsp.Cleanup(nil) // the option is on for another pattern: keep this one's children
		return
	}
	remove := engineCleanup(nsp)
	if remove == nil {
		d.log.Warn("socketfx: cannot remove idle child namespaces with this engine version", "namespace", nsp.Name())
		return
	}
	name := nsp.Name()
	d.kids.mu.Lock()
	d.kids.count[i]++
	d.kids.mu.Unlock()
	var once sync.Once
	gone := func() {
		once.Do(func() {
			remove()
			d.kids.mu.Lock()
			d.kids.count[i]--
			delete(d.kids.pending, name)
			d.kids.mu.Unlock()
		})
	}
	nsp.Cleanup(func() {
		if nsp.Sockets().Len() > 0 {
			return
		}
		if l.Idle <= 0 {
			gone()
			return
		}
		d.kids.mu.Lock()
		defer d.kids.mu.Unlock()
		if d.kids.stopped || d.kids.pending[name] != nil {
			return
		}
		d.kids.pending[name] = time.AfterFunc(l.Idle, func() {
			d.kids.mu.Lock()
			delete(d.kids.pending, name)
			d.kids.mu.Unlock()
			if nsp.Sockets().Len() == 0 {
				gone()
			}
		})
	})
}

// stopChildren stops the idle timers (Shutdown).
func (d *Driver) stopChildren() {
	d.kids.mu.Lock()
	defer d.kids.mu.Unlock()
	d.kids.stopped = true
	for name, t := range d.kids.pending {
		t.Stop()
		delete(d.kids.pending, name)
	}
}

// engineCleanup returns the removal the engine set on a child namespace
// (parent-namespace.go, with cleanupEmptyChildNamespaces): it closes the
// adapter and forgets the child, through fields it keeps unexported. Nil
// if the layout changed.
func engineCleanup(nsp socket.Namespace) func() {
	v := reflect.ValueOf(nsp)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	f := v.Elem().FieldByName("_cleanup")
	if !f.IsValid() || !f.CanAddr() || f.Kind() != reflect.Func {
		return nil
	}
	fn := reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem() //nolint:gosec // the field's own type
	if fn.IsNil() {
		return nil
	}
	call, ok := fn.Interface().(func())
	if !ok {
		if c, ok2 := fn.Convert(reflect.TypeFor[func()]()).Interface().(func()); ok2 {
			return c
		}
		return nil
	}
	return call
}
