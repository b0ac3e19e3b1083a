package socketservice

import "sync"

// serialQueue runs the tasks of one socket one at a time, in the order they
// were pushed, on a goroutine that exists only while there is work: it
// starts with the first task and ends when the queue is empty, so an idle
// socket costs no goroutine and a closed one leaves none behind.
type serialQueue struct {
	mu      sync.Mutex
	tasks   []func()
	running bool
	wg      *sync.WaitGroup // the server's in-flight counter
}

func (q *serialQueue) push(task func()) {
	q.wg.Add(1)
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
		q.wg.Done()
	}
}
