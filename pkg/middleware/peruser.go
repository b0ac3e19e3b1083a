package middleware

import (
	"context"
	"time"

	"github.com/socketfx/socketfx/pkg/socketservice"
)

// SocketsPerUserConfig configures SocketsPerUser.
type SocketsPerUserConfig struct {
	// Max is the most sockets one identity (Identity.Subject) may have in
	// the namespace at once. Required, positive.
	Max int
	// Local counts the sockets of this node only. By default they are
	// counted on every node of the cluster (through the adapter; on one
	// node without a cluster), which costs a round trip per connection.
	Local bool
	// Timeout bounds the cluster-wide count; past it the connection is
	// refused with SERVICE_UNAVAILABLE rather than let through uncounted.
	// Zero is 2 s.
	Timeout time.Duration
}

// UserRoom is the room SocketsPerUser puts each socket of an identity in
// (and counts): "socketfx:user:<subject>". Emitting to it reaches every
// socket of the user, on every node.
func UserRoom(subject string) string { return "socketfx:user:" + subject }

// SocketsPerUser is connection middleware that refuses a socket whose
// identity already has cfg.Max sockets in the namespace: the client gets
// connect_error "too many connections for this user" with data.code
// RATE_LIMITED. Put it after the middleware that sets the identity
// (r.UseConnect(auth, middleware.SocketsPerUser(cfg))); sockets without an
// identity are let through. Concurrent connections of one user may pass
// the count together: the bound is exact for connections that arrive one
// after another, and overshoots by at most the ones that race.
func SocketsPerUser(cfg SocketsPerUserConfig) socketservice.ConnectMiddleware {
	if cfg.Max <= 0 {
		panic("middleware: SocketsPerUser needs a positive Max")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	return socketservice.ConnectGuard(func(ctx context.Context, s *socketservice.Socket) error {
		id, ok := s.Identity()
		if !ok || id.Subject == "" {
			return nil
		}
		room := UserRoom(id.Subject)
		others := s.To(room) // this socket excluded: a recovered one is in the room already
		if cfg.Local {
			others = others.Local()
		}
		cctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
		socks, err := others.FetchSockets(cctx)
		if err != nil {
			return socketservice.NewError(socketservice.CodeUnavailable, "cannot count this user's connections").WithCause(err)
		}
		if len(socks) >= cfg.Max {
			return socketservice.NewError(socketservice.CodeRateLimited, "too many connections for this user").
				WithData("max", cfg.Max)
		}
		s.Join(room)
		return nil
	})
}
