package socketservice

import "sync"

// inflight counts running handlers and hooks. Unlike sync.WaitGroup it may
// grow from zero while someone waits (a disconnect hook queued during
// stop), and waiting needs no goroutine.
type inflight struct {
	mu       sync.Mutex
	n        int
	idle     chan struct{} // closed when n drops to 0; nil if nobody waits
	refusing bool          // the server stops: admit refuses new events
}

// admit counts a new event unless the server stopped taking them. The
// check and the count are one step, so that once refuse returned no new
// event can slip in behind a wait for idle.
func (t *inflight) admit() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.refusing {
		return false
	}
	t.n++
	return true
}

// refuse makes admit refuse from now on.
func (t *inflight) refuse() {
	t.mu.Lock()
	t.refusing = true
	t.mu.Unlock()
}

func (t *inflight) add(d int) {
	t.mu.Lock()
	t.n += d
	if t.n == 0 && t.idle != nil {
		close(t.idle)
		t.idle = nil
	}
	t.mu.Unlock()
}

func (t *inflight) done() { t.add(-1) }

// idleChan returns a channel closed once nothing is running.
func (t *inflight) idleChan() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == 0 {
		c := make(chan struct{})
		close(c)
		return c
	}
	if t.idle == nil {
		t.idle = make(chan struct{})
	}
	return t.idle
}

// serialQueue runs the tasks of one socket one at a time, in the order they
// were pushed. A push to an idle queue runs the task right away on the
// pushing goroutine (the engine's per-socket goroutine, for events), and
// then whatever was pushed meanwhile; a push to a busy queue returns at
// once, and the running goroutine takes the task over. No goroutine is
// started, and none is left behind. (A handoff to another goroutine costs
// ~10 µs per event on a 2-core machine; see docs/benchmarks.md.)
type serialQueue struct {
	mu      sync.Mutex
	tasks   []func()
	running bool
	track   *inflight // the server's
}

func (q *serialQueue) push(task func()) {
	q.track.add(1)
	q.enqueue(task)
}

// pushEvent pushes a client event's task, unless the server stopped
// admitting events (see inflight.admit).
func (q *serialQueue) pushEvent(task func()) bool {
	if !q.track.admit() {
		return false
	}
	q.enqueue(task)
	return true
}

func (q *serialQueue) enqueue(task func()) {
	q.mu.Lock()
	q.tasks = append(q.tasks, task)
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if start {
		q.run()
	}
}

func (q *serialQueue) run() {
	for {
		q.mu.Lock()
		if len(q.tasks) == 0 {
			q.running = false
			q.tasks = nil
			q.mu.Unlock()
			return
		}
		task := q.tasks[0]
		q.tasks[0] = nil
		q.tasks = q.tasks[1:]
		q.mu.Unlock()
		task()
		q.track.done()
	}
}
