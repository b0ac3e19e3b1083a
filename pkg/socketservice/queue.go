package socketservice

import "sync"

// inflight counts running handlers and hooks. Unlike sync.WaitGroup it may
// grow from zero while someone waits (a disconnect hook queued during
// stop), and waiting needs no goroutine.
type inflight struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0; nil if nobody waits
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
// were pushed, on a goroutine that exists only while there is work: it
// starts with the first task and ends when the queue is empty, so an idle
// socket costs no goroutine and a closed one leaves none behind.
type serialQueue struct {
	mu      sync.Mutex
	tasks   []func()
	running bool
	track   *inflight // the server's
}

func (q *serialQueue) push(task func()) {
	q.track.add(1)
	q.mu.Lock()
	q.tasks = append(q.tasks, task)
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if start {
		go q.run()
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
