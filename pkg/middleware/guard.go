package middleware

import (
	"context"

	"github.com/socketfx/socketfx/pkg/socketservice"
)

// Guard lets an event through when allow returns nil; its error (a FORBIDDEN
// *Error, say) is the client's ack otherwise, and the handler does not run.
func Guard(allow func(ctx context.Context, m *socketservice.Message) error) socketservice.Middleware {
	return func(next socketservice.HandlerFunc) socketservice.HandlerFunc {
		return func(ctx context.Context, m *socketservice.Message) (any, error) {
			if err := allow(ctx, m); err != nil {
				return nil, err
			}
			return next(ctx, m)
		}
	}
}

// RequireRole lets an event through only for a socket whose identity (set
// at the handshake, e.g. by JWTAuth) has one of roles: UNAUTHORIZED without
// an identity, FORBIDDEN without the role.
func RequireRole(roles ...string) socketservice.Middleware {
	return Guard(func(ctx context.Context, m *socketservice.Message) error {
		id, ok := socketservice.IdentityFromContext(ctx)
		if !ok {
			return socketservice.NewError(socketservice.CodeUnauthorized, "unauthorized")
		}
		if !id.HasRole(roles...) {
			return socketservice.Errorf(socketservice.CodeForbidden, "%s may not send %s", id.Subject, m.Event)
		}
		return nil
	})
}
