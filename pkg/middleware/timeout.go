package middleware

import (
	"context"
	"time"

	"github.com/socketfx/socketfx/pkg/socketservice"
)

// Timeout gives each event a deadline. A handler still running at the
// deadline is answered with a TIMEOUT error right away and the socket's next
// events go on; the handler's context is cancelled, it finishes on its own
// goroutine, and what it returns is dropped. Handlers should honour ctx.
func Timeout(d time.Duration) socketservice.Middleware {
	return func(next socketservice.HandlerFunc) socketservice.HandlerFunc {
		return func(ctx context.Context, m *socketservice.Message) (any, error) {
			hctx, cancel := context.WithCancelCause(ctx)
			defer cancel(nil)
			type result struct {
				out any
				err error
			}
			done := make(chan result, 1)
			go func() {
				out, err := next(hctx, m)
				done <- result{out, err}
			}()
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case r := <-done:
				return r.out, r.err
			case <-t.C:
				// Answer first, then tell the handler: whatever it returns
				// now is late and dropped.
				err := socketservice.Errorf(socketservice.CodeTimeout, "the handler did not finish within %s", d)
				socketservice.Respond(ctx, nil, err)
				cancel(err)
				return nil, err
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
}
