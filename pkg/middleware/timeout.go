package middleware

import (
	"context"
	"runtime/debug"
	"sync"
	"time"

	"github.com/socketfx/socketfx/pkg/socketservice"
)

// Timeout gives each event a deadline. A handler still running at the
// deadline is answered with a TIMEOUT error (what Timeout returns to the
// middleware around it) and the socket's next events go on; the handler's
// context is cancelled with that error as its cause, the handler finishes on
// its own goroutine, and what it returns is dropped. Handlers should honour
// ctx. A panic before the deadline is passed on to the middleware around
// Timeout (so Recover and the server's recovery see it); one after the
// deadline is logged.
func Timeout(d time.Duration) socketservice.Middleware {
	return func(next socketservice.HandlerFunc) socketservice.HandlerFunc {
		return func(ctx context.Context, m *socketservice.Message) (any, error) {
			hctx, cancel := context.WithCancelCause(ctx)
			defer cancel(nil)
			var (
				mu   sync.Mutex
				late bool // set at the deadline: a later panic is only logged
			)
			done := make(chan timeoutResult, 1)
			go func() {
				defer func() {
					if r := recover(); r != nil {
						mu.Lock()
						defer mu.Unlock()
						if late {
							socketservice.LoggerFromContext(ctx).Error("middleware: handler panicked after its timeout", "panic", r, "stack", string(debug.Stack()))
							return
						}
						done <- timeoutResult{panicked: true, panic: r}
					}
				}()
				out, err := next(hctx, m)
				done <- timeoutResult{out: out, err: err}
			}()
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case r := <-done:
				return r.get()
			case <-t.C:
				mu.Lock()
				late = true
				mu.Unlock()
				select {
				case r := <-done: // finished as the timer fired
					return r.get()
				default:
				}
				err := socketservice.Errorf(socketservice.CodeTimeout, "the handler did not finish within %s", d)
				cancel(err)
				return nil, err
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
}

type timeoutResult struct {
	out      any
	err      error
	panicked bool
	panic    any
}

// get returns the handler's result, or panics again with its panic on the
// caller's goroutine.
func (r timeoutResult) get() (any, error) {
	if r.panicked {
		panic(r.panic)
	}
	return r.out, r.err
}
