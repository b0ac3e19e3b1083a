package middleware

import (
	"context"
	"errors"
	"runtime/debug"

	"github.com/socketfx/socketfx/pkg/socketservice"
)

// Recover recovers a panic in the middleware and handler it wraps, logs it
// once with its stack, and turns it into an error: handle(ctx, recovered)
// when given, else INTERNAL_SERVER_ERROR with the generic message. The
// socket and every other socket keep working.
//
// socketfx already recovers a panic anywhere in the chain, once, outside
// the outermost middleware; Recover is for choosing the error, or for
// recovering at a precise level so that the middleware around it still
// sees a result.
func Recover(handle func(ctx context.Context, recovered any) error) socketservice.Middleware {
	return func(next socketservice.HandlerFunc) socketservice.HandlerFunc {
		return func(ctx context.Context, m *socketservice.Message) (out any, err error) {
			defer func() {
				if r := recover(); r != nil {
					socketservice.LoggerFromContext(ctx).Error("middleware: recovered panic", "panic", r, "stack", string(debug.Stack()))
					if handle != nil {
						err = handle(ctx, r)
					}
					if err == nil {
						err = socketservice.NewError(socketservice.CodeInternal, "internal server error").WithCause(errors.New("panic"))
					}
					out = nil
				}
			}()
			return next(ctx, m)
		}
	}
}
